"""PipelineService: durable intake, then sanitize → validate → enrich → store per alert on a bounded pool."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

from alerts_processor.interfaces import IAlertsRepository, IEnricher, ISanitizer, IValidator
from alerts_processor.models import (
    AlertmanagerPayload,
    Delivery,
    InvalidAlert,
    ProcessedAlert,
    QueueFull,
    RawAlert,
    SanitizedAlert,
    StoreUnavailable,
    ValidatedAlert,
    Validation,
    ValidationStatus,
)
from alerts_processor.pipeline.capacity import Capacity
from alerts_processor.pipeline.inflight import InFlight
from alerts_processor.pipeline.payload import PayloadError, parse_payload

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


class PipelineService:
    """Owns the pool's queue bound and the inbox protocol; each alert is processed independently."""

    def __init__(
        self,
        sanitizer: ISanitizer,
        validator: IValidator,
        enricher: IEnricher,
        repository: IAlertsRepository,
        executor: Executor,
        queue_max: int,
        inbox_lease: float,
        inbox_max_attempts: int,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sanitizer = sanitizer
        self._validator = validator
        self._enricher = enricher
        self._repository = repository
        self._executor = executor
        self.capacity = Capacity(queue_max)
        self._lease = timedelta(seconds=inbox_lease)
        self._max_attempts = inbox_max_attempts
        self._clock = clock
        self._inflight = InFlight()

    def accept(self, payload: AlertmanagerPayload, body: bytes) -> str:
        """Durably record the batch, then queue its alerts; raise QueueFull or StoreUnavailable."""
        count = len(payload.alerts)
        if not self.capacity.reserve(count):
            raise QueueFull(f"{self.capacity.in_use} of {self.capacity.total} queue slots in use")
        entry_id = uuid.uuid4().hex
        now = self._clock()
        try:
            self._repository.add_inbox(entry_id, body, now, now + self._lease)
        except BaseException:
            self.capacity.release(count)
            raise
        self._dispatch(entry_id, payload, now)
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
                payload = parse_payload(json.loads(entry.body))
            except (ValueError, PayloadError) as exc:
                self._repository.bury_inbox(entry.id, f"unreadable body: {exc}")
                continue
            if not self.capacity.reserve(len(payload.alerts)):
                break  # the lease expires and a later sweep (here or elsewhere) retries it
            log.info("replaying inbox entry", extra={"inbox_id": entry.id, "attempts": entry.attempts})
            self._dispatch(entry.id, payload, entry.received_at)
            requeued += 1
        return requeued

    def _dispatch(self, entry_id: str, payload: AlertmanagerPayload, received_at: datetime) -> None:
        if not payload.alerts:
            self._finish(entry_id)
            return
        if not self._inflight.start(entry_id, len(payload.alerts)):
            self.capacity.release(len(payload.alerts))  # already queued here; its lease is renewed again
            return
        for index, raw in enumerate(payload.alerts):
            delivery = Delivery(
                delivery_id=f"{entry_id}:{index}",
                receiver=payload.receiver,
                group_key=payload.group_key,
                received_at=received_at,
            )
            self._executor.submit(self._run, raw, delivery, entry_id)

    def _run(self, raw: RawAlert, delivery: Delivery, entry_id: str) -> None:
        try:
            stored = self.process(raw, delivery)
        except Exception:  # a bug must not kill the pool thread or leave the slot taken
            log.exception("alert processing failed", extra={"delivery_id": delivery.delivery_id})
            stored = False
        finally:
            self.capacity.release(1)
        if self._inflight.done(entry_id, stored):
            self._finish(entry_id)  # on failure the lease lapses and the entry is replayed

    def _finish(self, entry_id: str) -> None:
        try:
            self._repository.finish_inbox(entry_id)
        except StoreUnavailable:
            log.warning("inbox entry not marked finished; it will be replayed", extra={"inbox_id": entry_id})

    def process(self, raw: RawAlert, delivery: Delivery) -> bool:
        """Run one alert through every stage; False when the store could not take it (replayed later)."""
        try:
            try:
                alert = self._sanitizer.sanitize(raw)
            except InvalidAlert as invalid:
                raw_json = json.dumps(asdict(raw), default=dict, sort_keys=True)
                self._repository.dead_letter(delivery.delivery_id, raw_json, str(invalid), delivery.received_at)
                log.warning("alert dead-lettered", extra={"delivery_id": delivery.delivery_id, "reason": str(invalid)})
                return True
            validated = self._validate(alert)
            enriched = self._enricher.enrich(validated)
            self._repository.save(
                ProcessedAlert(
                    alert=alert,
                    validation=validated.validation,
                    workload=validated.workload,
                    enrichment=enriched.enrichment,
                    delivery=delivery,
                )
            )
        except StoreUnavailable as exc:
            log.warning(
                "store unavailable; alert left in the inbox",
                extra={"delivery_id": delivery.delivery_id, "error": str(exc)},
            )
            return False
        return True

    def _validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        try:
            return self._validator.validate(alert)
        except Exception as exc:  # validation must never cost us the alert
            log.exception("validator failed", extra={"alert_id": alert.id})
            reason = f"validator error: {type(exc).__name__}"
            return ValidatedAlert(alert, Validation(ValidationStatus.UNKNOWN, reason), alert.target)
