"""A short-TTL cache in front of an IK8sClient; concurrent reads of one object make one API call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from typing import TypeVar

from alerts_processor.interfaces import IK8sClient, IMetrics
from alerts_processor.models import WorkloadState

T = TypeVar("T")
_MAX_ENTRIES = 20000


class CachingK8sClient(IK8sClient):
    """Answers repeated reads from memory for `ttl` seconds; errors are shared, never cached."""

    def __init__(
        self, inner: IK8sClient, ttl: float, metrics: IMetrics, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._inner = inner
        self._metrics = metrics
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        # key → (expiry, future); expiry is +inf while the call is in flight.
        self._entries: dict[Hashable, tuple[float, Future[object]]] = {}

    @property
    def enabled(self) -> bool:
        return self._inner.enabled

    def namespace_exists(self, namespace: str) -> bool:
        return self._cached(("ns", namespace), lambda: self._inner.namespace_exists(namespace))

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        return self._cached((kind, namespace, name), lambda: self._inner.read_workload(namespace, kind, name))

    def list_replicasets(self, namespace: str, selector: Mapping[str, str]) -> Sequence[WorkloadState]:
        key = ("ReplicaSetList", namespace, tuple(sorted(selector.items())))
        return self._cached(key, lambda: self._inner.list_replicasets(namespace, selector))

    def _cached(self, key: Hashable, load: Callable[[], T]) -> T:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > self._clock():
                future = entry[1]
                owner = False
            else:
                future = Future()
                self._entries[key] = (float("inf"), future)
                owner = True
                if len(self._entries) > _MAX_ENTRIES:
                    self._evict_expired()
        self._metrics.k8s_cache(hit=not owner)
        if owner:
            self._load(key, future, load)
        return future.result()  # type: ignore[return-value]

    def _load(self, key: Hashable, future: Future[object], load: Callable[[], object]) -> None:
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                self._entries.pop(key, None)
            future.set_exception(exc)
            return
        with self._lock:
            self._entries[key] = (self._clock() + self._ttl, future)
        future.set_result(value)

    def _evict_expired(self) -> None:
        now = self._clock()
        for key in [k for k, (expiry, _) in self._entries.items() if expiry <= now]:
            del self._entries[key]
