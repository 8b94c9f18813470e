"""Enrich: live workload metadata (replicas, images, rollout revision and state) for valid alerts."""

from __future__ import annotations

import logging

from alerts_processor.interfaces import IEnricher, IK8sClient
from alerts_processor.models import (
    EnrichedAlert,
    JSONDict,
    K8sUnavailable,
    ValidatedAlert,
    ValidationStatus,
    WorkloadState,
)

log = logging.getLogger(__name__)


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
    """Reads the resolved workload through an IK8sClient."""

    def __init__(self, k8s: IK8sClient) -> None:
        self._k8s = k8s

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
        return EnrichedAlert(validated=validated, enrichment=describe(state) if state is not None else None)
