"""Kubernetes object JSON reduced to WorkloadState: the fields we record, absent numbers read as 0."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alerts_processor.models import WorkloadRef, WorkloadState

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def workload_state(kind: str, body: Mapping[str, Any]) -> WorkloadState:
    """Reduce an object's JSON to a WorkloadState (absent numeric fields are 0, as the API omits them)."""
    meta = body.get("metadata") or {}
    spec = body.get("spec") or {}
    status = body.get("status") or {}
    template = (spec.get("template") or {}).get("spec") or spec
    annotations = meta.get("annotations") or {}
    return WorkloadState(
        kind=kind,
        name=str(meta.get("name", "")),
        namespace=str(meta.get("namespace", "")),
        generation=int(meta.get("generation") or 0),
        observed_generation=int(status.get("observedGeneration") or meta.get("generation") or 0),
        replicas=_replicas(kind, spec, status),
        containers=_containers(template.get("containers")),
        init_containers=_containers(template.get("initContainers")),
        revision=_revision(kind, annotations, status),
        paused=bool(spec.get("paused", False)),
        strategy=((spec.get("strategy") or spec.get("updateStrategy") or {}).get("type")),
        conditions=tuple(
            {k: str(c.get(k, "")) for k in ("type", "status", "reason", "message")}
            for c in status.get("conditions") or ()
            if isinstance(c, dict)
        ),
        owner=_controller(meta.get("ownerReferences")),
        created_at=_parse_time(meta.get("creationTimestamp")),
        selector=dict((spec.get("selector") or {}).get("matchLabels") or {}),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
    )


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _replicas(kind: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, int]:
    def n(key: str) -> int:
        return int(status.get(key) or 0)

    if kind == "DaemonSet":
        return {
            "desired": n("desiredNumberScheduled"),
            "current": n("currentNumberScheduled"),
            "ready": n("numberReady"),
            "available": n("numberAvailable"),
            "updated": n("updatedNumberScheduled"),
            "unavailable": n("numberUnavailable"),
        }
    if kind == "Pod":
        return {}
    desired = int(spec["replicas"]) if spec.get("replicas") is not None else 1
    available = n("availableReplicas")
    return {
        "desired": desired,
        "current": n("replicas"),
        "ready": n("readyReplicas"),
        "available": available,
        "updated": n("updatedReplicas") if kind != "ReplicaSet" else n("replicas"),
        "unavailable": n("unavailableReplicas") if kind == "Deployment" else max(desired - available, 0),
    }


def _containers(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(c.get("name", "")), str(c.get("image", ""))) for c in items or () if isinstance(c, dict))


def _revision(kind: str, annotations: Mapping[str, Any], status: Mapping[str, Any]) -> str | None:
    if kind in ("Deployment", "ReplicaSet"):
        value = annotations.get(REVISION_ANNOTATION)
        return str(value) if value is not None else None
    if kind == "StatefulSet":
        return status.get("updateRevision") or status.get("currentRevision")
    if kind == "DaemonSet":
        value = annotations.get("deprecated.daemonset.template.generation")
        return str(value) if value is not None else None
    return None


def _controller(refs: Any) -> WorkloadRef | None:
    for ref in refs or ():
        if isinstance(ref, dict) and ref.get("controller"):
            return WorkloadRef(kind=str(ref.get("kind", "")), name=str(ref.get("name", "")))
    return None
