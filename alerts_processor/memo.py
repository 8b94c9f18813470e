"""ByIdentity: values built from objects, found again by those objects' identity (bounded)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ByIdentity(Generic[T]):
    """Values built from objects, found again by the objects' identity, at most `limit` of them.

    For objects that are shared and never changed once made (the Kubernetes cache's states, the
    enrichment documents built from them): identity is then as good as equality, and far cheaper.
    An entry keeps its objects alive, so their ids cannot be reused meanwhile: an entry found by the
    ids is one built from these very objects. Past the limit all entries go at once: those of
    objects nobody uses any more, and the live ones are built again.
    Safe from several threads: a race builds a value twice, and either is right.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._entries: dict[tuple[int, ...], tuple[tuple[object, ...], T]] = {}

    def get(self, sources: tuple[object, ...], build: Callable[[], T]) -> T:
        """The value built from `sources` (these very objects), built now if it is not known."""
        key = tuple(map(id, sources))
        known = self._entries.get(key)
        if known is not None:  # the entry holds its sources: no other live object has their ids
            return known[1]
        value = build()
        if len(self._entries) >= self._limit:
            self._entries.clear()
        self._entries[key] = (sources, value)
        return value
