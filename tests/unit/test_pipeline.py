import json
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from alerts_processor.interfaces import IK8sClient
from alerts_processor.models import ProcessedAlert, QueueFull, StoreUnavailable, ValidatedAlert, ValidationStatus
from alerts_processor.pipeline.committer import GroupCommitter
from alerts_processor.pipeline.enrich import Enricher
from alerts_processor.pipeline.k8s_cache import CachingK8sClient
from alerts_processor.pipeline.payload import PayloadParser, parse_payload
from alerts_processor.pipeline.processor import AlertProcessor
from alerts_processor.pipeline.sanitize import Sanitizer
from alerts_processor.pipeline.service import PipelineService
from alerts_processor.pipeline.validate import Validator
from tests.fakes import FakeK8sClient, HeldValidator, InMemoryAlertsRepository, RecordingMetrics
from tests.helpers import alert, payload, sample, wait_until

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def repo() -> InMemoryAlertsRepository:
    return InMemoryAlertsRepository()


COMMITTERS: list[GroupCommitter] = []


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(4)
    yield pool
    pool.shutdown(wait=True)
    while COMMITTERS:
        COMMITTERS.pop().stop()


def make_service(
    repo: InMemoryAlertsRepository,
    executor: ThreadPoolExecutor,
    queue_max: int = 100,
    validator: Validator | None = None,
    clock: Clock | None = None,
    metrics: RecordingMetrics | None = None,
    k8s: IK8sClient | None = None,
) -> PipelineService:
    k8s = k8s or FakeK8sClient(namespaces=["prod"])
    metrics = metrics or RecordingMetrics()
    processor = AlertProcessor(Sanitizer(), validator or Validator(k8s), Enricher(k8s), repo, metrics)
    committer = GroupCommitter(repo, metrics)
    COMMITTERS.append(committer)
    return PipelineService(
        processor,
        committer,
        PayloadParser(),
        repo,
        executor,
        metrics,
        queue_max=queue_max,
        inbox_lease=30,
        inbox_max_attempts=3,
        clock=clock or Clock(),
    )


def accept(service: PipelineService, document: dict[str, object]) -> str:
    return service.accept(parse_payload(document), json.dumps(document).encode())


def test_batch_is_stored_and_inbox_finished(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    service = make_service(repo, executor)
    accept(service, sample("app-batch-mixed"))
    wait_until(lambda: len(repo.records) == 3 and not repo.inbox, message="3 records, inbox empty")
    statuses = sorted(r.status for r in repo.records.values())
    assert statuses == ["firing", "firing", "resolved"]
    assert service.capacity.in_use == 0


def test_redelivery_updates_the_same_record(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    service = make_service(repo, executor)
    firing = payload(alert(namespace="prod", deployment="web"))
    accept(service, firing)
    accept(service, firing)
    wait_until(lambda: not repo.inbox and sum(r.notifications for r in repo.records.values()) == 2)
    resolved = payload(alert("resolved", ends_at="2026-11-30T05:00:00Z", namespace="prod", deployment="web"))
    accept(service, resolved)
    wait_until(lambda: not repo.inbox)
    (record,) = repo.records.values()
    assert record.notifications == 3 and record.status == "resolved"


def test_full_queue_rejects_the_whole_batch(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    validator = HeldValidator()
    service = make_service(repo, executor, queue_max=3, validator=validator)
    accept(service, sample("app-batch-mixed"))
    with pytest.raises(QueueFull):
        accept(service, payload(alert(namespace="prod")))
    assert len(repo.inbox) == 1  # the rejected batch was never recorded
    validator.release.set()
    wait_until(lambda: not repo.inbox and service.capacity.in_use == 0)
    accept(service, payload(alert(namespace="prod")))


def test_store_down_at_intake_raises_and_frees_the_slots(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    service = make_service(repo, executor)
    repo.down = True
    with pytest.raises(StoreUnavailable):
        accept(service, sample("app-batch-mixed"))
    assert service.capacity.in_use == 0


def fail_once(method: Callable[..., T]) -> Callable[..., T]:
    """`method`, except that its first call raises StoreUnavailable (a store's blip)."""
    failures = iter([True])

    def flaky(*args: Any) -> T:
        if next(failures, False):
            raise StoreUnavailable("blip")
        return method(*args)

    return flaky


def test_store_failure_leaves_the_entry_for_replay(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    clock = Clock()
    service = make_service(repo, executor, clock=clock)
    repo.save = fail_once(repo.save)  # type: ignore[method-assign]
    accept(service, sample("app-batch-mixed"))
    wait_until(lambda: service.capacity.in_use == 0)
    assert len(repo.inbox) == 1 and len(repo.records) < 3  # the failed write (its whole group) is not stored
    assert service.recover() == 0  # still leased to us
    clock.now += timedelta(seconds=31)
    assert service.recover() == 1
    wait_until(lambda: not repo.inbox)
    assert len(repo.records) == 3
    assert all(r.notifications == 1 for r in repo.records.values())  # the replay did not double-count


def test_queued_entries_keep_their_lease(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    clock = Clock()
    validator = HeldValidator()
    service = make_service(repo, executor, validator=validator, clock=clock)
    accept(service, sample("app-batch-mixed"))
    for _ in range(5):  # long past the first lease, but renewed every sweep
        clock.now += timedelta(seconds=20)
        service.renew_leases()
        assert service.recover() == 0
    (entry,) = repo.inbox.values()
    assert entry["attempts"] == 1
    validator.release.set()
    wait_until(lambda: not repo.inbox and len(repo.records) == 3)


def test_entry_claimed_back_while_still_queued_is_not_run_twice(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    clock = Clock()
    validator = HeldValidator()
    service = make_service(repo, executor, validator=validator, clock=clock)
    accept(service, sample("app-batch-mixed"))
    clock.now += timedelta(seconds=31)  # no renewal: the lease lapsed although the batch is queued here
    assert service.recover() == 1
    assert service.capacity.in_use == 3  # not queued a second time
    validator.release.set()
    wait_until(lambda: not repo.inbox)
    assert all(r.notifications == 1 for r in repo.records.values())


def test_poison_entry_is_buried_after_max_attempts(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    clock = Clock()
    service = make_service(repo, executor, clock=clock)
    repo.save = lambda processed: (_ for _ in ()).throw(StoreUnavailable("always"))  # type: ignore[method-assign]
    accept(service, payload(alert(namespace="prod")))
    for _ in range(4):
        wait_until(lambda: service.capacity.in_use == 0)
        clock.now += timedelta(seconds=31)
        service.recover()
    wait_until(lambda: service.capacity.in_use == 0)
    (entry,) = repo.inbox.values()
    assert entry["state"] == "dead"
    clock.now += timedelta(seconds=31)
    assert service.recover() == 0


def test_bad_alert_is_dead_lettered_and_the_rest_stored(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    service = make_service(repo, executor)
    accept(service, payload(alert(namespace="prod", deployment="a"), alert(starts_at="not a time", deployment="b")))
    wait_until(lambda: not repo.inbox)
    assert len(repo.records) == 1
    ((raw, reason),) = repo.dead_letters.values()
    assert "startsAt" in reason and '"not a time"' in raw


def test_dead_letter_store_failure_leaves_the_entry_for_replay(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    clock = Clock()
    service = make_service(repo, executor, clock=clock)
    repo.dead_letter = fail_once(repo.dead_letter)  # type: ignore[method-assign]
    accept(service, payload(alert(namespace="prod", deployment="a"), alert(starts_at="not a time", deployment="b")))
    wait_until(lambda: service.capacity.in_use == 0)  # every queue slot of the failed chunk is given back
    assert len(repo.inbox) == 1 and not repo.dead_letters
    clock.now += timedelta(seconds=31)
    assert service.recover() == 1
    wait_until(lambda: not repo.inbox)
    assert len(repo.records) == 1 and len(repo.dead_letters) == 1


def test_validator_bug_stores_the_alert_as_unknown(
    repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor
) -> None:
    class Broken(Validator):
        def validate(self, alert: object) -> ValidatedAlert:
            raise KeyError("bug")

    service = make_service(repo, executor, validator=Broken(FakeK8sClient()))
    accept(service, payload(alert(namespace="prod")))
    wait_until(lambda: not repo.inbox)
    (record,) = repo.records.values()
    assert record.validation.status is ValidationStatus.UNKNOWN and "KeyError" in (record.validation.reason or "")


def test_empty_batch_is_finished_at_once(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    accept(make_service(repo, executor), payload())
    assert not repo.inbox


def test_metrics_count_outcomes_stages_and_queue(repo: InMemoryAlertsRepository, executor: ThreadPoolExecutor) -> None:
    metrics = RecordingMetrics()
    service = make_service(repo, executor, metrics=metrics)
    accept(service, payload(alert(namespace="prod", deployment="web"), alert(starts_at="bad", deployment="x")))
    accept(service, payload(alert(namespace="prod", deployment="web")))
    wait_until(lambda: not repo.inbox)
    wait_until(lambda: sum(n for k, n in metrics.counts.items() if k[0] == "processed") == 3)
    assert metrics.counts[("processed", "stored", "invalid")] == 2  # deployment web is not in the fake cluster
    assert metrics.counts[("processed", "duplicate", "invalid")] == 0
    assert metrics.counts[("processed", "dead_letter", "none")] == 1
    # Stages are timed once per group of alerts processed together (here one group per batch).
    assert metrics.stages["sanitize"] == 2 and metrics.stages["validate"] == 2 and 1 <= metrics.stages["store"] <= 2
    wait_until(lambda: metrics.gauges.get("queue_depth") == 0)


def test_an_alert_the_store_cannot_encode_leaves_its_batch_to_replay(executor: ThreadPoolExecutor) -> None:
    class Picky(InMemoryAlertsRepository):
        def encode(self, processed: ProcessedAlert) -> object:
            if processed.alert.labels.get("seq") == "bad":
                raise TypeError("not JSON serializable")
            return None

    repo = Picky()
    service = make_service(repo, executor)
    accept(service, payload(alert(namespace="prod", seq="good"), alert(namespace="prod", seq="bad")))
    wait_until(lambda: service.capacity.in_use == 0, message="every slot given back")
    assert [r.labels["seq"] for r in repo.records.values()] == ["good"]
    assert len(repo.inbox) == 1  # not finished: replayed once its lease lapses, set aside in the end


class CountingExecutor(ThreadPoolExecutor):
    """A pool that counts the tasks it is given."""

    def __init__(self) -> None:
        super().__init__(2)
        self.tasks = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        self.tasks += 1
        return super().submit(fn, *args, **kwargs)


def test_alerts_the_cache_can_answer_are_processed_after_the_answer_without_the_pool(
    repo: InMemoryAlertsRepository,
) -> None:
    inner = FakeK8sClient(namespaces=["prod"])
    cache = CachingK8sClient(inner, ttl=60, metrics=RecordingMetrics())
    pool = CountingExecutor()
    service = make_service(repo, pool, k8s=cache)
    later: list[Callable[[], None]] = []
    batch = payload(*[alert(namespace="prod", deployment="web", pod=f"web-{n}") for n in range(10)])
    service.accept(parse_payload(batch), json.dumps(batch).encode(), later.append)
    assert pool.tasks == 0 and len(later) == 1  # nothing runs before the answer
    later.pop()()  # the answer is sent: the cache is cold, so both chunks go to the pool
    wait_until(lambda: len(repo.records) == 10 and not repo.inbox, message="cold batch stored")
    assert pool.tasks == 2 and inner.calls > 0
    calls = inner.calls
    again = payload(*[alert(namespace="prod", deployment="web", pod=f"web-{n}") for n in range(10, 20)])
    service.accept(parse_payload(again), json.dumps(again).encode(), later.append)
    later.pop()()
    wait_until(lambda: len(repo.records) == 20 and not repo.inbox, message="warm batch stored")
    assert pool.tasks == 2 and inner.calls == calls  # here, from the cache alone
    assert service.capacity.in_use == 0
    pool.shutdown(wait=True)


def test_a_bad_alert_after_the_answer_is_dead_lettered_by_the_pool(repo: InMemoryAlertsRepository) -> None:
    pool = CountingExecutor()
    service = make_service(repo, pool, k8s=CachingK8sClient(FakeK8sClient(), ttl=60, metrics=RecordingMetrics()))
    later: list[Callable[[], None]] = []
    batch = payload(alert(starts_at="not a time"))
    service.accept(parse_payload(batch), json.dumps(batch).encode(), later.append)
    later.pop()()
    wait_until(lambda: not repo.inbox, message="entry finished")
    assert pool.tasks == 1 and len(repo.dead_letters) == 1
    pool.shutdown(wait=True)
