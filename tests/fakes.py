"""In-memory fakes of the pipeline's interfaces, for unit tests (kept honest by the store contract suite)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from alerts_processor.interfaces import IAlertsRepository, IK8sClient, IMetrics
from alerts_processor.models import (
    AlertRecord,
    InboxEntry,
    K8sUnavailable,
    ProcessedAlert,
    SanitizedAlert,
    StoreUnavailable,
    ValidatedAlert,
    WorkloadState,
)
from alerts_processor.pipeline.validate import Validator
from alerts_processor.query import AlertQuery, Notification, Page, Stats, page_of, sort_value


class FakeK8sClient(IK8sClient):
    """Objects in dicts; `fail_with` makes every call raise K8sUnavailable with that reason."""

    def __init__(self, namespaces: Sequence[str] = (), workloads: Sequence[WorkloadState] = ()) -> None:
        self.namespaces = set(namespaces)
        self.workloads = {(w.namespace, w.kind, w.name): w for w in workloads}
        self.fail_with: str | None = None
        self.calls = 0
        self.lists = 0

    @property
    def enabled(self) -> bool:
        return True

    def namespace_exists(self, namespace: str) -> bool:
        self._call()
        return namespace in self.namespaces

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        self._call()
        return self.workloads.get((namespace, kind, name))

    def list_replicasets(
        self, namespace: str, selector: Mapping[str, str], revision: str | None = None
    ) -> Sequence[WorkloadState]:
        self._call()
        return [w for (ns, kind, _), w in self.workloads.items() if ns == namespace and kind == "ReplicaSet"]

    def list_workloads(self, namespace: str, kind: str) -> Sequence[WorkloadState]:
        self._call()
        self.lists += 1
        return [w for (ns, k, _), w in self.workloads.items() if ns == namespace and k == kind]

    def _call(self) -> None:
        self.calls += 1
        if self.fail_with:
            raise K8sUnavailable(self.fail_with)


class InMemoryAlertsRepository(IAlertsRepository):
    """The store contract in dicts; `down = True` makes every call raise StoreUnavailable."""

    def __init__(self) -> None:
        self.records: dict[str, AlertRecord] = {}
        self.deliveries: dict[str, Notification] = {}
        self.delivered: dict[str, list[str]] = {}
        self.inbox: dict[str, dict[str, object]] = {}
        self.dead_letters: dict[str, tuple[str, str]] = {}
        self.dead_received: dict[str, datetime] = {}
        self.down = False
        self._lock = threading.Lock()

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("fake store is down")

    def save(self, processed: ProcessedAlert) -> bool:
        a, d = processed.alert, processed.delivery
        with self._lock:
            self._check()
            if d.delivery_id in self.deliveries:
                return False
            self.deliveries[d.delivery_id] = Notification(d.received_at, a.status)
            self.delivered.setdefault(a.id, []).append(d.delivery_id)
            old = self.records.get(a.id)
            resolved = old is not None and old.status == "resolved"
            self.records[a.id] = AlertRecord(
                id=a.id,
                fingerprint=a.fingerprint,
                alertname=a.alertname,
                severity=a.severity,
                status="resolved" if resolved else a.status,
                namespace=a.namespace,
                deployment=processed.deployment,
                workload=processed.workload,
                starts_at=a.starts_at,
                ends_at=old.ends_at if old and resolved else a.ends_at,
                labels=(old.labels if old else dict(a.labels)),
                annotations=dict(a.annotations),
                generator_url=old.generator_url if old else a.generator_url,
                receiver=d.receiver,
                group_key=d.group_key,
                validation=processed.validation,
                enrichment=processed.enrichment
                if processed.enrichment is not None
                else (old.enrichment if old else None),
                notifications=(old.notifications if old else 0) + 1,
                first_received_at=min(old.first_received_at, d.received_at) if old else d.received_at,
                last_received_at=max(old.last_received_at, d.received_at) if old else d.received_at,
            )
            return True

    def get(self, alert_id: str) -> AlertRecord | None:
        self._check()
        return self.records.get(alert_id)

    def query(self, query: AlertQuery) -> Page:
        self._check()
        with self._lock:
            found = [r for r in self.records.values() if query.matches(r)]
        found.sort(key=lambda r: (sort_value(r, query.sort), r.id), reverse=query.descending)
        return page_of(found[: query.limit + 1], query)

    def history(self, alert_id: str) -> Sequence[Notification]:
        self._check()
        with self._lock:
            ids = self.delivered.get(alert_id, [])
            return sorted((self.deliveries[i] for i in ids), key=lambda n: n.received_at)

    def stats(self, since: datetime | None, until: datetime | None, top: int) -> Stats:
        self._check()
        window = AlertQuery(since=since, until=until)
        with self._lock:
            found = [r for r in self.records.values() if window.matches(r)]
        names = Counter(r.alertname for r in found)
        return Stats(
            total=len(found),
            by_severity=dict(Counter(r.severity for r in found)),
            by_status=dict(Counter(r.status for r in found)),
            by_namespace=dict(Counter(r.namespace or "" for r in found)),
            by_workload=dict(
                Counter(f"{r.namespace or ''}/{r.workload.kind}/{r.workload.name}" for r in found if r.workload)
            ),
            top_alertnames=sorted(names.items(), key=lambda kn: (-kn[1], kn[0]))[:top],
        )

    def prune(self, before: datetime, limit: int) -> int:
        with self._lock:
            self._check()
            old = sorted((r for r in self.records.values() if r.last_received_at < before),
                         key=lambda r: r.last_received_at)[:limit]  # fmt: skip
            for record in old:
                del self.records[record.id]
                for delivery_id in self.delivered.pop(record.id, []):
                    del self.deliveries[delivery_id]
            self.dead_letters = {k: v for k, v in self.dead_letters.items() if self.dead_received[k] >= before}
            self.inbox = {k: e for k, e in self.inbox.items()
                          if e["state"] != "dead" or e["received_at"] >= before}  # type: ignore[operator]  # fmt: skip
            return len(old)

    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        with self._lock:
            self._check()
            self.inbox[entry_id] = {
                "body": body,
                "received_at": received_at,
                "leased_until": leased_until,
                "attempts": 1,
                "state": "pending",
            }

    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        with self._lock:
            self._check()
            for entry_id in entry_ids:
                if entry_id in self.inbox and self.inbox[entry_id]["state"] == "pending":
                    self.inbox[entry_id]["leased_until"] = leased_until

    def finish_inbox(self, entry_id: str) -> None:
        with self._lock:
            self._check()
            self.inbox.pop(entry_id, None)

    def bury_inbox(self, entry_id: str, reason: str) -> None:
        with self._lock:
            self._check()
            self.inbox[entry_id]["state"] = "dead"

    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        with self._lock:
            self._check()
            due = sorted(
                (e["received_at"], k)
                for k, e in self.inbox.items()
                if e["state"] == "pending" and e["leased_until"] < now  # type: ignore[operator]
            )[:limit]
            claimed = []
            for _, key in due:
                entry = self.inbox[key]
                entry["leased_until"] = leased_until
                entry["attempts"] = int(entry["attempts"]) + 1  # type: ignore[call-overload]
                claimed.append(InboxEntry(key, entry["body"], entry["received_at"], entry["attempts"]))  # type: ignore[arg-type]
            return claimed

    def dead_letter(self, delivery_id: str, raw: str, reason: str, received_at: datetime) -> None:
        with self._lock:
            self._check()
            self.dead_letters.setdefault(delivery_id, (raw, reason))
            self.dead_received.setdefault(delivery_id, received_at)

    def pending_inbox(self) -> int:
        self._check()
        return sum(1 for e in self.inbox.values() if e["state"] == "pending")

    def ping(self) -> None:
        self._check()

    def close(self) -> None:
        pass


class RecordingMetrics(IMetrics):
    """Keeps every observation, for assertions."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.stages: Counter[str] = Counter()
        self.gauges: dict[str, int] = {}
        self._lock = threading.Lock()

    def _count(self, *key: str, n: int = 1) -> None:
        with self._lock:
            self.counts[key] += n

    def alerts_received(self, receiver: str, status: str, count: int) -> None:
        self._count("received", receiver, status, n=count)

    def webhook_rejected(self, reason: str) -> None:
        self._count("rejected", reason)

    def alert_processed(self, outcome: str, validation: str, count: int = 1) -> None:
        self._count("processed", outcome, validation, n=count)

    def stage_duration(self, stage: str, seconds: float) -> None:
        with self._lock:
            self.stages[stage] += 1

    def queue_depth(self, depth: int) -> None:
        self.gauges["queue_depth"] = depth

    def inbox_pending(self, count: int) -> None:
        self.gauges["inbox_pending"] = count

    def k8s_call(self, resource: str, code: str, count: int = 1) -> None:
        self._count("k8s", resource, code, n=count)

    def k8s_cache(self, hit: bool, count: int = 1) -> None:
        self._count("cache", "hit" if hit else "miss", n=count)

    def store_error(self, operation: str) -> None:
        self._count("store_error", operation)

    def http_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self._count("http", method, endpoint, str(status))


class HeldValidator(Validator):
    """Holds every alert until `release` is set: fills the queue, or keeps work in flight, deterministically."""

    def __init__(self) -> None:
        super().__init__(FakeK8sClient(namespaces=["prod"]))
        self.release = threading.Event()

    def validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        self.release.wait(10)
        return super().validate(alert)


class ManualClock:
    """A monotonic clock that moves only when a test sets `now`."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now
