"""Alertmanager delivers over HTTPS (a CA made by the test), with a bearer token and a client certificate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

from tests.e2e.conftest import Alertmanager, Service
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e
TOKEN = "am-to-processor-token"


def test_alertmanager_over_https_with_token_and_client_certificate(
    start_service: Callable[..., Service], start_alertmanager: Callable[..., Alertmanager], tmp_path: Path
) -> None:
    ca = trustme.CA()
    server, client = ca.issue_cert("127.0.0.1", "localhost"), ca.issue_cert("alertmanager.monitoring.svc")
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key", "client", "client-key")}
    ca.cert_pem.write_to_path(paths["ca"])
    server.cert_chain_pems[0].write_to_path(paths["cert"])
    server.private_key_pem.write_to_path(paths["key"])
    client.cert_chain_pems[0].write_to_path(paths["client"])
    client.private_key_pem.write_to_path(paths["client-key"])
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")

    options: dict[str, Any] = {"verify": str(paths["ca"]), "cert": (str(paths["client"]), str(paths["client-key"]))}
    service = start_service(
        options,
        ALERTS_TLS_CERT=str(paths["cert"]), ALERTS_TLS_KEY=str(paths["key"]), ALERTS_TLS_CLIENT_CA=str(paths["ca"]),
        ALERTS_WEBHOOK_TOKEN_FILE=str(token_file),
    )  # fmt: skip
    assert service.url.startswith("https://")

    # Without a client certificate the TLS handshake itself fails; with one but no token: 401.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(service.url + "/healthz", verify=str(paths["ca"]), timeout=5)
    denied = requests.post(service.url + "/webhooks/alertmanager", json={}, timeout=5, **options)
    assert denied.status_code == 401 and denied.headers["WWW-Authenticate"].startswith("Bearer")

    am = start_alertmanager(
        service.url + "/webhooks/alertmanager",
        {
            "authorization": {"type": "Bearer", "credentials": TOKEN},
            "tls_config": {"ca_file": str(paths["ca"]), "cert_file": str(paths["client"]),
                           "key_file": str(paths["client-key"])},
        },
    )  # fmt: skip
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    am.post([{"labels": {"alertname": "KubeDeploymentReplicasMismatch", "namespace": "billing",
                         "deployment": "ledger", "severity": "warning"},
              "startsAt": started.strftime("%Y-%m-%dT%H:%M:%SZ")}])  # fmt: skip
    (record,) = wait_until(service.alerts, timeout=20, message="the record delivered over HTTPS")
    assert record["alertname"] == "KubeDeploymentReplicasMismatch" and record["deployment"] == "ledger"
