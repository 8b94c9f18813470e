"""AlertProcessor: one alert through sanitize → validate → enrich → store, timed and counted."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict

from alerts_processor.interfaces import IAlertsRepository, IEnricher, IMetrics, ISanitizer, IValidator
from alerts_processor.models import (
    Delivery,
    InvalidAlert,
    ProcessedAlert,
    RawAlert,
    SanitizedAlert,
    ValidatedAlert,
    Validation,
    ValidationStatus,
)
from alerts_processor.no_wait import WouldBlock, may_wait

log = logging.getLogger(__name__)


class AlertProcessor:
    """Runs the stages for one alert; never raises for bad input or Kubernetes trouble."""

    def __init__(
        self,
        sanitizer: ISanitizer,
        validator: IValidator,
        enricher: IEnricher,
        repository: IAlertsRepository,
        metrics: IMetrics,
    ) -> None:
        self._sanitizer = sanitizer
        self._validator = validator
        self._enricher = enricher
        self._repository = repository
        self._metrics = metrics

    def prepare_many(self, work: Sequence[tuple[RawAlert, Delivery]]) -> list[ProcessedAlert | None]:
        """Sanitize, validate and enrich alerts together, a stage at a time.

        None stands for an alert dead-lettered instead; raises StoreUnavailable. Each stage is
        timed once for the group (the per-alert mean is observed): timing and counting every alert
        cost more than the stages themselves once the Kubernetes cache is warm.
        """
        started = time.perf_counter()
        sanitized: list[SanitizedAlert | None] = []
        for raw, delivery in work:
            try:
                sanitized.append(self._sanitizer.sanitize(raw))
            except InvalidAlert as invalid:
                may_wait("a dead letter")  # a store write
                self._dead_letter(raw, delivery, str(invalid))
                self._metrics.alert_processed("dead_letter", "none")
                sanitized.append(None)
        checked = time.perf_counter()
        validated = [None if alert is None else self._validate(alert) for alert in sanitized]
        resolved = time.perf_counter()
        enriched = [None if alert is None else self._enricher.enrich(alert) for alert in validated]
        finished = time.perf_counter()
        n = len(work)
        self._metrics.stage_duration("sanitize", (checked - started) / n)
        self._metrics.stage_duration("validate", (resolved - checked) / n)
        self._metrics.stage_duration("enrich", (finished - resolved) / n)
        return [
            None
            if alert is None
            else ProcessedAlert(
                alert=alert.validated.alert,
                validation=alert.validated.validation,
                workload=alert.validated.workload,
                enrichment=alert.enrichment,
                delivery=delivery,
            )
            for alert, (_, delivery) in zip(enriched, work, strict=True)
        ]

    def _dead_letter(self, raw: RawAlert, delivery: Delivery, reason: str) -> None:
        raw_json = json.dumps(asdict(raw), default=dict, sort_keys=True)
        self._repository.dead_letter(delivery.delivery_id, raw_json, reason, delivery.received_at)
        log.warning("alert dead-lettered", extra={"delivery_id": delivery.delivery_id, "reason": reason})

    def _validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        try:
            return self._validator.validate(alert)
        except WouldBlock:
            raise  # not a failure: the caller runs the alert again where it may wait
        except Exception as exc:  # validation must never cost us the alert
            log.exception("validator failed", extra={"alert_id": alert.id})
            reason = f"validator error: {type(exc).__name__}"
            return ValidatedAlert(alert, Validation(ValidationStatus.UNKNOWN, reason), alert.target)
