"""BufferedMetrics: per-alert and per-request observations kept in memory, written to prometheus_client by a thread.

In gunicorn's multiprocess mode every prometheus_client update takes one process-wide lock and
writes a memory-mapped file; done per alert from every pool thread, that was 40% of a worker's
CPU under load. Here each thread counts in a dict of its own (no lock: one writer per dict, and the
flusher only copies it); a flusher applies what changed once a second.
"""

from __future__ import annotations

import threading
from collections import Counter, deque

from alerts_processor.interfaces import IMetrics

_CACHE_HIT = ("cache", "hit")
_CACHE_MISS = ("cache", "miss")


class BufferedMetrics(IMetrics):
    """Buffers the per-alert calls; the rare ones (rejections, errors, gauges) go straight through."""

    def __init__(self, target: IMetrics, interval: float = 1.0) -> None:
        self._target = target
        self._interval = interval
        self._lock = threading.Lock()
        self._local = threading.local()
        # One dict per counting thread, never reset; a finished thread's is folded into _retired.
        self._shards: list[tuple[threading.Thread, dict[tuple[str, ...], int]]] = []
        self._retired: Counter[tuple[str, ...]] = Counter()
        self._flushed: Counter[tuple[str, ...]] = Counter()  # the sums already applied
        self._flushing = threading.Lock()
        # Appended by every pool thread, drained by the flusher: a deque does both atomically, no lock.
        self._stages: deque[tuple[str, float]] = deque()
        self._requests: deque[tuple[str, str, int, float]] = deque()  # the same, by the request threads
        self._depth: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="metrics-flush", daemon=True)

    def start(self) -> None:
        """Begin flushing every `interval` seconds."""
        self._thread.start()

    def stop(self) -> None:
        """Flush what is buffered and stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.flush()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.flush()

    def flush(self) -> None:
        """Apply everything buffered so far."""
        with self._flushing:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            for thread, shard in [entry for entry in self._shards if not entry[0].is_alive()]:
                self._retired.update(shard)  # nothing writes it any more
                self._shards.remove((thread, shard))
            shards = [shard for _, shard in self._shards]
            depth, self._depth = self._depth, None
        totals = Counter(self._retired)
        for shard in shards:
            totals.update(shard.copy())  # a dict copy is atomic under the GIL
        counts = totals - self._flushed
        self._flushed = totals
        for (kind, *labels), n in counts.items():
            if kind == "received":
                self._target.alerts_received(labels[0], labels[1], n)
            elif kind == "processed":
                self._target.alert_processed(labels[0], labels[1], n)
            elif kind == "k8s":
                self._target.k8s_call(labels[0], labels[1], n)
            else:
                self._target.k8s_cache(labels[0] == "hit", n)
        stages: dict[str, list[float]] = {}
        for _ in range(len(self._stages)):  # what came in meanwhile waits for the next flush
            stage, seconds = self._stages.popleft()
            stages.setdefault(stage, []).append(seconds)
        for stage, values in stages.items():
            self._target.stage_durations(stage, values)
        requests = [self._requests.popleft() for _ in range(len(self._requests))]
        if requests:
            self._target.http_requests(requests)
        if depth is not None:
            self._target.queue_depth(depth)

    def _count(self, key: tuple[str, ...], n: int) -> None:
        try:
            shard: dict[tuple[str, ...], int] = self._local.shard
        except AttributeError:
            shard = self._local.shard = {}
            with self._lock:
                self._shards.append((threading.current_thread(), shard))
        shard[key] = shard.get(key, 0) + n

    def alerts_received(self, receiver: str, status: str, count: int) -> None:
        self._count(("received", receiver, status), count)

    def alert_processed(self, outcome: str, validation: str, count: int = 1) -> None:
        self._count(("processed", outcome, validation), count)

    def stage_duration(self, stage: str, seconds: float) -> None:
        self._stages.append((stage, seconds))

    def k8s_call(self, resource: str, code: str, count: int = 1) -> None:
        self._count(("k8s", resource, code), count)

    def k8s_cache(self, hit: bool, count: int = 1) -> None:
        # Called for every cache read (several per alert): the key is made once.
        self._count(_CACHE_HIT if hit else _CACHE_MISS, count)

    def http_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self._requests.append((method, endpoint, status, seconds))

    def webhook_rejected(self, reason: str) -> None:
        self._target.webhook_rejected(reason)

    def queue_depth(self, depth: int) -> None:
        self._depth = depth  # the latest value wins; a plain store is atomic

    def inbox_pending(self, count: int) -> None:
        self._target.inbox_pending(count)

    def store_error(self, operation: str) -> None:
        self._target.store_error(operation)
