from alerts_processor.adapters.buffered_metrics import BufferedMetrics
from tests.fakes import RecordingMetrics


def test_per_alert_calls_are_applied_as_totals_on_flush() -> None:
    target = RecordingMetrics()
    metrics = BufferedMetrics(target, interval=3600)
    for _ in range(5):
        metrics.alert_processed("stored", "valid")
        metrics.k8s_cache(hit=True)
        metrics.stage_duration("store", 0.001)
    metrics.alerts_received("agent", "firing", 7)
    metrics.k8s_call("Deployment", "200")
    metrics.queue_depth(3)
    metrics.queue_depth(0)
    metrics.http_request("POST", "webhook.receive", 202, 0.0004)
    metrics.http_request("GET", "health.healthz", 200, 0.0001)
    metrics.webhook_rejected("queue_full")  # rare: straight through
    assert target.counts[("rejected", "queue_full")] == 1
    assert target.counts[("processed", "stored", "valid")] == 0
    assert target.counts[("http", "POST", "webhook.receive", "202")] == 0
    metrics.flush()
    assert target.counts[("processed", "stored", "valid")] == 5
    assert target.counts[("cache", "hit")] == 5 and target.counts[("received", "agent", "firing")] == 7
    assert target.counts[("k8s", "Deployment", "200")] == 1
    assert target.stages["store"] == 5 and target.gauges["queue_depth"] == 0
    assert target.counts[("http", "POST", "webhook.receive", "202")] == 1
    assert target.counts[("http", "GET", "health.healthz", "200")] == 1


def test_stop_flushes_what_is_left() -> None:
    target = RecordingMetrics()
    metrics = BufferedMetrics(target, interval=3600)
    metrics.start()
    metrics.alert_processed("duplicate", "skipped")
    metrics.stop()
    assert target.counts[("processed", "duplicate", "skipped")] == 1
