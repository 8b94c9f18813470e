"""The Prometheus adapter: observations applied in bulk read exactly as the same observations one by one."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_flask_exporter import PrometheusMetrics as ExporterMetrics

from alerts_processor.adapters.metrics import PrometheusMetrics, install_http_metrics

# On and between the buckets' bounds, below the first and beyond the last (+Inf).
VALUES = [0.0, 0.0001, 0.0005, 0.0005001, 0.001, 0.003, 0.003, 0.07, 1.0, 4.9, 5.0, 7.5, 120.0]


def _exposition(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_stage_durations_in_bulk_read_as_one_observe_each() -> None:
    one_by_one, bulk = CollectorRegistry(), CollectorRegistry()
    single, many = PrometheusMetrics(one_by_one), PrometheusMetrics(bulk)
    for value in VALUES:
        single.stage_duration("enrich", value)
    single.stage_duration("store", 0.002)
    many.stage_durations("enrich", VALUES)
    many.stage_durations("store", [0.002])
    many.stage_durations("validate", [])
    exposition = _exposition(bulk)
    assert exposition == _exposition(one_by_one)
    assert f'alerts_processor_stage_duration_seconds_count{{stage="enrich"}} {float(len(VALUES))}' in exposition
    assert 'alerts_processor_stage_duration_seconds_bucket{le="0.0005",stage="enrich"} 3.0' in exposition


def _serve(app: Flask) -> str:
    @app.post("/hook")
    def hook() -> tuple[str, int]:
        return "", 202

    @app.get("/thing/<name>")
    def thing(name: str) -> str:
        return name

    client = app.test_client()
    for path in ("/thing/a", "/thing/b", "/nowhere"):
        client.get(path)
    for _ in range(3):
        client.post("/hook")
    client.get("/metrics")  # a scrape is not counted
    text: str = client.get("/metrics").get_data(as_text=True)
    return text


def _series(text: str) -> set[str]:
    """The flask_http_* samples of an exposition, durations' values left out (they differ run to run)."""
    samples = (line for line in text.splitlines() if line.startswith("flask_http_") and "_created" not in line)
    return {re.sub(r"(duration_seconds_\w+\{.*\}) .*", r"\1", line) for line in samples}


def test_http_metrics_are_the_exporter_s_series(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    app = Flask("ours")
    install_http_metrics(app, ours, PrometheusMetrics(ours))
    reference = Flask("theirs")
    ExporterMetrics(reference, registry=theirs, group_by="endpoint")
    served, expected = _series(_serve(app)), _series(_serve(reference))
    assert served == expected
    assert 'flask_http_request_total{method="POST",status="202"} 3.0' in served
    assert 'flask_http_request_duration_seconds_count{endpoint="thing",method="GET",status="200"}' in served
    assert 'flask_http_request_duration_seconds_count{endpoint="None",method="GET",status="404"}' in served
    assert 'flask_http_request_total{method="GET",status="200"} 2.0' in served  # the two /thing requests
