"""Ports: the abstract interfaces the pipeline depends on; adapters and test fakes implement them."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime

from alerts_processor.models import (
    AlertRecord,
    EnrichedAlert,
    InboxEntry,
    ProcessedAlert,
    RawAlert,
    SanitizedAlert,
    ValidatedAlert,
    WorkloadState,
)
from alerts_processor.query import AlertQuery, Notification, Page, Stats


class ISanitizer(abc.ABC):
    """Turns a raw alert into a normalised one; pure, no I/O."""

    @abc.abstractmethod
    def sanitize(self, raw: RawAlert) -> SanitizedAlert:
        """Normalise `raw`; raise InvalidAlert when it can never be processed."""


class IValidator(abc.ABC):
    """Checks that the Kubernetes objects an alert names exist."""

    @abc.abstractmethod
    def validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        """Return the outcome; never raise for Kubernetes trouble (that is `unknown`)."""


class IEnricher(abc.ABC):
    """Adds live workload metadata to a validated alert."""

    @abc.abstractmethod
    def enrich(self, validated: ValidatedAlert) -> EnrichedAlert:
        """Return the alert with its enrichment; never raise for Kubernetes trouble."""


class IK8sClient(abc.ABC):
    """The few read-only Kubernetes operations the pipeline needs."""

    @property
    @abc.abstractmethod
    def enabled(self) -> bool:
        """False when no cluster is configured (validation is then `skipped`)."""

    @abc.abstractmethod
    def namespace_exists(self, namespace: str) -> bool:
        """Whether the namespace exists; raise K8sUnavailable when the API cannot tell."""

    @abc.abstractmethod
    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        """The object's state, None when it does not exist; raise K8sUnavailable on API trouble."""

    @abc.abstractmethod
    def list_replicasets(
        self, namespace: str, selector: Mapping[str, str], revision: str | None = None
    ) -> Sequence[WorkloadState]:
        """The ReplicaSets matching a Deployment's selector (its revisions); raise K8sUnavailable on trouble.

        `revision` is the Deployment revision the caller saw: the list only changes with it, so a
        cache may keep the list for as long as the revision stays the same.
        """

    @abc.abstractmethod
    def list_workloads(self, namespace: str, kind: str) -> Sequence[WorkloadState]:
        """Every object of `kind` (Deployment) in the namespace; raise K8sUnavailable on trouble."""


class IAlertsRepository(abc.ABC):
    """Durable storage of alert records and of the intake inbox."""

    #: The most alerts one group commit (save_encoded) should carry: more than a store writes well
    #: in one transaction only costs it (see the SQLite store's).
    group_size: int = 2000

    @abc.abstractmethod
    def save(self, processed: ProcessedAlert) -> bool:
        """Apply one delivery to its episode record; False if this delivery was already applied."""

    def save_many(self, items: Sequence[ProcessedAlert]) -> list[bool]:
        """Apply several deliveries (the group commit); stores with transactions do it in one."""
        return [self.save(item) for item in items]

    def encode(self, processed: ProcessedAlert) -> object:
        """What save_encoded() needs of an alert, prepared in the caller's thread (None: nothing)."""
        return None

    def save_encoded(self, items: Sequence[tuple[ProcessedAlert, object]]) -> list[bool]:
        """save_many() of alerts passed through encode() beforehand, off the one writer thread."""
        return self.save_many([item for item, _ in items])

    @abc.abstractmethod
    def get(self, alert_id: str) -> AlertRecord | None:
        """One record by id."""

    @abc.abstractmethod
    def query(self, query: AlertQuery) -> Page:
        """One page of the records matching `query`, in its order."""

    @abc.abstractmethod
    def history(self, alert_id: str) -> Sequence[Notification]:
        """Every delivery of an episode, oldest first."""

    @abc.abstractmethod
    def stats(self, since: datetime | None, until: datetime | None, top: int) -> Stats:
        """Counts of the episodes that started in [since, until)."""

    @abc.abstractmethod
    def prune(self, before: datetime, limit: int) -> int:
        """Delete up to `limit` episodes last notified before `before`, with their deliveries.

        Dead letters and dead inbox entries received before it go too. Returns how many episodes went.
        """

    def list(self, limit: int) -> Sequence[AlertRecord]:
        """The newest records first (by starts_at, then id)."""
        return self.query(AlertQuery(limit=limit)).records

    @abc.abstractmethod
    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        """Durably record an accepted webhook body, leased to the caller until `leased_until`."""

    @abc.abstractmethod
    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        """Extend the leases of entries the caller still holds."""

    @abc.abstractmethod
    def finish_inbox(self, entry_id: str) -> None:
        """Mark an inbox entry fully processed."""

    def finish_inbox_many(self, entry_ids: Sequence[str]) -> None:
        """finish_inbox() for several entries (in one transaction where the store has them)."""
        for entry_id in entry_ids:
            self.finish_inbox(entry_id)

    @abc.abstractmethod
    def bury_inbox(self, entry_id: str, reason: str) -> None:
        """Give up on an entry that kept failing (kept for an operator, never replayed)."""

    @abc.abstractmethod
    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        """Lease unfinished entries whose lease expired before `now`, counting the attempt."""

    @abc.abstractmethod
    def dead_letter(self, delivery_id: str, raw: str, reason: str, received_at: datetime) -> None:
        """Keep an alert that can never be processed, with why (idempotent per delivery)."""

    @abc.abstractmethod
    def pending_inbox(self) -> int:
        """How many entries are not finished yet."""

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""


class IMetrics(abc.ABC):
    """What the service counts and times; the Prometheus adapter exports it."""

    @abc.abstractmethod
    def alerts_received(self, receiver: str, status: str, count: int) -> None:
        """Alerts of one status in an accepted webhook batch."""

    @abc.abstractmethod
    def webhook_rejected(self, reason: str) -> None:
        """A webhook request answered with an error (`reason` is the error code)."""

    @abc.abstractmethod
    def alert_processed(self, outcome: str, validation: str, count: int = 1) -> None:
        """Alerts through the pipeline: outcome stored, duplicate, dead_letter or store_error."""

    @abc.abstractmethod
    def stage_duration(self, stage: str, seconds: float) -> None:
        """Time per alert in sanitize, validate, enrich or store: the mean of a group handled together."""

    def stage_durations(self, stage: str, seconds: Sequence[float]) -> None:
        """Many stage_duration observations of one stage at once; an adapter may apply them together."""
        for value in seconds:
            self.stage_duration(stage, value)

    @abc.abstractmethod
    def queue_depth(self, depth: int) -> None:
        """Alerts this worker holds in its queue now."""

    @abc.abstractmethod
    def inbox_pending(self, count: int) -> None:
        """Unfinished inbox entries in the store."""

    @abc.abstractmethod
    def k8s_call(self, resource: str, code: str, count: int = 1) -> None:
        """Kubernetes API calls and their answer (an HTTP status, `timeout`, `error` or `circuit_open`)."""

    @abc.abstractmethod
    def k8s_cache(self, hit: bool, count: int = 1) -> None:
        """Kubernetes reads answered from the cache (hit) or the API (miss)."""

    @abc.abstractmethod
    def store_error(self, operation: str) -> None:
        """A store operation that failed (inbox, save, finish, renew, claim)."""

    @abc.abstractmethod
    def http_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        """One answered HTTP request: its method, Flask endpoint, status code and duration."""

    def http_requests(self, requests: Sequence[tuple[str, str, int, float]]) -> None:
        """Many http_request observations at once; an adapter may apply them together."""
        for method, endpoint, status, seconds in requests:
            self.http_request(method, endpoint, status, seconds)
