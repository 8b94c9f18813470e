"""The Prometheus adapter: observations applied in bulk read exactly as the same observations one by one."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from alerts_processor.adapters.metrics import PrometheusMetrics

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
