import functools
import threading
from collections.abc import Sequence
from datetime import UTC, datetime

from alerts_processor.models import Delivery, ProcessedAlert, RawAlert, Validation, ValidationStatus
from alerts_processor.pipeline.committer import GroupCommitter
from alerts_processor.pipeline.sanitize import Sanitizer
from tests.fakes import InMemoryAlertsRepository, RecordingMetrics
from tests.helpers import wait_until


def item(n: int) -> ProcessedAlert:
    alert = Sanitizer().sanitize(RawAlert("firing", {"alertname": "A", "n": str(n)}, {}, "2026-11-30T00:00:00Z", "",
                                          "", ""))  # fmt: skip
    return ProcessedAlert(alert, Validation(ValidationStatus.SKIPPED), None, None,
                          Delivery(f"d{n}", "r", "g", datetime.now(UTC)))  # fmt: skip


class Results(list[bool]):
    """A completion callback that lists each alert's outcome."""

    def __call__(self, stored: bool, count: int) -> None:
        self.extend([stored] * count)


class GatedRepository(InMemoryAlertsRepository):
    """Records the size of every save_many call; the first call waits so that others queue up."""

    def __init__(self) -> None:
        super().__init__()
        self.groups: list[int] = []
        self.gate = threading.Event()
        self.entered = threading.Event()

    def save_many(self, items: Sequence[ProcessedAlert]) -> list[bool]:
        self.entered.set()
        self.gate.wait(5)
        self.groups.append(len(items))
        return super().save_many(items)


def test_waiting_alerts_share_one_transaction() -> None:
    repo, metrics = GatedRepository(), RecordingMetrics()
    committer = GroupCommitter(repo, metrics, max_batch=50)
    results = Results()
    for n in range(120):
        committer.submit(item(n), results)
    repo.gate.set()
    wait_until(lambda: len(results) == 120)
    committer.stop()
    assert all(results) and len(repo.records) == 120
    assert sum(repo.groups) == 120 and max(repo.groups) == 50 and len(repo.groups) <= 4  # not 120 commits
    assert metrics.counts[("processed", "stored", "skipped")] == 120 and metrics.stages["store"] == len(repo.groups)


def test_store_failure_reports_every_alert_of_the_group() -> None:
    repo, metrics = InMemoryAlertsRepository(), RecordingMetrics()
    repo.down = True
    committer = GroupCommitter(repo, metrics)
    results = Results()
    for n in range(5):
        committer.submit(item(n), results)
    wait_until(lambda: len(results) == 5)
    committer.stop()
    assert results == [False] * 5 and metrics.counts[("store_error", "save")] >= 1


def test_stop_writes_what_is_queued() -> None:
    repo = GatedRepository()
    committer = GroupCommitter(repo, RecordingMetrics())
    results = Results()
    for n in range(10):
        committer.submit(item(n), results)
    threading.Timer(0.05, repo.gate.set).start()
    committer.stop()
    assert len(results) == 10 and len(repo.records) == 10


def test_call_soon_runs_after_the_round_under_way() -> None:
    repo = GatedRepository()
    committer = GroupCommitter(repo, RecordingMetrics())
    seen: list[str] = []
    committer.submit(item(0), lambda stored, count: seen.append(f"stored {stored}"))
    committer.call_soon(lambda: seen.append("task"))
    repo.gate.set()
    wait_until(lambda: len(seen) == 2)
    assert seen == ["stored True", "task"]
    committer.call_soon(lambda: seen.append("idle"))  # nothing to write: run at once
    wait_until(lambda: len(seen) == 3)
    committer.stop()


def test_stop_runs_what_the_last_round_queued() -> None:
    committer = GroupCommitter(InMemoryAlertsRepository(), RecordingMetrics())
    seen: list[str] = []
    for n in range(3):  # each callback queues a task, behind the stop below
        committer.submit(item(n), lambda stored, count, n=n: committer.call_soon(lambda: seen.append(f"after {n}")))
    committer.stop()
    assert sorted(seen) == ["after 0", "after 1", "after 2"]


def test_alerts_sharing_a_callback_are_reported_together() -> None:
    repo = GatedRepository()
    committer = GroupCommitter(repo, RecordingMetrics(), max_batch=1000)
    calls: list[tuple[str, bool, int]] = []
    committer.submit(item(0), lambda stored, count: calls.append(("first", stored, count)))
    assert repo.entered.wait(5)  # the writer holds the first round: the rest make one round
    for n in range(1, 4):
        committer.submit(item(n), lambda stored, count: calls.append(("own", stored, count)))  # one callback each
    shared = functools.partial(lambda name, stored, count: calls.append((name, stored, count)), "shared")
    for n in range(4, 9):
        committer.submit(item(n), shared)
    repo.gate.set()
    wait_until(lambda: sum(count for _, _, count in calls) == 9)
    committer.stop()
    assert sorted(calls) == [("first", True, 1), ("own", True, 1), ("own", True, 1), ("own", True, 1),
                             ("shared", True, 5)]  # fmt: skip
    assert repo.groups == [1, 8]


def test_a_failing_callback_does_not_cost_the_others_their_completion() -> None:
    committer = GroupCommitter(InMemoryAlertsRepository(), RecordingMetrics())
    results = Results()

    def broken(stored: bool, count: int) -> None:
        raise RuntimeError("a bug")

    committer.submit(item(0), broken)
    committer.submit(item(1), results)
    wait_until(lambda: results == [True])
    committer.submit(item(2), results)  # the writer lives on
    wait_until(lambda: results == [True, True])
    committer.stop()
