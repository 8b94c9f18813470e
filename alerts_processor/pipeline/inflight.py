"""The inbox entries a worker holds in memory, and how many of their alerts are still queued."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Entry:
    remaining: int
    failed: bool = False


class InFlight:
    """Thread-safe bookkeeping: which entries to keep leased, and when an entry is complete."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def start(self, entry_id: str, alerts: int) -> bool:
        """Hold an entry; False if this worker already holds it (a lease renewal came too late)."""
        with self._lock:
            if entry_id in self._entries:
                return False
            self._entries[entry_id] = _Entry(alerts)
            return True

    def done(self, entry_id: str, stored: bool, count: int = 1) -> bool | None:
        """`count` alerts finished: None while others remain, else whether every alert of the entry was stored."""
        with self._lock:
            entry = self._entries[entry_id]
            entry.failed = entry.failed or not stored
            entry.remaining -= count
            if entry.remaining:
                return None
            del self._entries[entry_id]
            return not entry.failed

    def ids(self) -> list[str]:
        """The entries held now (their leases must be renewed)."""
        with self._lock:
            return list(self._entries)
