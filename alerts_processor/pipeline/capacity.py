"""A counter of free queue slots: reserving is all-or-nothing, so a batch is taken whole or not at all."""

from __future__ import annotations

import threading


class Capacity:
    """Thread-safe slot counter bounding the alerts a worker holds in memory."""

    def __init__(self, slots: int) -> None:
        self.total = slots
        self._free = slots
        self._lock = threading.Lock()

    def reserve(self, count: int) -> bool:
        """Take `count` slots if they are all free."""
        with self._lock:
            if count > self._free:
                return False
            self._free -= count
            return True

    def release(self, count: int = 1) -> None:
        """Give slots back."""
        with self._lock:
            self._free = min(self.total, self._free + count)

    @property
    def in_use(self) -> int:
        """Slots taken now (the queue depth)."""
        with self._lock:
            return self.total - self._free
