"""Validate: do the namespace and the workload an alert names exist? Resolves pods to their owner."""

from __future__ import annotations

import logging

from alerts_processor.interfaces import IK8sClient, IValidator
from alerts_processor.models import (
    K8sUnavailable,
    SanitizedAlert,
    ValidatedAlert,
    Validation,
    ValidationStatus,
    WorkloadRef,
    WorkloadState,
)

log = logging.getLogger(__name__)

# Owners worth following: a Pod's ReplicaSet leads to its Deployment; other owners are the workload.
_FOLLOWED_KINDS = frozenset({"Pod", "ReplicaSet"})
_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"})
_VALID = Validation(ValidationStatus.VALID)  # never changed: every valid alert shares it


class MissingObject(Exception):
    """A referenced object does not exist; the message says which."""


class Validator(IValidator):
    """Checks references against the cluster through an IK8sClient."""

    def __init__(self, k8s: IK8sClient) -> None:
        self._k8s = k8s

    def validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        if not self._k8s.enabled:
            return _outcome(alert, ValidationStatus.SKIPPED, "no Kubernetes cluster configured", alert.target)
        if alert.namespace is None:
            return _outcome(alert, ValidationStatus.SKIPPED, "the alert names no namespace", None)
        try:
            if not self._k8s.namespace_exists(alert.namespace):
                return _outcome(alert, ValidationStatus.INVALID, f"namespace {alert.namespace} not found", None)
            if alert.target is None:
                return ValidatedAlert(alert, _VALID, None)
            workload, state = self._resolve(alert.namespace, alert.target)
        except MissingObject as missing:
            return _outcome(alert, ValidationStatus.INVALID, str(missing), alert.target)
        except K8sUnavailable as trouble:
            return _outcome(alert, ValidationStatus.UNKNOWN, trouble.reason, alert.target)
        return ValidatedAlert(alert, _VALID, workload, state)

    def _resolve(self, namespace: str, target: WorkloadRef) -> tuple[WorkloadRef, WorkloadState | None]:
        """Follow controller ownerReferences from the target up to its workload (and its state, if read)."""
        current = target
        for _ in range(3):  # Pod → ReplicaSet → Deployment is the longest chain we follow
            state = self._k8s.read_workload(namespace, current.kind, current.name)
            if state is None:
                if current is target:
                    raise MissingObject(f"{current.kind.lower()} {namespace}/{current.name} not found")
                raise MissingObject(
                    f"{current.kind.lower()} {namespace}/{current.name} (owner of {target.kind.lower()} "
                    f"{target.name}) not found"
                )
            owner = state.owner
            if current.kind not in _FOLLOWED_KINDS or owner is None or owner.kind not in _WORKLOAD_KINDS:
                return current, state
            current = owner
        return current, None


def _outcome(
    alert: SanitizedAlert, status: ValidationStatus, reason: str | None, workload: WorkloadRef | None
) -> ValidatedAlert:
    return ValidatedAlert(alert=alert, validation=Validation(status, reason), workload=workload)
