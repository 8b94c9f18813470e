"""Release context: which rollout a Deployment is on, what it changed, and whether an alert followed it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts_processor.models import JSONDict, WorkloadRef, WorkloadState, ts


def _revision(state: WorkloadState) -> int:
    try:
        return int(state.revision or "")
    except ValueError:
        return -1


def image_changes(before: WorkloadState, after: WorkloadState) -> list[JSONDict]:
    """Per container (init containers included): the image it ran before and runs now, where they differ."""
    old = dict(before.init_containers + before.containers)
    new = dict(after.init_containers + after.containers)
    return [
        {"container": name, "from": old.get(name), "to": new.get(name)}
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def release_context(
    deployment: WorkloadState, replicasets: Sequence[WorkloadState], alert_start: datetime, window: timedelta
) -> JSONDict | None:
    """The current rollout (its ReplicaSet and start), the previous revision's images, and suspicion.

    The rollout start is the creation time of the current revision's ReplicaSet; after a rollback
    to an old ReplicaSet that time is the original rollout's, so suspicion is not raised then.
    """
    rollout = current_rollout(deployment, replicasets, window)
    return None if rollout is None else with_suspicion(rollout, alert_start, window)


@dataclass(frozen=True, slots=True)
class Rollout:
    """What release_context() says apart from the alert: computed once per Deployment state, then shared."""

    document: JSONDict  # its `suspect` is None until with_suspicion()
    started: datetime | None


def current_rollout(
    deployment: WorkloadState, replicasets: Sequence[WorkloadState], window: timedelta
) -> Rollout | None:
    """The current revision's ReplicaSet and the previous one's images (None: no current ReplicaSet)."""
    owned = [rs for rs in replicasets if rs.owner == WorkloadRef("Deployment", deployment.name)]
    current = next((rs for rs in owned if rs.revision == deployment.revision), None)
    if current is None:
        return None
    older = [rs for rs in owned if 0 <= _revision(rs) < _revision(current)]
    previous = max(older, key=_revision) if older else None
    started = current.created_at
    document: JSONDict = {
        "revision": current.revision,
        "replicaset": current.name,
        "started_at": ts(started) if started else None,
        "images": [image for _, image in current.containers],
        "previous_revision": previous.revision if previous else None,
        "previous_replicaset": previous.name if previous else None,
        "previous_images": [image for _, image in previous.containers] if previous else [],
        "image_changes": image_changes(previous, current) if previous else [],
        "suspect": None,
        "window_seconds": int(window.total_seconds()),
    }
    return Rollout(document, started)


def is_suspect(rollout: Rollout, alert_start: datetime, window: timedelta) -> bool:
    """Whether an alert that started then followed the rollout: within the window after its start."""
    started = rollout.started
    return started is not None and started <= alert_start <= started + window


def with_suspicion(rollout: Rollout, alert_start: datetime, window: timedelta) -> JSONDict:
    """The rollout's document for one alert: suspect when the alert started within the window after it."""
    return {**rollout.document, "suspect": is_suspect(rollout, alert_start, window)}
