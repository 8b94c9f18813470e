from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts_processor.adapters.kubernetes import DisabledK8sClient
from alerts_processor.models import RawAlert, SanitizedAlert, ValidationStatus, WorkloadRef, WorkloadState
from alerts_processor.pipeline.enrich import Enricher, describe, rollout_state
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.validate import Validator
from tests.fakes import FakeK8sClient, RecordingMetrics


def workload(kind: str, name: str, ns: str = "prod", owner: WorkloadRef | None = None, **kw: object) -> WorkloadState:
    fields: dict[str, object] = dict(
        kind=kind,
        name=name,
        namespace=ns,
        generation=2,
        observed_generation=2,
        replicas={"desired": 3, "current": 3, "ready": 3, "available": 3, "updated": 3, "unavailable": 0},
        containers=(("web", "registry.example/web:2.0"), ("sidecar", "envoy:1.30")),
        init_containers=(("migrate", "registry.example/web-migrate:2.0"),),
        revision="7",
        paused=False,
        strategy="RollingUpdate",
        conditions=({"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": ""},),
        owner=owner,
    )
    fields.update(kw)
    return WorkloadState(**fields)  # type: ignore[arg-type]


def sanitized(**labels: str) -> SanitizedAlert:
    return Sanitizer().sanitize(
        RawAlert("firing", {"alertname": "A", **labels}, {}, "2026-11-30T00:00:00Z", "", "", "")
    )


@pytest.fixture
def cluster() -> FakeK8sClient:
    return FakeK8sClient(
        namespaces=["prod"],
        workloads=[
            workload("Deployment", "web"),
            workload("ReplicaSet", "web-6f7c9d8b54", owner=WorkloadRef("Deployment", "web")),
            workload("Pod", "web-6f7c9d8b54-k2x9q", owner=WorkloadRef("ReplicaSet", "web-6f7c9d8b54")),
            workload("Pod", "orphan-rs-pod", owner=WorkloadRef("ReplicaSet", "gone-rs")),
            workload("Pod", "db-0", owner=WorkloadRef("StatefulSet", "db")),
            workload("Pod", "bare"),
            workload("StatefulSet", "db", revision="db-5d8f7c9b6"),
        ],
    )


def test_existing_deployment_is_valid(cluster: FakeK8sClient) -> None:
    result = Validator(cluster).validate(sanitized(namespace="prod", deployment="web"))
    assert result.validation.status is ValidationStatus.VALID and result.validation.reason is None
    assert result.workload == WorkloadRef("Deployment", "web")


@pytest.mark.parametrize(
    ("labels", "reason"),
    [
        ({"namespace": "staging", "deployment": "web"}, "namespace staging not found"),
        ({"namespace": "prod", "deployment": "api"}, "deployment prod/api not found"),
        ({"namespace": "prod", "pod": "web-0000000000-zzzzz"}, "pod prod/web-0000000000-zzzzz not found"),
        (
            {"namespace": "prod", "pod": "orphan-rs-pod"},
            "replicaset prod/gone-rs (owner of pod orphan-rs-pod) not found",
        ),
    ],
)
def test_missing_objects_are_invalid_with_reason(cluster: FakeK8sClient, labels: dict[str, str], reason: str) -> None:
    result = Validator(cluster).validate(sanitized(**labels))
    assert result.validation.status is ValidationStatus.INVALID
    assert result.validation.reason == reason


def test_pod_resolves_through_replicaset_to_deployment(cluster: FakeK8sClient) -> None:
    result = Validator(cluster).validate(sanitized(namespace="prod", pod="web-6f7c9d8b54-k2x9q"))
    assert result.workload == WorkloadRef("Deployment", "web")
    assert Validator(cluster).validate(sanitized(namespace="prod", pod="db-0")).workload == WorkloadRef(
        "StatefulSet", "db"
    )
    assert Validator(cluster).validate(sanitized(namespace="prod", pod="bare")).workload == WorkloadRef("Pod", "bare")


def test_namespace_only_alert_validates_the_namespace(cluster: FakeK8sClient) -> None:
    result = Validator(cluster).validate(sanitized(namespace="prod"))
    assert result.validation.status is ValidationStatus.VALID and result.workload is None


def test_no_cluster_is_skipped() -> None:
    result = Validator(DisabledK8sClient()).validate(sanitized(namespace="prod", deployment="web"))
    assert result.validation.status is ValidationStatus.SKIPPED
    assert result.workload == WorkloadRef("Deployment", "web")


def test_no_namespace_is_skipped(cluster: FakeK8sClient) -> None:
    assert Validator(cluster).validate(sanitized()).validation.status is ValidationStatus.SKIPPED
    assert cluster.calls == 0


def test_api_trouble_is_unknown_with_reason(cluster: FakeK8sClient) -> None:
    cluster.fail_with = "forbidden"
    result = Validator(cluster).validate(sanitized(namespace="prod", deployment="web"))
    assert result.validation.status is ValidationStatus.UNKNOWN and result.validation.reason == "forbidden"


def test_enrichment_of_a_valid_deployment(cluster: FakeK8sClient) -> None:
    validated = Validator(cluster).validate(sanitized(namespace="prod", pod="web-6f7c9d8b54-k2x9q"))
    enrichment = Enricher(cluster).enrich(validated).enrichment
    assert enrichment is not None
    assert enrichment["kind"] == "Deployment" and enrichment["name"] == "web"
    assert enrichment["replicas"]["ready"] == 3
    assert enrichment["containers"] == [
        {"name": "web", "image": "registry.example/web:2.0"},
        {"name": "sidecar", "image": "envoy:1.30"},
    ]
    assert enrichment["init_containers"] == [{"name": "migrate", "image": "registry.example/web-migrate:2.0"}]
    assert enrichment["images"] == ["envoy:1.30", "registry.example/web:2.0"]
    assert enrichment["rollout"]["revision"] == "7" and enrichment["rollout"]["state"] == "complete"


def test_no_enrichment_unless_valid(cluster: FakeK8sClient) -> None:
    validated = Validator(cluster).validate(sanitized(namespace="prod", deployment="api"))
    assert Enricher(cluster).enrich(validated).enrichment is None


def test_enrichment_describes_the_workload_as_validation_read_it(cluster: FakeK8sClient) -> None:
    validated = Validator(cluster).validate(sanitized(namespace="prod", pod="web-6f7c9d8b54-k2x9q"))
    assert validated.state is not None and validated.state.kind == "Deployment"
    calls = cluster.calls
    cluster.fail_with = "Kubernetes API timed out"  # enrichment does not ask again
    enrichment = Enricher(cluster).enrich(validated).enrichment
    assert enrichment is not None and enrichment["name"] == "web" and cluster.calls == calls


def test_enrichment_failure_keeps_the_alert(cluster: FakeK8sClient) -> None:
    validated = Validator(cluster).validate(sanitized(namespace="prod", deployment="web"))
    cluster.fail_with = "Kubernetes API timed out"
    assert Enricher(cluster).enrich(replace(validated, state=None)).enrichment is None


BASE = workload("Deployment", "web")


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (BASE, "complete"),
        (replace(BASE, paused=True), "paused"),
        (replace(BASE, generation=3), "progressing"),
        (replace(BASE, replicas={**BASE.replicas, "updated": 1}), "progressing"),
        (replace(BASE, replicas={**BASE.replicas, "current": 4}), "progressing"),
        (replace(BASE, replicas={**BASE.replicas, "available": 2}), "progressing"),
        (
            replace(
                BASE,
                conditions=(
                    {
                        "type": "Progressing",
                        "status": "False",
                        "reason": "ProgressDeadlineExceeded",
                        "message": "timed out",
                    },
                ),
            ),
            "failed",
        ),
    ],
)
def test_rollout_state_like_kubectl(state: WorkloadState, expected: str) -> None:
    assert rollout_state(state) == expected
    assert describe(state)["rollout"]["state"] == expected


def test_enrichment_is_built_once_per_state_and_follows_a_new_one(cluster: FakeK8sClient) -> None:
    enricher, validator = Enricher(cluster), Validator(cluster)
    alert = sanitized(namespace="prod", deployment="web")
    first, second = (
        enricher.enrich(validator.validate(alert)).enrichment,
        enricher.enrich(validator.validate(alert)).enrichment,
    )
    assert first is not None and first is second  # one document for every alert on this state
    # The cache read the Deployment again, mid-rollout: a new state object, a new document.
    cluster.workloads[("prod", "Deployment", "web")] = workload("Deployment", "web", revision="8", generation=3)
    third = enricher.enrich(validator.validate(alert)).enrichment
    assert third is not None and third["rollout"]["revision"] == "8" and third["rollout"]["state"] == "progressing"
    assert first["rollout"]["revision"] == "7"  # documents already handed out do not change


def test_alerts_on_a_deployment_share_a_document_by_suspicion() -> None:
    rollout = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    deployment = workload("Deployment", "web", selector={"app": "web"})
    fake = FakeK8sClient(["prod"], [
        deployment,
        workload("ReplicaSet", "web-b", owner=WorkloadRef("Deployment", "web"), revision="7", created_at=rollout),
        workload("ReplicaSet", "web-a", owner=WorkloadRef("Deployment", "web"), revision="6",
                 created_at=rollout - timedelta(days=3), containers=(("web", "registry.example/web:1.9"),)),
    ])  # fmt: skip
    cluster = CachingK8sClient(fake, ttl=60, metrics=RecordingMetrics())  # as in the service: same states
    enricher, validator = Enricher(cluster, release_window=1800), Validator(cluster)

    def enriched(start: datetime) -> dict[str, Any]:
        alert = replace(sanitized(namespace="prod", deployment="web"), starts_at=start)
        document = enricher.enrich(validator.validate(alert)).enrichment
        assert document is not None
        return document

    soon, also_soon = enriched(rollout + timedelta(minutes=5)), enriched(rollout + timedelta(minutes=29))
    before, long_after = enriched(rollout - timedelta(minutes=1)), enriched(rollout + timedelta(hours=2))
    assert soon is also_soon and before is long_after and soon is not before
    assert soon["release"]["suspect"] is True and before["release"]["suspect"] is False
    assert soon["release"]["previous_revision"] == "6" and soon["rollout"]["revision"] == "7"
    assert {k: v for k, v in soon.items() if k != "release"} == {k: v for k, v in before.items() if k != "release"}


def test_no_current_replicaset_gives_no_release_context() -> None:
    cluster = FakeK8sClient(["prod"], [workload("Deployment", "web", selector={"app": "web"})])
    alert = Validator(cluster).validate(sanitized(namespace="prod", deployment="web"))
    document = Enricher(cluster).enrich(alert).enrichment
    assert document is not None and document["release"] is None and document["rollout"]["revision"] == "7"
