"""Release context, the circuit breaker, RBAC refusals and API cost, against the fake API server."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from alerts_processor.adapters.kubernetes import build_k8s_client
from alerts_processor.config import Settings
from alerts_processor.interfaces import IK8sClient
from alerts_processor.models import RawAlert, ValidationStatus
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.validate import Validator
from tests import kube_api as k
from tests.conftest import LiveServer
from tests.fakes import RecordingMetrics
from tests.helpers import alert, payload

Serve = Callable[..., LiveServer]


def shop(api: k.FakeKubeApi) -> None:
    api.add(
        k.namespace("shop"),
        k.deployment(
            "shop", "checkout", replicas=4, ready=4, revision="3", images=("shop/checkout:2.0",), generation=3
        ),
        k.replicaset(
            "shop",
            "checkout",
            "7c9d8b5f4",
            revision="2",
            replicas=0,
            images=("shop/checkout:1.9",),
            created="2026-11-28T09:00:00Z",
        ),
        k.replicaset(
            "shop",
            "checkout",
            "5d4b8c7a9",
            revision="3",
            replicas=4,
            images=("shop/checkout:2.0",),
            created="2026-11-30T10:00:00Z",
        ),
        k.replicaset("shop", "checkout-canary", "111111111", revision="8", images=("shop/checkout:3.0",)),
    )


def settings_for(settings: Settings, api: k.FakeKubeApi, tmp_path: Path, **changes: Any) -> Settings:
    kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
    return settings.with_overrides(k8s_mode="kubeconfig", kubeconfig=str(kubeconfig), **changes)


@pytest.mark.parametrize(
    ("starts_at", "suspect"),
    [
        ("2026-11-30T10:05:00Z", True),
        ("2026-11-30T10:31:00Z", False),
        ("2026-11-30T09:59:00Z", False),
    ],
)
def test_release_context_and_suspicion(
    serve: Serve, settings: Settings, kube_api: k.FakeKubeApi, tmp_path: Path, starts_at: str, suspect: bool
) -> None:
    shop(kube_api)
    server = serve(settings_for(settings, kube_api, tmp_path))
    requests.post(
        server.url + "/webhooks/alertmanager",
        timeout=5,
        json=payload(alert(starts_at=starts_at, namespace="shop", deployment="checkout")),
    )
    (record,) = server.records()
    release = record["enrichment"]["release"]
    assert release["revision"] == "3" and release["replicaset"] == "checkout-5d4b8c7a9"
    assert release["started_at"] == "2026-11-30T10:00:00.000000Z"
    assert release["previous_revision"] == "2" and release["previous_images"] == ["shop/checkout:1.9"]
    assert release["image_changes"] == [
        {"container": "checkout", "from": "shop/checkout:1.9", "to": "shop/checkout:2.0"}
    ]
    assert release["suspect"] is suspect


def test_hundred_alerts_for_ten_deployments_make_few_api_calls(
    serve: Serve, settings: Settings, kube_api: k.FakeKubeApi, tmp_path: Path
) -> None:
    kube_api.add(k.namespace("shop"))
    for d in range(10):
        kube_api.add(
            k.deployment("shop", f"svc{d}", revision="1"), k.replicaset("shop", f"svc{d}", "abc", revision="1")
        )
    kube_api.latency = 0.005
    server = serve(settings_for(settings, kube_api, tmp_path))
    alerts = [alert(namespace="shop", deployment=f"svc{i % 10}", instance=f"10.0.0.{i}") for i in range(100)]
    assert requests.post(server.url + "/webhooks/alertmanager", json=payload(*alerts), timeout=5).status_code == 202
    records = server.records(100)
    bad = [
        (r["validation"], r["enrichment"] and r["enrichment"].get("release"))
        for r in records
        if r["validation"]["status"] != "valid" or not r["enrichment"]["release"]
    ]
    assert not bad, bad[:3]
    assert kube_api.total_calls() <= 21  # 1 namespace + 10 deployments + 10 ReplicaSet lists


@pytest.mark.parametrize(
    ("fault", "outcome", "reason"),
    [
        (k.Fault(500), "unknown", "Kubernetes API answered 500"),
        (k.Fault(429), "unknown", "Kubernetes API answered 429"),
        (k.Fault(403), "unknown", "forbidden"),
        (k.Fault(200, body=b"{not json"), "unknown", "malformed response from the Kubernetes API"),
        (k.Fault(200, latency=1.0), "unknown", "Kubernetes API timed out"),
        (None, "unknown", "Kubernetes API unreachable"),
    ],
)
def test_api_faults_still_store_the_alert(
    serve: Serve,
    settings: Settings,
    kube_api: k.FakeKubeApi,
    tmp_path: Path,
    fault: k.Fault | None,
    outcome: str,
    reason: str,
) -> None:
    shop(kube_api)
    config = settings_for(settings, kube_api, tmp_path, k8s_read_timeout=0.2)
    if fault is None:
        config = config.with_overrides(kubeconfig=str(k.refused_kubeconfig(tmp_path / "refused")))
    else:
        kube_api.faults["/apis/apps/v1/namespaces/shop/deployments/"] = fault
    server = serve(config)
    requests.post(
        server.url + "/webhooks/alertmanager", timeout=5, json=payload(alert(namespace="shop", deployment="checkout"))
    )
    (record,) = server.records()
    assert record["validation"] == {"status": outcome, "reason": reason}
    assert record["alertname"] == "DeploymentUnavailable" and record["deployment"] == "checkout"


def client(api: k.FakeKubeApi, tmp_path: Path, **changes: Any) -> IK8sClient:
    return build_k8s_client(settings_for(Settings(), api, tmp_path, **changes), RecordingMetrics())


def validate(client: IK8sClient, **labels: str) -> tuple[ValidationStatus, str | None]:
    raw = RawAlert("firing", {"alertname": "X", **labels}, {}, "2026-11-30T00:00:00Z", "", "", "")
    validation = Validator(client).validate(Sanitizer().sanitize(raw)).validation
    return validation.status, validation.reason


def test_circuit_breaker_stops_calling_a_failing_api(kube_api: k.FakeKubeApi, tmp_path: Path) -> None:
    shop(kube_api)
    kube_api.faults["/api/v1/namespaces/shop"] = k.Fault(503)
    api = client(kube_api, tmp_path, k8s_breaker_threshold=2, k8s_breaker_cooldown=60)
    outcomes = [validate(api, namespace="shop", deployment="checkout") for _ in range(5)]
    assert all(status is ValidationStatus.UNKNOWN for status, _ in outcomes)
    assert outcomes[-1][1] == "Kubernetes API answered 503 (circuit open)"
    assert kube_api.total_calls() == 6  # two failing calls, each tried three times; then none


def test_forbidden_is_logged_once_per_kind(
    kube_api: k.FakeKubeApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shop(kube_api)
    kube_api.faults["/apis/apps/v1/namespaces/shop/deployments/"] = k.Fault(403)
    api = client(kube_api, tmp_path)
    with caplog.at_level(logging.ERROR, logger="alerts_processor.adapters.kubernetes"):
        for _ in range(5):
            assert validate(api, namespace="shop", deployment="checkout") == (ValidationStatus.UNKNOWN, "forbidden")
    forbidden = [r for r in caplog.records if "forbids" in r.getMessage()]
    assert len(forbidden) == 1 and getattr(forbidden[0], "kind", None) == "Deployment"
    assert (
        kube_api.total_calls() == 10
    )  # namespace + deployment per alert: 403 is neither retried nor opens the circuit


def test_replicaset_list_forbidden_keeps_the_workload_enrichment(
    serve: Serve, settings: Settings, kube_api: k.FakeKubeApi, tmp_path: Path
) -> None:
    shop(kube_api)
    kube_api.faults["/apis/apps/v1/namespaces/shop/replicasets"] = k.Fault(403)
    server = serve(settings_for(settings, kube_api, tmp_path))
    requests.post(
        server.url + "/webhooks/alertmanager", timeout=5, json=payload(alert(namespace="shop", deployment="checkout"))
    )
    (record,) = server.records()
    assert record["validation"]["status"] == "valid"
    assert record["enrichment"]["rollout"]["revision"] == "3" and record["enrichment"]["release"] is None
