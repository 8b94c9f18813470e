"""GroupCommitter: one writer thread stores processed alerts many to a transaction (group commit)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import NamedTuple

from alerts_processor.interfaces import IAlertsRepository, IMetrics
from alerts_processor.models import ProcessedAlert, StoreUnavailable

log = logging.getLogger(__name__)
# done(stored, count): once per round for the `count` alerts of that round that share this callback
# (False: the store failed). The alerts of one pool task share one: their completions are counted
# together, in the writer thread, instead of taking the queue's and the inbox's locks once each.
Done = Callable[[bool, int], None]
_STOP = object()


class _Pending(NamedTuple):
    """An alert waiting for the writer, with what the store encoded of it beforehand."""

    item: ProcessedAlert
    encoded: object
    done: Done


class _Task:
    """Work queued with call_soon() (told apart from alerts by its type)."""

    def __init__(self, run: Callable[[], None]) -> None:
        self.run = run


class GroupCommitter:
    """Gathers the writes of alerts prepared in parallel into one transaction per round.

    A commit's fixed cost is then shared by every alert waiting for it.
    """

    def __init__(self, repository: IAlertsRepository, metrics: IMetrics, max_batch: int = 2000) -> None:
        self._repository = repository
        self._metrics = metrics
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def submit(self, item: ProcessedAlert, done: Done) -> None:
        """Store `item` soon; `done(stored, count)` is called from the writer thread (see Done).

        The store's encoding of the record is done here, in the caller's thread: the writer thread
        is the one thing every alert of the process waits for.
        """
        encoded = self._repository.encode(item)
        self._start()
        self._queue.put(_Pending(item, encoded, done))

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                self._thread.start()
                self._started = True

    def call_soon(self, task: Callable[[], None]) -> None:
        """Run `task` on the writer thread after the round under way (or at once when idle)."""
        self._start()
        self._queue.put(_Task(task))

    def stop(self) -> None:
        """Write what is queued, then end the writer thread."""
        with self._lock:
            if not self._started:
                return
        self._queue.put(_STOP)
        self._thread.join()

    def _loop(self) -> None:
        while True:
            batch: list[_Pending] = []
            tasks: list[_Task] = []
            stopping = False
            entry = self._queue.get()
            while True:
                if entry is _STOP:
                    stopping = True
                    break
                if isinstance(entry, _Task):
                    tasks.append(entry)
                else:
                    batch.append(entry)  # type: ignore[arg-type]
                if len(batch) >= self._max_batch:
                    break
                try:
                    entry = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            self._run(tasks)
            if stopping:
                # What the last round's callbacks queued behind the stop (finishing inbox entries).
                while not self._queue.empty():
                    self._run([self._queue.get_nowait()])  # type: ignore[list-item]
                return

    def _run(self, tasks: list[_Task]) -> None:
        for task in tasks:
            try:
                task.run()
            except Exception:  # a task's failure must not end the writer
                log.exception("writer task failed")

    def _write(self, batch: list[_Pending]) -> None:
        started = time.perf_counter()
        try:
            applied = self._repository.save_encoded([(p.item, p.encoded) for p in batch])
        except StoreUnavailable as exc:
            self._metrics.store_error("save")
            log.warning("store unavailable; alerts left in the inbox", extra={"alerts": len(batch), "error": str(exc)})
            for (validation,), n in Counter((p.item.validation.status.value,) for p in batch).items():
                self._metrics.alert_processed("store_error", validation, n)
            _report(batch, stored=False)
            return
        self._metrics.stage_duration("store", (time.perf_counter() - started) / len(batch))
        outcomes = Counter(
            ("stored" if fresh else "duplicate", p.item.validation.status.value)
            for p, fresh in zip(batch, applied, strict=True)
        )
        for (outcome, validation), n in outcomes.items():
            self._metrics.alert_processed(outcome, validation, n)
        _report(batch, stored=True)


def _report(batch: list[_Pending], stored: bool) -> None:
    # Grouped by identity, not by hash: a callback need not be hashable, and every one of them is
    # alive (held by the batch) while the ids are compared.
    counts: dict[int, tuple[Done, int]] = {}
    for p in batch:
        _, count = counts.get(id(p.done), (p.done, 0))
        counts[id(p.done)] = (p.done, count + 1)
    for done, count in counts.values():
        try:
            done(stored, count)
        except Exception:  # one caller's bug must not cost the others their completion
            log.exception("completion callback failed")
