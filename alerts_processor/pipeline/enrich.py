"""Enrich: live workload metadata (replicas, images, rollout revision and state) for valid alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Generic, TypeVar

from alerts_processor.interfaces import IEnricher, IK8sClient
from alerts_processor.models import (
    EnrichedAlert,
    JSONDict,
    K8sUnavailable,
    ValidatedAlert,
    ValidationStatus,
    WorkloadState,
)
from alerts_processor.pipeline.release import Rollout, current_rollout, with_suspicion

log = logging.getLogger(__name__)
_MEMO_MAX = 512  # documents remembered per Enricher (about 2 MB at most); all forgotten at once past that
T = TypeVar("T")


class _ByIdentity(Generic[T]):
    """Values built from objects, found again by the objects' identity, at most `limit` of them.

    An entry keeps its objects alive, so their ids cannot be reused meanwhile. Past the limit all
    entries go at once: those of states the cache let go of, and the live ones are built again.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], T]] = {}

    def get(self, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        key = tuple(map(id, sources))
        known = self._entries.get(key)
        if known is not None and all(a is b for a, b in zip(known[0], sources, strict=True)):
            return known[1]
        value = build()
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (sources, value)
        return value


def rollout_state(state: WorkloadState) -> str:
    """`complete`, `progressing`, `failed` or `paused`, decided the way `kubectl rollout status` does."""
    if state.paused:
        return "paused"
    if state.generation > state.observed_generation:
        return "progressing"  # the controller has not seen the latest spec yet
    for condition in state.conditions:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return "failed"
    replicas = state.replicas
    desired = replicas.get("desired", 0)
    updated = replicas.get("updated", 0)
    if updated < desired:
        return "progressing"
    if replicas.get("current", 0) > updated:
        return "progressing"  # old replicas are still terminating
    if replicas.get("available", 0) < updated:
        return "progressing"
    return "complete"


def describe(state: WorkloadState) -> JSONDict:
    """The enrichment document stored with the record."""
    return {
        "kind": state.kind,
        "name": state.name,
        "namespace": state.namespace,
        "replicas": dict(state.replicas),
        "containers": [{"name": n, "image": i} for n, i in state.containers],
        "init_containers": [{"name": n, "image": i} for n, i in state.init_containers],
        "images": sorted({image for _, image in state.containers}),
        "rollout": {
            "revision": state.revision,
            "state": rollout_state(state),
            "generation": state.generation,
            "observed_generation": state.observed_generation,
            "paused": state.paused,
            "strategy": state.strategy,
            "conditions": [dict(c) for c in state.conditions],
        },
    }


class Enricher(IEnricher):
    """Reads the resolved workload (and, for a Deployment, its ReplicaSets) through an IK8sClient.

    The cache hands out the same state objects until it reads them again, so what is built from
    a state is built once and shared by every alert on that workload meanwhile: documents are
    never changed once built, and each alert gets a shallow copy of its own.
    """

    def __init__(self, k8s: IK8sClient, release_window: float = 1800.0) -> None:
        self._k8s = k8s
        self._window = timedelta(seconds=release_window)
        self._documents: _ByIdentity[JSONDict] = _ByIdentity(_MEMO_MAX)
        self._rollouts: _ByIdentity[Rollout | None] = _ByIdentity(_MEMO_MAX)

    def enrich(self, validated: ValidatedAlert) -> EnrichedAlert:
        workload = validated.workload
        namespace = validated.alert.namespace
        if validated.validation.status is not ValidationStatus.VALID or workload is None or namespace is None:
            return EnrichedAlert(validated=validated, enrichment=None)
        try:
            state = self._k8s.read_workload(namespace, workload.kind, workload.name)
        except K8sUnavailable as trouble:
            log.warning("enrichment skipped", extra={"alert_id": validated.alert.id, "reason": trouble.reason})
            return EnrichedAlert(validated=validated, enrichment=None)
        if state is None:
            return EnrichedAlert(validated=validated, enrichment=None)
        enrichment = dict(self._documents.get((state,), lambda: describe(state)))
        if state.kind == "Deployment" and state.selector:
            enrichment["release"] = self._release(state, validated)
        return EnrichedAlert(validated=validated, enrichment=enrichment)

    def _release(self, deployment: WorkloadState, validated: ValidatedAlert) -> JSONDict | None:
        try:
            replicasets = self._k8s.list_replicasets(deployment.namespace, deployment.selector, deployment.revision)
        except K8sUnavailable as trouble:  # the workload part stays; only the release context is missing
            log.warning("release context skipped", extra={"alert_id": validated.alert.id, "reason": trouble.reason})
            return None
        rollout = self._rollouts.get(
            (deployment, replicasets), lambda: current_rollout(deployment, replicasets, self._window)
        )
        return None if rollout is None else with_suspicion(rollout, validated.alert.starts_at, self._window)
