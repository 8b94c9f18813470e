"""A short-TTL cache in front of an IK8sClient; concurrent reads of one object make one API call."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from alerts_processor.interfaces import IK8sClient, IMetrics
from alerts_processor.models import K8sUnavailable, WorkloadState
from alerts_processor.no_wait import may_wait

T = TypeVar("T")
_MAX_ENTRIES = 20000
_STABLE_KINDS = frozenset({"Pod", "ReplicaSet"})
# Kinds whose objects in one namespace are listed in one call once many are read one by one. A Pod
# list is kept for the stable TTL (only owner resolution reads it); Deployments and ReplicaSets
# (replicas, revisions) for the short one. An object missing from a list may be newer: it is read by itself.
_LISTABLE_KINDS = frozenset({"Deployment", "ReplicaSet", "Pod"})
_STABLE_LISTS = frozenset({"Pod"})
_MISSING = object()  # what _fresh() answers when nothing fresh is cached (None and False are values)


class _Entry:
    """A value (once loaded) and until when it may be served; `future` is shared by concurrent readers."""

    __slots__ = ("expiry", "future", "loaded", "value")

    def __init__(self, future: Future[Any]) -> None:
        self.future = future
        self.expiry = float("inf")
        self.loaded = False
        self.value: Any = None


class _Listing:
    """A namespace's objects of one kind, by name; what a label selector picks is worked out once."""

    __slots__ = ("_selected", "by_name")

    def __init__(self, states: Sequence[WorkloadState]) -> None:
        self.by_name = {state.name: state for state in states}
        self._selected: dict[tuple[tuple[str, str], ...], tuple[list[WorkloadState], frozenset[str | None]]] = {}

    def select(self, labels: tuple[tuple[str, str], ...], revision: str | None = None) -> list[WorkloadState] | None:
        """The objects carrying all these labels (callers share the list: never change it).

        None when `revision` is given and none of them is at it (the list is older than that rollout).
        """
        selected = self._selected.get(labels)
        if selected is None:  # two threads may both work it out; either answer is right
            wanted = dict(labels).items()
            chosen = [s for s in self.by_name.values() if wanted <= s.labels.items()]
            selected = self._selected[labels] = (chosen, frozenset(s.revision for s in chosen))
        return selected[0] if revision is None or revision in selected[1] else None


class CachingK8sClient(IK8sClient):
    """Answers repeated reads from memory for `ttl` seconds; errors are shared, never cached."""

    def __init__(
        self,
        inner: IK8sClient,
        ttl: float,
        metrics: IMetrics,
        clock: Callable[[], float] = time.monotonic,
        stable_ttl: float | None = None,
        list_after: int = 0,
        max_listed: int = 2000,
    ) -> None:
        self._inner = inner
        self._ttl = ttl
        self._stable_ttl = ttl if stable_ttl is None else max(stable_ttl, ttl)
        self._metrics = metrics
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry] = {}
        # Namespaces whose Deployments (Pods, ReplicaSets) are read one by one in numbers get listed in
        # one call per TTL instead: one call where there were dozens, in steady state and from a cold cache.
        self._list_after = list_after
        self._max_listed = max_listed  # a namespace holding more goes back to reads one by one
        self._loads: dict[tuple[str, str], tuple[float, set[str]]] = {}  # names loaded in the current TTL
        self._listed: set[tuple[str, str]] = set()
        self._unlistable: set[tuple[str, str]] = set()  # listing was forbidden: one by one for good

    @property
    def enabled(self) -> bool:
        return self._inner.enabled

    def namespace_exists(self, namespace: str) -> bool:
        key = ("ns", namespace)
        exists = self._fresh(key)
        if exists is not _MISSING:
            return exists  # type: ignore[no-any-return]
        return self._cached(key, lambda: self._inner.namespace_exists(namespace), stable=True)

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        listed = self._listed_states(namespace, kind)
        state = None if listed is None else listed.by_name.get(name)
        if state is not None:
            return state
        # Not listed, or not in the list (it may be newer than the list): read by itself. A pod's or
        # ReplicaSet's owner never changes: only owner resolution reads them, so an existing one is
        # kept for the stable TTL. Workloads (replicas, rollout state) keep the short TTL.
        stable = kind in _STABLE_KINDS
        return self._cached((kind, namespace, name), lambda: self._load_one(namespace, kind, name), stable)

    def list_workloads(self, namespace: str, kind: str) -> Sequence[WorkloadState]:
        return list(self._listing(namespace, kind).by_name.values())

    def _listed_states(self, namespace: str, kind: str) -> _Listing | None:
        """The namespace's objects of `kind` by name, if they are listed (None: read them one by one)."""
        if (namespace, kind) not in self._listed:
            return None
        try:
            return self._listing(namespace, kind)
        except K8sUnavailable as trouble:
            if trouble.reason != "forbidden":
                raise
            self._stop_listing(namespace, kind)  # RBAC without `list`: back to one read per object
            return None

    def _listing(self, namespace: str, kind: str) -> _Listing:
        key = ("list", namespace, kind)
        listing = self._fresh(key)
        if listing is not _MISSING:
            return listing  # type: ignore[no-any-return]

        def load() -> _Listing:
            listing = _Listing(self._inner.list_workloads(namespace, kind))
            if len(listing.by_name) > self._max_listed:  # too big to list again every TTL for a few reads
                self._stop_listing(namespace, kind)
            return listing

        return self._cached(key, load, stable=kind in _STABLE_LISTS)

    def _stop_listing(self, namespace: str, kind: str) -> None:
        with self._lock:
            self._listed.discard((namespace, kind))
            self._unlistable.add((namespace, kind))

    def _load_one(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        if kind in _LISTABLE_KINDS:
            self._count_load(namespace, kind, name)
        return self._inner.read_workload(namespace, kind, name)

    def _count_load(self, namespace: str, kind: str, name: str) -> None:
        """Note one object read by itself; enough distinct ones within a TTL make the kind listed."""
        if self._list_after <= 0:
            return
        key, now = (namespace, kind), self._clock()
        with self._lock:
            if key in self._unlistable:
                return
            started, names = self._loads.get(key, (now, set()))
            if now - started > self._ttl:
                started, names = now, set()
            names.add(name)
            if len(names) >= self._list_after:
                self._listed.add(key)
                self._loads.pop(key, None)
            else:
                self._loads[key] = (started, names)

    def list_replicasets(
        self, namespace: str, selector: Mapping[str, str], revision: str | None = None
    ) -> Sequence[WorkloadState]:
        labels = tuple(sorted(selector.items()))
        listed = self._listed_states(namespace, "ReplicaSet")
        if listed is not None:
            chosen = listed.select(labels, revision)
            if chosen is not None:
                return chosen  # else the rollout is newer than the list: ask the API server
        # Keyed by the Deployment's revision: a rollout changes the key, so the list is stable meanwhile.
        key = ("ReplicaSetList", namespace, labels, revision)

        def load() -> Sequence[WorkloadState]:
            self._count_load(namespace, "ReplicaSet", repr(labels))  # a Deployment's count toward a list
            return self._inner.list_replicasets(namespace, selector, revision)

        return self._cached(key, load, stable=revision is not None)

    def _fresh(self, key: Hashable) -> Any:
        """The loaded value under `key` while it is fresh, else _MISSING.

        Without the lock: a dict read is atomic, and a loaded entry never changes. The hot paths
        call it before they make the closure that loads on a miss.
        """
        entry = self._entries.get(key)
        if entry is not None and entry.loaded and entry.expiry > self._clock():
            self._metrics.k8s_cache(hit=True)
            return entry.value
        return _MISSING

    def _cached(self, key: Hashable, load: Callable[[], T], stable: bool = False) -> T:
        value = self._fresh(key)
        if value is not _MISSING:
            return value  # type: ignore[no-any-return]
        may_wait("a Kubernetes read")  # to call the API, or to wait for another thread's call
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None or entry.expiry <= self._clock()
            if owner:
                entry = _Entry(Future())
                self._entries[key] = entry
                if len(self._entries) > _MAX_ENTRIES:
                    self._evict_expired()
        assert entry is not None
        self._metrics.k8s_cache(hit=not owner)
        if owner:
            self._load(key, entry, load, stable)
        return entry.future.result()  # type: ignore[no-any-return]

    def _load(self, key: Hashable, entry: _Entry, load: Callable[[], object], stable: bool) -> None:
        try:
            value = load()
        except BaseException as exc:
            with self._lock:
                if self._entries.get(key) is entry:
                    del self._entries[key]
            entry.future.set_exception(exc)
            return
        entry.value = value
        # Only what exists is stable: an absent object may be created any moment.
        entry.expiry = self._clock() + (self._stable_ttl if stable and value else self._ttl)
        entry.loaded = True
        entry.future.set_result(value)

    def _evict_expired(self) -> None:
        now = self._clock()
        for key in [k for k, e in self._entries.items() if e.expiry <= now]:
            del self._entries[key]
