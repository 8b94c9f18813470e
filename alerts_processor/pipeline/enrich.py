"""Enrich: live workload metadata (replicas, images, rollout revision and state) for valid alerts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

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
        # Keyed by the ids of the states, which the entries keep alive (so an id is never reused meanwhile).
        self._documents: dict[int, tuple[WorkloadState, JSONDict]] = {}
        self._rollouts: dict[tuple[int, int], tuple[WorkloadState, Sequence[WorkloadState], Rollout | None]] = {}

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
        enrichment = dict(self._describe(state))
        if state.kind == "Deployment" and state.selector:
            enrichment["release"] = self._release(state, validated)
        return EnrichedAlert(validated=validated, enrichment=enrichment)

    def _describe(self, state: WorkloadState) -> JSONDict:
        known = self._documents.get(id(state))
        if known is not None and known[0] is state:
            return known[1]
        document = describe(state)
        if len(self._documents) >= _MEMO_MAX:
            self._documents.clear()  # states the cache let go of; the live ones come back at once
        self._documents[id(state)] = (state, document)
        return document

    def _release(self, deployment: WorkloadState, validated: ValidatedAlert) -> JSONDict | None:
        try:
            replicasets = self._k8s.list_replicasets(deployment.namespace, deployment.selector, deployment.revision)
        except K8sUnavailable as trouble:  # the workload part stays; only the release context is missing
            log.warning("release context skipped", extra={"alert_id": validated.alert.id, "reason": trouble.reason})
            return None
        key = (id(deployment), id(replicasets))
        known = self._rollouts.get(key)
        if known is not None and known[0] is deployment and known[1] is replicasets:
            rollout = known[2]
        else:
            rollout = current_rollout(deployment, replicasets, self._window)
            if len(self._rollouts) >= _MEMO_MAX:
                self._rollouts.clear()
            self._rollouts[key] = (deployment, replicasets, rollout)
        return None if rollout is None else with_suspicion(rollout, validated.alert.starts_at, self._window)
