"""AlertProcessor: one alert through sanitize → validate → enrich → store, timed and counted."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TypeVar

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

log = logging.getLogger(__name__)
T = TypeVar("T")


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

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._metrics.stage_duration(stage, time.perf_counter() - started)

    def _stage(self, stage: str, work: Callable[[], T]) -> T:
        with self._timed(stage):
            return work()

    def prepare(self, raw: RawAlert, delivery: Delivery) -> ProcessedAlert | None:
        """Sanitize, validate and enrich; None when the alert was dead-lettered instead (raises StoreUnavailable)."""
        try:
            alert = self._stage("sanitize", lambda: self._sanitizer.sanitize(raw))
        except InvalidAlert as invalid:
            self._dead_letter(raw, delivery, str(invalid))
            self._metrics.alert_processed("dead_letter", "none")
            return None
        validated = self._stage("validate", lambda: self._validate(alert))
        enriched = self._stage("enrich", lambda: self._enricher.enrich(validated))
        return ProcessedAlert(
            alert=alert,
            validation=validated.validation,
            workload=validated.workload,
            enrichment=enriched.enrichment,
            delivery=delivery,
        )

    def _dead_letter(self, raw: RawAlert, delivery: Delivery, reason: str) -> None:
        raw_json = json.dumps(asdict(raw), default=dict, sort_keys=True)
        self._repository.dead_letter(delivery.delivery_id, raw_json, reason, delivery.received_at)
        log.warning("alert dead-lettered", extra={"delivery_id": delivery.delivery_id, "reason": reason})

    def _validate(self, alert: SanitizedAlert) -> ValidatedAlert:
        try:
            return self._validator.validate(alert)
        except Exception as exc:  # validation must never cost us the alert
            log.exception("validator failed", extra={"alert_id": alert.id})
            reason = f"validator error: {type(exc).__name__}"
            return ValidatedAlert(alert, Validation(ValidationStatus.UNKNOWN, reason), alert.target)
