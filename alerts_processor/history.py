"""Read-side services over the repository: a workload's timeline, and export in bounded pages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import AlertRecord, WorkloadRef, ts
from alerts_processor.query import AlertQuery

EXPORT_PAGE = 500


def iterate(repository: IAlertsRepository, query: AlertQuery, page_size: int = EXPORT_PAGE) -> Iterator[AlertRecord]:
    """Every record matching `query`, fetched page by page: memory stays bounded whatever the total."""
    page = repository.query(replace(query, limit=page_size, after=None))
    while True:
        yield from page.records
        if page.next is None:
            return
        page = repository.query(replace(query, limit=page_size, after=page.next))


def timeline(repository: IAlertsRepository, namespace: str, workload: WorkloadRef, limit: int) -> list[dict[str, Any]]:
    """The workload's episodes and the rollouts their enrichment saw, newest first.

    Rollouts come from the release context stored with each episode (revision, images and when
    the rollout began), so the timeline needs no Kubernetes call and survives deleted objects.
    """
    query = AlertQuery(namespace=namespace, workload_kind=workload.kind, workload_name=workload.name, limit=limit)
    episodes = repository.query(query).records
    events: list[tuple[str, int, dict[str, Any]]] = []
    rollouts: dict[str, dict[str, Any]] = {}
    for record in episodes:
        events.append((ts(record.starts_at), 0, _episode(record)))
        release = (record.enrichment or {}).get("release") or {}
        if release.get("revision") and release.get("started_at") and release["revision"] not in rollouts:
            rollouts[release["revision"]] = {
                "type": "rollout",
                "time": release["started_at"],
                "revision": release["revision"],
                "replicaset": release.get("replicaset"),
                "images": release.get("images") or [],
                "previous_revision": release.get("previous_revision"),
                "image_changes": release.get("image_changes") or [],
            }
    events += [(r["time"], 1, r) for r in rollouts.values()]
    events.sort(key=lambda e: (e[0], e[1]), reverse=True)
    return [event for _, _, event in events]


def _episode(record: AlertRecord) -> dict[str, Any]:
    release = (record.enrichment or {}).get("release") or {}
    return {
        "type": "alert",
        "time": ts(record.starts_at),
        "id": record.id,
        "alertname": record.alertname,
        "severity": record.severity,
        "status": record.status,
        "ends_at": ts(record.ends_at) if record.ends_at else None,
        "revision": release.get("revision"),
        "release_suspect": bool(release.get("suspect")),
        "notifications": record.notifications,
    }
