"""PipelineService: durable intake, then sanitize → validate → enrich → store per alert on a bounded pool."""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from alerts_processor.interfaces import IAlertsRepository, IMetrics
from alerts_processor.models import (
    AlertmanagerPayload,
    Delivery,
    ProcessedAlert,
    QueueFull,
    RawAlert,
    StoreUnavailable,
)
from alerts_processor.no_wait import without_waiting
from alerts_processor.pipeline.capacity import Capacity
from alerts_processor.pipeline.committer import GroupCommitter
from alerts_processor.pipeline.inflight import InFlight
from alerts_processor.pipeline.payload import PayloadError, PayloadParser
from alerts_processor.pipeline.processor import AlertProcessor

log = logging.getLogger(__name__)
CHUNK = 8
Later = Callable[[Callable[[], None]], None]  # takes a task to run once the answer is sent


def new_entry_id() -> str:
    """A unique id that sorts by creation time (like UUIDv7: 64 bits of nanoseconds, 64 random).

    Delivery ids start with it: time-ordered keys append to the end of the deliveries index, where
    random ones (uuid4) dirtied a page of it per alert in every group commit.
    """
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


def utcnow() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


class PipelineService:
    """Owns the pool's queue bound and the inbox protocol; each alert is processed independently."""

    def __init__(
        self,
        processor: AlertProcessor,
        committer: GroupCommitter,
        parser: PayloadParser,
        repository: IAlertsRepository,
        executor: Executor,
        metrics: IMetrics,
        queue_max: int,
        inbox_lease: float,
        inbox_max_attempts: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._processor = processor
        self._committer = committer
        self._parser = parser
        self._metrics = metrics
        self._repository = repository
        self._executor = executor
        self.capacity = Capacity(queue_max)
        self._lease = timedelta(seconds=inbox_lease)
        self._max_attempts = inbox_max_attempts
        self._clock = clock
        self._inflight = InFlight()
        self._finish_lock = threading.Lock()
        self._to_finish: list[str] = []

    def accept(self, payload: AlertmanagerPayload, body: bytes, later: Later | None = None) -> str:
        """Durably record the batch, then queue its alerts; raise QueueFull or StoreUnavailable.

        `later`, if given, takes a task to run once the answer is sent (in the request's thread):
        the alerts the Kubernetes cache can answer are then processed there, without a hand-off to
        the pool; the others go to the pool. Without it, all of them go to the pool at once.
        """
        count = len(payload.alerts)
        if not self.capacity.reserve(count):
            raise QueueFull(f"{self.capacity.in_use} of {self.capacity.total} queue slots in use")
        entry_id = new_entry_id()
        now = self._clock()
        try:
            self._repository.add_inbox(entry_id, body, now, now + self._lease)
        except BaseException:
            self.capacity.release(count)
            self._metrics.store_error("inbox")
            raise
        self._dispatch(entry_id, payload, now, later)
        self._metrics.queue_depth(self.capacity.in_use)
        return entry_id

    def renew_leases(self) -> None:
        """Extend the leases of every entry still queued here, so no other worker takes them over."""
        held = self._inflight.ids()
        if held:
            self._repository.renew_inbox(held, self._clock() + self._lease)

    def recover(self, limit: int = 100) -> int:
        """Take over inbox entries whose worker died or gave up; returns how many were requeued."""
        requeued = 0
        while requeued < limit and self.capacity.in_use < self.capacity.total:
            now = self._clock()
            entries = self._repository.claim_inbox(now, now + self._lease, limit=1)
            if not entries:
                break
            entry = entries[0]
            if entry.attempts > self._max_attempts:
                self._repository.bury_inbox(entry.id, f"gave up after {entry.attempts - 1} attempts")
                log.error("inbox entry set aside", extra={"inbox_id": entry.id, "attempts": entry.attempts})
                continue
            try:
                payload = self._parser.parse(json.loads(entry.body))
            except (ValueError, PayloadError) as exc:
                self._repository.bury_inbox(entry.id, f"unreadable body: {exc}")
                continue
            if not self.capacity.reserve(len(payload.alerts)):
                break  # the lease expires and a later sweep (here or elsewhere) retries it
            log.info("replaying inbox entry", extra={"inbox_id": entry.id, "attempts": entry.attempts})
            self._dispatch(entry.id, payload, entry.received_at)
            requeued += 1
        return requeued

    def _dispatch(
        self, entry_id: str, payload: AlertmanagerPayload, received_at: datetime, later: Later | None = None
    ) -> None:
        if not payload.alerts:
            self._finish([entry_id])
            return
        if not self._inflight.start(entry_id, len(payload.alerts)):
            self.capacity.release(len(payload.alerts))  # already queued here; its lease is renewed again
            return
        work = [
            (raw, Delivery(f"{entry_id}:{index}", payload.receiver, payload.group_key, received_at))
            for index, raw in enumerate(payload.alerts)
        ]
        # Alerts go on a few at a time: still in parallel (a Kubernetes read of one does not hold up
        # the others for long), without paying a task's overhead for every single alert.
        chunks = [work[start : start + CHUNK] for start in range(0, len(work), CHUNK)]
        if later is None:
            self._to_pool(chunks, entry_id)
            return
        # The context (the request id of the logs) travels with the alerts past the answer.
        later(functools.partial(contextvars.copy_context().run, self._run_cached, chunks, entry_id))

    def _to_pool(self, chunks: list[list[tuple[RawAlert, Delivery]]], entry_id: str) -> None:
        for chunk in chunks:  # with the caller's context (the request id of the logs)
            self._executor.submit(contextvars.copy_context().run, self._run_chunk, chunk, entry_id)

    def _run_cached(self, chunks: list[list[tuple[RawAlert, Delivery]]], entry_id: str) -> None:
        """Process here the chunks that need no I/O but the group commit's; from the first that does, the pool.

        A hand-off to a pool thread costs more than the cached pipeline of a few alerts on a busy
        machine: 5.7% more throughput in the benchmark (26 alternated pairs, 1.057, 1.028-1.097).
        A chunk that would wait (a Kubernetes read the cache cannot answer, a dead letter) is given
        up before it has changed anything, and it and the rest go to the pool.
        """
        for index, chunk in enumerate(chunks):
            try:
                with without_waiting():
                    prepared = self._processor.prepare_many(chunk)
            except Exception:  # WouldBlock; any other failure, the pool's path handles alert by alert
                self._to_pool(chunks[index:], entry_id)
                return
            self._commit(prepared, entry_id)

    def _run_chunk(self, work: list[tuple[RawAlert, Delivery]], entry_id: str) -> None:
        try:
            prepared = self._processor.prepare_many(work)
        except StoreUnavailable:
            self._metrics.store_error("dead_letter")
            self._complete(entry_id, False, len(work))
            return
        except Exception:  # a bug: run the alerts one by one so it costs only the alert that hits it
            if len(work) > 1:
                for one in work:
                    self._run_chunk([one], entry_id)
                return
            log.exception("alert processing failed", extra={"delivery_id": work[0][1].delivery_id})
            self._complete(entry_id, False)
            return
        self._commit(prepared, entry_id)

    def _commit(self, prepared: list[ProcessedAlert | None], entry_id: str) -> None:
        done = functools.partial(self._complete, entry_id)  # one per chunk: the writer counts them together
        for processed in prepared:
            if processed is None:
                self._complete(entry_id, True)
                continue
            try:  # the store encodes the record here, in this thread
                self._committer.submit(processed, done)
            except Exception:  # a record the store cannot take: the entry is replayed, then set aside
                log.exception("alert could not be encoded", extra={"delivery_id": processed.delivery.delivery_id})
                self._complete(entry_id, False)

    def _complete(self, entry_id: str, stored: bool, count: int = 1) -> None:
        self.capacity.release(count)
        self._metrics.queue_depth(self.capacity.in_use)
        if self._inflight.done(entry_id, stored, count):
            self._finish_soon(entry_id)  # on failure the lease lapses and the entry is replayed

    def _finish_soon(self, entry_id: str) -> None:
        # Entries finished while a group commit was written are deleted together, by the writer
        # thread right after it: one inbox transaction per round instead of one per entry.
        with self._finish_lock:
            self._to_finish.append(entry_id)
            first = len(self._to_finish) == 1
        if first:
            self._committer.call_soon(self._finish_pending)

    def _finish_pending(self) -> None:
        with self._finish_lock:
            entry_ids, self._to_finish = self._to_finish, []
        self._finish(entry_ids)

    def _finish(self, entry_ids: list[str]) -> None:
        try:
            self._repository.finish_inbox_many(entry_ids)
        except StoreUnavailable:
            self._metrics.store_error("finish")
            log.warning("inbox entries not marked finished; they will be replayed", extra={"inbox_ids": entry_ids})
