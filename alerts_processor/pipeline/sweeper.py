"""InboxSweeper: a background thread that replays abandoned inbox entries (at start, then periodically)."""

from __future__ import annotations

import logging
import threading

from alerts_processor.interfaces import IAlertsRepository, IMetrics
from alerts_processor.models import StoreUnavailable
from alerts_processor.pipeline.retention import Retention
from alerts_processor.pipeline.service import PipelineService

log = logging.getLogger(__name__)


class InboxSweeper:
    """Every `interval` seconds: renew this worker's leases, take over abandoned entries, prune old data."""

    def __init__(
        self,
        service: PipelineService,
        repository: IAlertsRepository,
        metrics: IMetrics,
        interval: float,
        retention: Retention | None = None,
    ) -> None:
        self._service = service
        self._retention = retention
        self._repository = repository
        self._metrics = metrics
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="inbox-sweeper", daemon=True)

    def start(self) -> None:
        """Begin sweeping (no-op when the interval is 0)."""
        if self._interval > 0:
            self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the current sweep to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while True:
            try:
                self._service.renew_leases()
                self._service.recover()
                self._metrics.inbox_pending(self._repository.pending_inbox())
                if self._retention is not None:
                    self._retention.maybe_run()
            except StoreUnavailable as exc:
                self._metrics.store_error("sweep")
                log.warning("inbox sweep skipped: store unavailable", extra={"error": str(exc)})
            except Exception:  # keep sweeping; one bad sweep must not end recovery for this worker
                log.exception("inbox sweep failed")
            if self._stop.wait(self._interval):
                return
