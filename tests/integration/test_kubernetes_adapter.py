"""The official kubernetes client over HTTP against the fake API server: shapes, resolution, faults."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from kubernetes import client

from alerts_processor.adapters.kubernetes import API_MODULES, DisabledK8sClient, KubernetesClient, build_k8s_client
from alerts_processor.config import Settings
from alerts_processor.interfaces import IK8sClient
from alerts_processor.models import K8sUnavailable, RawAlert, ValidationStatus, WorkloadRef
from alerts_processor.pipeline.enrich import Enricher
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.validate import Validator
from tests import kube_api as k
from tests.fakes import RecordingMetrics


def client_for(api_url_or_fake: k.FakeKubeApi, tmp_path: Path, read_timeout: float = 2.0) -> IK8sClient:
    kubeconfig = api_url_or_fake.write_kubeconfig(tmp_path / "kubeconfig")
    return build_k8s_client(
        Settings(
            k8s_mode="kubeconfig", kubeconfig=str(kubeconfig), k8s_read_timeout=read_timeout, k8s_connect_timeout=0.5
        ),
        RecordingMetrics(),
    )


@pytest.fixture
def cluster(kube_api: k.FakeKubeApi) -> k.FakeKubeApi:
    kube_api.add(
        k.namespace("billing"),
        k.deployment(
            "billing",
            "payments-api",
            replicas=3,
            ready=2,
            revision="5",
            images=("registry.example/payments:2.4.1", "envoyproxy/envoy:v1.30.1"),
        ),
        k.replicaset("billing", "payments-api", "6f7c9d8b54", revision="5"),
        k.pod("billing", "payments-api-6f7c9d8b54-k2x9q", "ReplicaSet", "payments-api-6f7c9d8b54"),
        k.deployment("billing", "ledger", replicas=2, ready=0, available=0),
        k.statefulset("billing", "postgres", replicas=3, ready=3),
        k.pod("billing", "postgres-1", "StatefulSet", "postgres"),
    )
    return kube_api


def alert(**labels: str) -> RawAlert:
    return RawAlert("firing", {"alertname": "X", **labels}, {}, "2026-11-30T00:00:00Z", "", "", "")


def test_kubeconfig_mode_talks_to_the_server_with_the_token(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    client = client_for(cluster, tmp_path)
    assert isinstance(client, KubernetesClient)
    assert client.namespace_exists("billing") and not client.namespace_exists("nope")
    assert cluster.tokens and all(t == "Bearer test-token" for t in cluster.tokens)


def test_deployment_state_from_real_json(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    state = client_for(cluster, tmp_path).read_workload("billing", "Deployment", "ledger")
    assert state is not None
    # readyReplicas/availableReplicas are absent from the JSON when zero
    assert state.replicas == {"desired": 2, "current": 2, "ready": 0, "available": 0, "updated": 2, "unavailable": 2}
    assert state.revision == "1" and state.strategy == "RollingUpdate" and state.generation == 1


def test_pod_alert_is_validated_and_enriched_through_its_deployment(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    client = client_for(cluster, tmp_path)
    validated = Validator(client).validate(
        Sanitizer().sanitize(alert(namespace="billing", pod="payments-api-6f7c9d8b54-k2x9q"))
    )
    assert validated.validation.status is ValidationStatus.VALID
    assert validated.workload == WorkloadRef("Deployment", "payments-api")
    enrichment = Enricher(client).enrich(validated).enrichment
    assert enrichment is not None
    assert enrichment["replicas"]["desired"] == 3 and enrichment["replicas"]["ready"] == 2
    assert enrichment["images"] == ["envoyproxy/envoy:v1.30.1", "registry.example/payments:2.4.1"]
    assert enrichment["rollout"]["revision"] == "5"
    assert enrichment["rollout"]["state"] == "progressing"  # 2 of 3 available
    assert {c["type"] for c in enrichment["rollout"]["conditions"]} == {"Available", "Progressing"}


def test_statefulset_pod(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    client = client_for(cluster, tmp_path)
    validated = Validator(client).validate(Sanitizer().sanitize(alert(namespace="billing", pod="postgres-1")))
    assert validated.workload == WorkloadRef("StatefulSet", "postgres")
    enrichment = Enricher(client).enrich(validated).enrichment
    assert enrichment is not None and enrichment["rollout"]["revision"] == "postgres-5d8f7c9b6"
    assert enrichment["rollout"]["state"] == "complete"


def test_missing_objects_are_invalid(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    validator = Validator(client_for(cluster, tmp_path))
    result = validator.validate(Sanitizer().sanitize(alert(namespace="billing", deployment="gone")))
    assert result.validation.status is ValidationStatus.INVALID
    assert result.validation.reason == "deployment billing/gone not found"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (k.Fault(403), "forbidden"),
        (k.Fault(401), "unauthorized"),
        (k.Fault(500), "Kubernetes API answered 500"),
        (k.Fault(429), "Kubernetes API answered 429"),
        (k.Fault(200, body=b"<html>not json"), "malformed response from the Kubernetes API"),
    ],
)
def test_api_faults_give_unknown(cluster: k.FakeKubeApi, tmp_path: Path, fault: k.Fault, reason: str) -> None:
    cluster.faults["/apis/apps/v1/namespaces/billing/deployments/"] = fault
    result = Validator(client_for(cluster, tmp_path)).validate(
        Sanitizer().sanitize(alert(namespace="billing", deployment="payments-api"))
    )
    assert result.validation.status is ValidationStatus.UNKNOWN and result.validation.reason == reason


def test_5xx_and_429_are_retried_briefly_403_is_not(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    path = "/apis/apps/v1/namespaces/billing/deployments/payments-api"
    client = client_for(cluster, tmp_path)
    cluster.faults[path] = k.Fault(503)
    with pytest.raises(K8sUnavailable):
        client.read_workload("billing", "Deployment", "payments-api")
    assert cluster.calls[path] == 3
    cluster.faults[path] = k.Fault(403)
    with pytest.raises(K8sUnavailable):
        client.read_workload("billing", "Deployment", "payments-api")
    assert cluster.calls[path] == 4


def test_slow_api_costs_one_bounded_timeout(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    cluster.latency = 2.0
    client = client_for(cluster, tmp_path, read_timeout=0.3)
    started = time.monotonic()
    result = Validator(client).validate(Sanitizer().sanitize(alert(namespace="billing", deployment="ledger")))
    elapsed = time.monotonic() - started
    assert result.validation.status is ValidationStatus.UNKNOWN
    assert result.validation.reason == "Kubernetes API timed out"
    assert elapsed < 1.5  # one read timeout, no retries of a timeout


def test_refused_connection_is_unknown(tmp_path: Path) -> None:
    kubeconfig = k.refused_kubeconfig(tmp_path / "kubeconfig")
    client = build_k8s_client(Settings(k8s_mode="kubeconfig", kubeconfig=str(kubeconfig)), RecordingMetrics())
    result = Validator(client).validate(Sanitizer().sanitize(alert(namespace="billing")))
    assert result.validation.status is ValidationStatus.UNKNOWN
    assert result.validation.reason == "Kubernetes API unreachable"


def test_cache_makes_one_call_per_object(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    client = CachingK8sClient(client_for(cluster, tmp_path), ttl=30, metrics=RecordingMetrics())
    validator, enricher = Validator(client), Enricher(client)
    for i in range(50):
        enricher.enrich(
            validator.validate(
                Sanitizer().sanitize(alert(namespace="billing", deployment="payments-api", instance=str(i)))
            )
        )
    assert cluster.total_calls() == 3  # the namespace, the deployment and its ReplicaSets, once each


def test_mode_off_and_auto_without_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(build_k8s_client(Settings(k8s_mode="off"), RecordingMetrics()), DisabledK8sClient)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert isinstance(build_k8s_client(Settings(k8s_mode="auto"), RecordingMetrics()), DisabledK8sClient)
    with pytest.raises(RuntimeError, match="Kubernetes configuration could not be loaded"):
        build_k8s_client(Settings(k8s_mode="kubeconfig", kubeconfig=str(tmp_path / "absent")), RecordingMetrics())


def test_daemonset_pod_and_replicaset_label(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    cluster.add(
        k.daemonset("billing", "node-exporter", desired=3, ready=2),
        k.pod("billing", "node-exporter-x7k2p", "DaemonSet", "node-exporter"),
    )
    client = client_for(cluster, tmp_path)
    validated = Validator(client).validate(Sanitizer().sanitize(alert(namespace="billing", pod="node-exporter-x7k2p")))
    assert validated.workload == WorkloadRef("DaemonSet", "node-exporter")
    enrichment = Enricher(client).enrich(validated).enrichment
    assert enrichment is not None
    assert enrichment["replicas"] == {
        "desired": 3,
        "current": 3,
        "ready": 2,
        "available": 2,
        "updated": 3,
        "unavailable": 1,
    }
    assert enrichment["rollout"]["revision"] == "4" and enrichment["rollout"]["state"] == "progressing"
    by_rs = Validator(client).validate(
        Sanitizer().sanitize(alert(namespace="billing", replicaset="payments-api-6f7c9d8b54"))
    )
    assert by_rs.workload == WorkloadRef("Deployment", "payments-api")


def test_deployments_of_a_namespace_are_listed_page_by_page(
    cluster: k.FakeKubeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cluster.add(*(k.deployment("billing", f"worker-{i}") for i in range(3)))
    monkeypatch.setattr("alerts_processor.adapters.kubernetes.LIST_PAGE", 2)
    client = client_for(cluster, tmp_path)
    listed = client.list_workloads("billing", "Deployment")
    assert sorted(s.name for s in listed) == ["ledger", "payments-api", "worker-0", "worker-1", "worker-2"]
    assert cluster.calls["/apis/apps/v1/namespaces/billing/deployments"] == 3  # pages of 2, 2 and 1
    payments = next(s for s in listed if s.name == "payments-api")
    assert payments == client.read_workload("billing", "Deployment", "payments-api")  # same shape as a read
    assert client.list_workloads("empty", "Deployment") == []
    with pytest.raises(K8sUnavailable):
        client.list_workloads("billing", "StatefulSet")


def test_pods_and_replicasets_of_a_namespace_are_listed_like_reads(cluster: k.FakeKubeApi, tmp_path: Path) -> None:
    client = client_for(cluster, tmp_path)
    for kind in ("Pod", "ReplicaSet"):
        listed = client.list_workloads("billing", kind)
        assert listed, kind
        for state in listed:
            assert state == client.read_workload("billing", kind, state.name)  # same shape as a read
    replicasets = client.list_workloads("billing", "ReplicaSet")
    assert all(state.labels for state in replicasets)  # the labels a Deployment's selector matches


def test_the_modules_imported_before_the_fork_are_those_of_the_api_classes_used() -> None:
    # gunicorn's master imports API_MODULES so that its workers share them; a module renamed by a
    # new client release would otherwise be imported again in each worker, unseen.
    assert {client.CoreV1Api.__module__, client.AppsV1Api.__module__} == set(API_MODULES)
