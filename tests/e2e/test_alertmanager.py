"""A real Alertmanager delivers to the service under gunicorn; records appear, then resolve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import kube_api as k
from tests.e2e.conftest import Alertmanager, Service
from tests.helpers import wait_until

pytestmark = pytest.mark.e2e


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_alertmanager_delivery_firing_then_resolved(
    start_service: Callable[..., Service],
    start_alertmanager: Callable[..., Alertmanager],
    kube_api: k.FakeKubeApi,
    tmp_path: Path,
) -> None:
    kube_api.add(
        k.namespace("billing"),
        k.deployment("billing", "payments-api", replicas=3, ready=3, revision="4"),
        k.replicaset("billing", "payments-api", "6f7c9d8b54", revision="4"),
        k.pod("billing", "payments-api-6f7c9d8b54-k2x9q", "ReplicaSet", "payments-api-6f7c9d8b54"),
    )
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    service = start_service(ALERTS_K8S_MODE="kubeconfig", ALERTS_KUBECONFIG=str(kubeconfig))
    am = start_alertmanager(service.url + "/webhooks/alertmanager")

    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    labels = {
        "alertname": "KubePodCrashLooping",
        "namespace": "billing",
        "pod": "payments-api-6f7c9d8b54-k2x9q",
        "container": "payments",
        "severity": "Critical",
        "job": "kube-state-metrics",
    }
    am.post(
        [
            {
                "labels": labels,
                "annotations": {"summary": "Pod is crash looping."},
                "startsAt": rfc3339(started),
                "generatorURL": "http://prometheus:9090/graph",
            }
        ]
    )

    def firing() -> list[dict[str, Any]]:
        return [r for r in service.alerts() if r["status"] == "firing"]

    (record,) = wait_until(firing, timeout=20, message="the firing record")
    assert record["alertname"] == "KubePodCrashLooping" and record["severity"] == "critical"
    assert record["namespace"] == "billing" and record["deployment"] == "payments-api"
    assert record["starts_at"] == rfc3339(started) and record["ends_at"] is None
    assert record["receiver"] == "release-engineer-agent" and "KubePodCrashLooping" in record["group_key"]
    assert record["validation"] == {"status": "valid", "reason": None}
    assert record["enrichment"]["rollout"]["revision"] == "4"
    assert len(record["fingerprint"]) == 16

    ended = datetime.now(UTC)
    am.post(
        [
            {
                "labels": labels,
                "annotations": {"summary": "Pod is crash looping."},
                "startsAt": rfc3339(started),
                "endsAt": rfc3339(ended),
                "generatorURL": "http://prometheus:9090/graph",
            }
        ]
    )

    def resolved() -> list[dict[str, Any]]:
        return [r for r in service.alerts() if r["status"] == "resolved"]

    (done,) = wait_until(resolved, timeout=20, message="the resolved record")
    assert done["id"] == record["id"] and done["notifications"] >= 2
    assert done["ends_at"] == rfc3339(ended)
    assert len(service.alerts()) == 1
