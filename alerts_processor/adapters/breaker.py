"""A small circuit breaker for Kubernetes calls: fail fast while the API server is down.

pybreaker holds its lock for the whole protected call, which would serialise every
Kubernetes read of the pool; this one only locks to update its counters.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from alerts_processor.models import K8sUnavailable


class CircuitBreaker:
    """Opens after `threshold` consecutive outages; after `cooldown` seconds one trial call goes through."""

    def __init__(self, threshold: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False
        self._last_reason = ""

    def before_call(self) -> None:
        """Raise K8sUnavailable instead of calling while open (and while the one trial call runs)."""
        if self._threshold <= 0:
            return
        with self._lock:
            if self._opened_at is None:
                return
            if self._clock() - self._opened_at >= self._cooldown and not self._trial_running:
                self._trial_running = True  # half-open: this caller is the trial
                return
            reason = self._last_reason
        raise K8sUnavailable(f"{reason} (circuit open)")

    def succeeded(self) -> None:
        """A call answered: close the circuit."""
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self, trouble: K8sUnavailable) -> None:
        """A call failed; only outages (timeouts, refusals, 5xx) count toward opening."""
        with self._lock:
            if not trouble.outage:
                self._trial_running = False
                return
            self._failures += 1
            self._last_reason = trouble.reason
            if self._trial_running or self._failures >= self._threshold:
                self._opened_at = self._clock()
            self._trial_running = False
