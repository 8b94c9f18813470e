"""IMetrics on prometheus_client, and the HTTP metrics of prometheus-flask-exporter (gunicorn multiprocess aware)."""

from __future__ import annotations

import bisect
import os
import time
from collections import Counter as Tally
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from alerts_processor.interfaces import IMetrics

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_STARTED = "alerts_processor.started"  # the WSGI environ's key for a request's start
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
        # The names, labels and buckets of prometheus-flask-exporter's default metrics (grouped by
        # endpoint), which dashboards know; recorded here so that they can be buffered (install_http_metrics).
        self._http_duration = Histogram(
            "flask_http_request_duration_seconds",
            "Flask HTTP request duration in seconds",
            ("method", "endpoint", "status"),
            registry=registry,
        )
        self._http_total = Counter(
            "flask_http_request_total", "Total number of HTTP requests", ("method", "status"), registry=registry
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
        # The flusher applies thousands a second, three per pool task: in bulk (_observe_all).
        if seconds:  # none: as no observe() at all, no series
            _observe_all(self._child(self._stages, stage), seconds)

    def queue_depth(self, depth: int) -> None:
        self._queue.set(depth)

    def inbox_pending(self, count: int) -> None:
        self._inbox.set(count)

    def k8s_call(self, resource: str, code: str, count: int = 1) -> None:
        self._k8s_calls.labels(resource, code).inc(count)

    def k8s_cache(self, hit: bool, count: int = 1) -> None:
        self._child(self._k8s_cache, "hit" if hit else "miss").inc(count)

    def http_request(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.http_requests([(method, endpoint, status, seconds)])

    def http_requests(self, requests: Sequence[tuple[str, str, int, float]]) -> None:
        durations: dict[tuple[str, str, str], list[float]] = {}
        for method, endpoint, code, seconds in requests:
            durations.setdefault((method, endpoint, str(code)), []).append(seconds)
        totals: Tally[tuple[str, str]] = Tally()
        for (method, endpoint, status), values in durations.items():
            _observe_all(self._child(self._http_duration, method, endpoint, status), values)
            totals[(method, status)] += len(values)
        for (method, status), count in totals.items():
            self._child(self._http_total, method, status).inc(count)

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


def _observe_all(child: Any, values: Sequence[float]) -> None:
    # prometheus_client has no bulk observe, and in gunicorn's multiprocess mode each observe() is
    # two writes to a memory-mapped file under a process-wide lock (about 10 µs). Here: one write
    # per bucket hit and one for the sum, through the histogram's own values (test_metrics pins the
    # result to observe()'s).
    bounds = child._upper_bounds  # ends with +Inf, so every value has a bucket
    for index, count in Tally(bisect.bisect_left(bounds, value) for value in values).items():
        child._buckets[index].inc(count)
    child._sum.inc(sum(values))


def install_http_metrics(app: Flask, registry: CollectorRegistry, metrics: IMetrics) -> None:
    """Count and time every request through `metrics`; serve /metrics with prometheus-flask-exporter.

    /metrics merges the gunicorn workers' files when PROMETHEUS_MULTIPROC_DIR is set, else it serves
    this process's `registry`.

    The exporter's own request hooks wrote two labelled series per request to memory-mapped files,
    each under a process-wide lock: about 35 µs of a 1-alert request's 380 µs (measured in one
    thread). Through BufferedMetrics a request costs a deque append, and the same series are
    written once a second. Grouped by endpoint, not path: /api/v1/alerts/<id> must not make a
    series per alert.
    """
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        GunicornInternalPrometheusMetrics(app, export_defaults=False)
    else:
        from prometheus_flask_exporter import PrometheusMetrics as FlaskMetrics

        FlaskMetrics(app, registry=registry, export_defaults=False)

    @app.before_request
    def _started() -> None:
        request.environ[_STARTED] = time.perf_counter()

    @app.after_request
    def _answered(response: Response) -> Response:
        started = request.environ.get(_STARTED)
        # None: failed before the first before_request hook ran. The exporter's own /metrics view
        # marks its scrapes as not to be tracked, as its hooks did.
        if started is not None and not hasattr(request, "prom_do_not_track"):
            seconds = time.perf_counter() - started
            metrics.http_request(request.method, str(request.endpoint), response.status_code, seconds)
        return response
