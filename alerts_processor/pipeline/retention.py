"""Retention: episodes (with their deliveries), dead letters and dead inbox entries older than the window go."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from alerts_processor.interfaces import IAlertsRepository

log = logging.getLogger(__name__)
BATCH = 1000  # rows per transaction: pruning never holds the store's write lock for long


class Retention:
    """Prunes in small batches at most every `every` seconds; a `days` of 0 keeps everything."""

    def __init__(
        self,
        repository: IAlertsRepository,
        days: float,
        clock: Callable[[], datetime],
        every: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._repository = repository
        self._window = timedelta(days=days)
        self._clock = clock
        self._every = every
        self._monotonic = monotonic
        self._next = 0.0

    def maybe_run(self) -> int:
        """Prune if it is time; returns how many episodes were removed."""
        if not self._window or self._monotonic() < self._next:
            return 0
        self._next = self._monotonic() + self._every
        before = self._clock() - self._window
        removed = 0
        while True:
            pruned = self._repository.prune(before, BATCH)
            removed += pruned
            if pruned < BATCH:
                break
        if removed:
            log.info("old episodes pruned", extra={"episodes": removed, "before": before.isoformat()})
        return removed
