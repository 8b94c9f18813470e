from datetime import UTC, datetime, timedelta

from alerts_processor.models import Delivery, ProcessedAlert, RawAlert, Validation, ValidationStatus
from alerts_processor.pipeline.retention import Retention
from alerts_processor.pipeline.sanitize import Sanitizer
from tests.fakes import InMemoryAlertsRepository, ManualClock

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def episode(n: int, age_days: float) -> ProcessedAlert:
    alert = Sanitizer().sanitize(RawAlert("firing", {"alertname": "A", "n": str(n)}, {}, "2026-01-01T00:00:00Z", "",
                                          "", ""))  # fmt: skip
    received = NOW - timedelta(days=age_days)
    return ProcessedAlert(
        alert, Validation(ValidationStatus.SKIPPED), None, None, Delivery(f"d{n}", "r", "g", received)
    )


def test_prunes_in_batches_and_at_most_every_interval() -> None:
    repo, ticks = InMemoryAlertsRepository(), ManualClock()
    for n in range(2500):
        repo.save(episode(n, 100))
    repo.save(episode(9999, 1))
    retention = Retention(repo, days=90, clock=lambda: NOW, every=3600, monotonic=ticks)
    assert retention.maybe_run() == 2500  # three batches of at most 1,000
    repo.save(episode(5000, 100))
    assert retention.maybe_run() == 0  # not yet time
    ticks.now = 3601
    assert retention.maybe_run() == 1
    assert len(repo.records) == 1


def test_zero_days_keeps_everything() -> None:
    repo = InMemoryAlertsRepository()
    repo.save(episode(1, 10000))
    assert Retention(repo, days=0, clock=lambda: NOW).maybe_run() == 0 and len(repo.records) == 1
