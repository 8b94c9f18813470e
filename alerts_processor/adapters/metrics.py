"""IMetrics on prometheus_client, and the HTTP metrics of prometheus-flask-exporter (gunicorn multiprocess aware)."""

from __future__ import annotations

import bisect
import os
from collections import Counter as Tally
from collections.abc import Sequence
from typing import Any

from flask import Flask
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerts_processor.interfaces import IMetrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class PrometheusMetrics(IMetrics):
    """The service's own metrics, `alerts_processor_` prefixed, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(f"alerts_processor_{name}", doc, labels, registry=registry)

        self._received = counter("alerts_received_total", "Alerts in accepted webhook batches.", ("receiver", "status"))
        self._rejected = counter("webhook_rejections_total", "Webhook requests refused, by error code.", ("reason",))
        self._processed = counter(
            "alerts_processed_total",
            "Alerts through the pipeline, by outcome and validation.",
            ("outcome", "validation"),
        )
        self._k8s_calls = counter(
            "k8s_api_calls_total", "Kubernetes API calls by resource and answer.", ("resource", "code")
        )
        self._k8s_cache = counter("k8s_cache_requests_total", "Kubernetes reads by cache result.", ("result",))
        self._store_errors = counter("store_errors_total", "Failed store operations.", ("operation",))
        self._stages = Histogram(
            "alerts_processor_stage_duration_seconds",
            "Time per alert in each pipeline stage, the mean of a group of alerts handled together.",
            ("stage",),
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        # Gauges summed (queue) or maxed (inbox, the same store-wide number in every worker) across workers.
        self._queue = Gauge(
            "alerts_processor_queue_depth", "Alerts queued in memory.", registry=registry, multiprocess_mode="livesum"
        )
        self._inbox = Gauge(
            "alerts_processor_inbox_pending",
            "Unfinished inbox entries.",
            registry=registry,
            multiprocess_mode="livemax",
        )

    def alerts_received(self, receiver: str, status: str, count: int) -> None:
        self._received.labels(receiver, status).inc(count)

    def webhook_rejected(self, reason: str) -> None:
        self._rejected.labels(reason).inc()

    def alert_processed(self, outcome: str, validation: str, count: int = 1) -> None:
        self._child(self._processed, outcome, validation).inc(count)

    def stage_duration(self, stage: str, seconds: float) -> None:
        self._child(self._stages, stage).observe(seconds)

    def stage_durations(self, stage: str, seconds: Sequence[float]) -> None:
        # prometheus_client has no bulk observe, and in gunicorn's multiprocess mode each observe()
        # is two writes to a memory-mapped file under a process-wide lock (about 10 µs): the flusher
        # made thousands a second, three per pool task. Here: one write per bucket hit and one for
        # the sum, through the histogram's own values (test_metrics pins the result to observe()'s).
        if not seconds:
            return  # as no observe() at all: no series
        child = self._child(self._stages, stage)
        bounds = child._upper_bounds  # ends with +Inf, so every value has a bucket
        for index, count in Tally(bisect.bisect_left(bounds, value) for value in seconds).items():
            child._buckets[index].inc(count)
        child._sum.inc(sum(seconds))

    def queue_depth(self, depth: int) -> None:
        self._queue.set(depth)

    def inbox_pending(self, count: int) -> None:
        self._inbox.set(count)

    def k8s_call(self, resource: str, code: str, count: int = 1) -> None:
        self._k8s_calls.labels(resource, code).inc(count)

    def k8s_cache(self, hit: bool, count: int = 1) -> None:
        self._child(self._k8s_cache, "hit" if hit else "miss").inc(count)

    def store_error(self, operation: str) -> None:
        self._store_errors.labels(operation).inc()

    def _child(self, metric: Any, *labels: str) -> Any:
        # The per-alert metrics: labels() costs a lock and a tuple key on every call; these few
        # label combinations are looked up once. (A racing first lookup just stores the same child.)
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


def install_http_metrics(app: Flask, registry: CollectorRegistry) -> None:
    """Serve /metrics: across gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set, else this process."""
    # Grouped by endpoint, not path: /api/v1/alerts/<id> must not make a series per alert.
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        GunicornInternalPrometheusMetrics(app, group_by="endpoint")
    else:
        from prometheus_flask_exporter import PrometheusMetrics as FlaskMetrics

        FlaskMetrics(app, registry=registry, group_by="endpoint")
