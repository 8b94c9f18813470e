"""Enrich: live workload metadata (replicas, images, rollout revision and state) for valid alerts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from alerts_processor.interfaces import IEnricher, IK8sClient
from alerts_processor.memo import ByIdentity
from alerts_processor.models import (
    EnrichedAlert,
    JSONDict,
    K8sUnavailable,
    ValidatedAlert,
    ValidationStatus,
    WorkloadState,
)
from alerts_processor.pipeline.release import Rollout, current_rollout, is_suspect

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


@dataclass(frozen=True, slots=True)
class _Releases:
    """The enrichment documents of alerts on one Deployment state: with its release context, by suspicion."""

    rollout: Rollout | None
    quiet: JSONDict  # not suspect, or no release context (no current ReplicaSet)
    suspect: JSONDict  # the same as quiet when there is no release context

    @classmethod
    def of(cls, document: JSONDict, rollout: Rollout | None) -> _Releases:
        if rollout is None:
            none = {**document, "release": None}
            return cls(None, none, none)
        release = rollout.document
        return cls(rollout, {**document, "release": {**release, "suspect": False}},
                   {**document, "release": {**release, "suspect": True}})  # fmt: skip

    def document(self, alert_start: datetime, window: timedelta) -> JSONDict:
        if self.rollout is not None and is_suspect(self.rollout, alert_start, window):
            return self.suspect
        return self.quiet


class Enricher(IEnricher):
    """Reads the resolved workload (and, for a Deployment, its ReplicaSets) through an IK8sClient.

    The cache hands out the same state objects until it reads them again, so what is built from
    a state is built once and shared by every alert on that workload meanwhile (a Deployment's
    alerts by whether they are suspect): documents are never changed once built. A store may
    encode one once for all the alerts that share it.
    """

    def __init__(self, k8s: IK8sClient, release_window: float = 1800.0) -> None:
        self._k8s = k8s
        self._window = timedelta(seconds=release_window)
        self._documents: ByIdentity[JSONDict] = ByIdentity(_MEMO_MAX)
        self._releases: ByIdentity[_Releases] = ByIdentity(_MEMO_MAX)

    def enrich(self, validated: ValidatedAlert) -> EnrichedAlert:
        workload = validated.workload
        namespace = validated.alert.namespace
        if validated.validation.status is not ValidationStatus.VALID or workload is None or namespace is None:
            return EnrichedAlert(validated=validated, enrichment=None)
        state = validated.state  # as validation read it, if it did
        if state is None:
            try:
                state = self._k8s.read_workload(namespace, workload.kind, workload.name)
            except K8sUnavailable as trouble:
                log.warning("enrichment skipped", extra={"alert_id": validated.alert.id, "reason": trouble.reason})
                return EnrichedAlert(validated=validated, enrichment=None)
        if state is None:
            return EnrichedAlert(validated=validated, enrichment=None)
        document = self._documents.get((state,), lambda: describe(state))
        if state.kind != "Deployment" or not state.selector:
            return EnrichedAlert(validated=validated, enrichment=document)
        try:
            replicasets = self._k8s.list_replicasets(state.namespace, state.selector, state.revision)
        except K8sUnavailable as trouble:  # the workload part stays; only the release context is missing
            log.warning("release context skipped", extra={"alert_id": validated.alert.id, "reason": trouble.reason})
            return EnrichedAlert(validated=validated, enrichment={**document, "release": None})
        releases = self._releases.get(
            (state, replicasets), lambda: _Releases.of(document, current_rollout(state, replicasets, self._window))
        )
        return EnrichedAlert(validated=validated, enrichment=releases.document(validated.alert.starts_at, self._window))
