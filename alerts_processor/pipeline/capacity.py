"""A counter of free queue slots: reserving is all-or-nothing, so a batch is taken whole or not at all.

A batch bigger than the whole queue is taken alone, once the queue is empty: Alertmanager sends a
group's alerts in one body, and a group larger than the queue must not be refused for good.
"""

from __future__ import annotations

import threading


class Capacity:
    """Thread-safe slot counter bounding the alerts a worker holds in memory."""

    def __init__(self, slots: int) -> None:
        self.total = slots
        self._free = slots
        self._lock = threading.Lock()

    def reserve(self, count: int) -> bool:
        """Take `count` slots if they are all free (or, for more than the queue holds, if it is empty)."""
        with self._lock:
            if count > self._free and not (count > self.total and self._free == self.total):
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
