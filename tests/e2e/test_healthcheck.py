"""The container's HEALTHCHECK script against the service under gunicorn, plain and over TLS."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from tests.e2e.conftest import ROOT, Service

pytestmark = pytest.mark.e2e


def healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "docker" / "healthcheck.py")], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=30)  # fmt: skip


def test_plain_and_tls(start_service: Callable[..., Service], tmp_path: Path) -> None:
    plain = start_service()
    assert healthcheck({"ALERTS_BIND": plain.url.removeprefix("http://")}).returncode == 0
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "alerts-processor.release-agent.svc")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    tls = {"ALERTS_TLS_CERT": str(tmp_path / "cert.pem"), "ALERTS_TLS_KEY": str(tmp_path / "key.pem")}
    secure = start_service({"verify": str(tmp_path / "ca.pem")}, **tls)
    assert healthcheck({"ALERTS_BIND": secure.url.removeprefix("https://"), **tls}).returncode == 0
    client = ca.issue_cert("kubelet")
    client.private_key_and_cert_chain_pem.write_to_path(tmp_path / "client.pem")
    mutual = {**tls, "ALERTS_TLS_CLIENT_CA": str(tmp_path / "ca.pem")}
    strict = start_service({"verify": str(tmp_path / "ca.pem"), "cert": str(tmp_path / "client.pem")}, **mutual)
    assert healthcheck({"ALERTS_BIND": strict.url.removeprefix("https://"), **mutual}).returncode == 0
    secure.process.stop()
    down = healthcheck({"ALERTS_BIND": secure.url.removeprefix("https://"), **tls})
    assert down.returncode != 0 and "unhealthy" in down.stderr
