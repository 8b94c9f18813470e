from dataclasses import replace
from datetime import UTC, datetime, timedelta

from alerts_processor.models import WorkloadRef, WorkloadState
from alerts_processor.pipeline.release import current_rollout, release_context, with_suspicion

ROLLOUT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=30)


def state(
    kind: str, name: str, revision: str, images: tuple[str, ...], created: datetime, owner: WorkloadRef | None = None
) -> WorkloadState:
    return WorkloadState(
        kind=kind,
        name=name,
        namespace="shop",
        generation=1,
        observed_generation=1,
        replicas={},
        containers=tuple((f"c{i}", image) for i, image in enumerate(images)),
        init_containers=(("migrate", images[0] + "-migrate"),),
        revision=revision,
        paused=False,
        strategy=None,
        conditions=(),
        owner=owner,
        created_at=created,
        selector={"app": "web"},
    )


OWNER = WorkloadRef("Deployment", "web")
DEPLOYMENT = state("Deployment", "web", "3", ("web:2.0", "envoy:1.30"), ROLLOUT - timedelta(days=30))
RS1 = state("ReplicaSet", "web-aaa", "1", ("web:1.0", "envoy:1.29"), ROLLOUT - timedelta(days=9), OWNER)
RS2 = state("ReplicaSet", "web-bbb", "2", ("web:1.9", "envoy:1.30"), ROLLOUT - timedelta(days=2), OWNER)
RS3 = state("ReplicaSet", "web-ccc", "3", ("web:2.0", "envoy:1.30"), ROLLOUT, OWNER)
FOREIGN = state("ReplicaSet", "web-canary-ddd", "9", ("web:3.0",), ROLLOUT, WorkloadRef("Deployment", "web-canary"))


def test_alert_soon_after_rollout_is_suspect() -> None:
    release = release_context(DEPLOYMENT, [RS1, RS2, RS3, FOREIGN], ROLLOUT + timedelta(minutes=5), WINDOW)
    assert release is not None
    assert release["revision"] == "3" and release["replicaset"] == "web-ccc"
    assert release["started_at"] == "2026-11-30T10:00:00.000000Z"
    assert release["previous_revision"] == "2" and release["previous_replicaset"] == "web-bbb"
    assert release["previous_images"] == ["web:1.9", "envoy:1.30"]
    assert release["images"] == ["web:2.0", "envoy:1.30"]
    assert release["image_changes"] == [
        {"container": "c0", "from": "web:1.9", "to": "web:2.0"},
        {"container": "migrate", "from": "web:1.9-migrate", "to": "web:2.0-migrate"},
    ]
    assert release["suspect"] is True and release["window_seconds"] == 1800


def test_alert_outside_the_window_is_not_suspect() -> None:
    for start in (ROLLOUT + timedelta(minutes=31), ROLLOUT - timedelta(minutes=1)):
        release = release_context(DEPLOYMENT, [RS2, RS3], start, WINDOW)
        assert release is not None and release["suspect"] is False


def test_first_revision_has_no_previous() -> None:
    release = release_context(replace(DEPLOYMENT, revision="1"), [RS1], ROLLOUT, WINDOW)
    assert release is not None
    assert release["previous_revision"] is None and release["image_changes"] == [] and release["previous_images"] == []


def test_unknown_current_replicaset_gives_no_context() -> None:
    assert release_context(replace(DEPLOYMENT, revision="7"), [RS1, RS2], ROLLOUT, WINDOW) is None
    assert release_context(DEPLOYMENT, [FOREIGN], ROLLOUT, WINDOW) is None


def test_container_added_or_removed_shows_as_none() -> None:
    with_sidecar = replace(RS3, containers=(*RS3.containers, ("logger", "fluent-bit:3")))
    release = release_context(DEPLOYMENT, [RS2, with_sidecar], ROLLOUT, WINDOW)
    assert release is not None
    assert {"container": "logger", "from": None, "to": "fluent-bit:3"} in release["image_changes"]


def test_one_rollout_serves_alerts_that_started_at_different_times() -> None:
    rollout = current_rollout(DEPLOYMENT, [RS2, RS3], WINDOW)
    assert rollout is not None
    early = with_suspicion(rollout, ROLLOUT - timedelta(minutes=1), WINDOW)
    soon = with_suspicion(rollout, ROLLOUT + timedelta(minutes=5), WINDOW)
    assert early["suspect"] is False and soon["suspect"] is True
    assert rollout.document["suspect"] is None  # the shared part is never changed
    assert soon == release_context(DEPLOYMENT, [RS2, RS3], ROLLOUT + timedelta(minutes=5), WINDOW)
