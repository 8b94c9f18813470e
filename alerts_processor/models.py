"""Domain model: the frozen records that flow through the pipeline, and the domain errors."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from alerts_processor.frozen import quick_init

JSONDict = dict[str, Any]


@lru_cache(maxsize=4096)  # the alerts of a batch share their times: most calls are hits
def ts(value: datetime) -> str:
    """The timestamp text of records: UTC, fixed width, microseconds, so lexical order is time order."""
    # isoformat pads the year to four digits (strftime's %Y does not below 1000 on glibc).
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class ValidationStatus(enum.StrEnum):
    """Outcome of checking an alert's Kubernetes references."""

    VALID = "valid"
    INVALID = "invalid"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


@quick_init
@dataclass(frozen=True, slots=True)
class RawAlert:
    """One alert exactly as Alertmanager sent it (field names translated to snake_case)."""

    status: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: str
    ends_at: str
    generator_url: str
    fingerprint: str


@quick_init
@dataclass(frozen=True, slots=True)
class AlertmanagerPayload:
    """A webhook notification (payload version 4)."""

    version: str
    receiver: str
    status: str
    alerts: tuple[RawAlert, ...]
    group_labels: Mapping[str, str]
    common_labels: Mapping[str, str]
    common_annotations: Mapping[str, str]
    external_url: str
    group_key: str
    truncated_alerts: int


@quick_init
@dataclass(frozen=True, slots=True)
class Delivery:
    """Where and when one alert of a notification reached us; `delivery_id` is unique per alert."""

    delivery_id: str
    receiver: str
    group_key: str
    received_at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class WorkloadRef:
    """A Kubernetes object an alert points at (Deployment, StatefulSet, DaemonSet, ReplicaSet, Pod)."""

    kind: str
    name: str


@quick_init
@dataclass(frozen=True, slots=True)
class SanitizedAlert:
    """The normalised fields every later stage relies on."""

    id: str
    fingerprint: str
    alertname: str
    severity: str
    status: str
    namespace: str | None
    target: WorkloadRef | None
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    generator_url: str


@quick_init
@dataclass(frozen=True, slots=True)
class Validation:
    """Validation outcome and, unless valid, why."""

    status: ValidationStatus
    reason: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class ValidatedAlert:
    """A sanitized alert with its validation and the workload its target resolved to.

    `state` is that workload as validation read it, when it did: enrichment describes the same
    read instead of asking the cache again a few microseconds later.
    """

    alert: SanitizedAlert
    validation: Validation
    workload: WorkloadRef | None
    state: WorkloadState | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class EnrichedAlert:
    """A validated alert with the live workload metadata (None when nothing could be read)."""

    validated: ValidatedAlert
    enrichment: JSONDict | None


@quick_init
@dataclass(frozen=True, slots=True)
class ProcessedAlert:
    """What the repository stores for one delivery of one alert."""

    alert: SanitizedAlert
    validation: Validation
    workload: WorkloadRef | None
    enrichment: JSONDict | None
    delivery: Delivery

    @property
    def deployment(self) -> str | None:
        """The Deployment name when the workload is one (the field most queries use)."""
        if self.workload is not None and self.workload.kind == "Deployment":
            return self.workload.name
        return None


@quick_init
@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert episode, as the read side returns it."""

    id: str
    fingerprint: str
    alertname: str
    severity: str
    status: str
    namespace: str | None
    deployment: str | None
    workload: WorkloadRef | None
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    generator_url: str
    receiver: str
    group_key: str
    validation: Validation
    enrichment: JSONDict | None
    notifications: int
    first_received_at: datetime
    last_received_at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A webhook body durably accepted but not yet fully processed."""

    id: str
    body: bytes
    received_at: datetime
    attempts: int = field(default=0)


@quick_init
@dataclass(frozen=True, slots=True)
class WorkloadState:
    """Live state of a workload as read from Kubernetes, already reduced to what we record."""

    kind: str
    name: str
    namespace: str
    generation: int
    observed_generation: int
    replicas: Mapping[str, int]
    containers: tuple[tuple[str, str], ...]
    init_containers: tuple[tuple[str, str], ...]
    revision: str | None
    paused: bool
    strategy: str | None
    conditions: tuple[Mapping[str, str], ...]
    owner: WorkloadRef | None = None
    created_at: datetime | None = None
    selector: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)


class AlertsProcessorError(Exception):
    """Base of the domain errors."""


class InvalidAlert(AlertsProcessorError):
    """An alert whose values can never be processed (an unparsable timestamp, say)."""


class StoreUnavailable(AlertsProcessorError):
    """The store cannot take a write right now; the caller should retry later."""


class QueueFull(AlertsProcessorError):
    """The bounded work queue has no room for the batch."""


class K8sUnavailable(AlertsProcessorError):
    """The Kubernetes API could not answer; `reason` says why, `outage` whether retrying later may help."""

    def __init__(self, reason: str, outage: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.outage = outage
