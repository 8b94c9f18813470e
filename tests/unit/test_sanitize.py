from datetime import UTC, datetime

import pytest

from alerts_processor.models import InvalidAlert, RawAlert, WorkloadRef
from alerts_processor.pipeline.payload import parse_payload
from alerts_processor.pipeline.sanitize import (
    Sanitizer,
    alertmanager_fingerprint,
    find_target,
    normalise_severity,
    parse_timestamp,
)
from tests.helpers import sample

SAMPLE_NAMES = [
    "app-batch-mixed",
    "kube-pod-crashlooping",
    "kube-deployment-replicas-mismatch",
    "kube-statefulset-resolved",
    "truncated-group",
]


def raw(**overrides: object) -> RawAlert:
    fields: dict[str, object] = {
        "status": "firing",
        "labels": {"alertname": "A", "namespace": "prod", "deployment": "web"},
        "annotations": {},
        "starts_at": "2026-11-30T04:34:04.519722214Z",
        "ends_at": "0001-01-01T00:00:00Z",
        "generator_url": "",
        "fingerprint": "",
    }
    fields.update(overrides)
    return RawAlert(**fields)  # type: ignore[arg-type]


def test_fingerprint_matches_alertmanager() -> None:
    labels = {"alertname": "DeploymentUnavailable", "deployment": "web", "namespace": "prod", "severity": "critical"}
    assert alertmanager_fingerprint(labels) == "e63b0f4c5fe614e2"


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_fingerprint_matches_every_sample(name: str) -> None:
    for alert in sample(name)["alerts"]:
        assert alertmanager_fingerprint(alert["labels"]) == alert["fingerprint"]


def test_missing_or_malformed_fingerprint_is_computed() -> None:
    labels = {"alertname": "DeploymentUnavailable", "deployment": "web", "namespace": "prod", "severity": "critical"}
    for given in ("", "not-hex", "$where"):
        assert Sanitizer().sanitize(raw(labels=labels, fingerprint=given)).fingerprint == "e63b0f4c5fe614e2"


def test_nanosecond_timestamps_parse_to_utc_microseconds() -> None:
    parsed = parse_timestamp("2026-11-30T04:34:04.519722214Z", "startsAt")
    assert parsed == datetime(2026, 11, 30, 4, 34, 4, 519722, tzinfo=UTC)
    assert parse_timestamp("2026-11-30T06:34:04+02:00", "x") == datetime(2026, 11, 30, 4, 34, 4, tzinfo=UTC)


def test_go_zero_time_means_no_end() -> None:
    assert parse_timestamp("0001-01-01T00:00:00Z", "endsAt") is None
    assert Sanitizer().sanitize(raw()).ends_at is None


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-30T04:34:04"])
def test_bad_timestamps_are_invalid_alerts(bad: str) -> None:
    with pytest.raises(InvalidAlert, match="startsAt"):
        Sanitizer().sanitize(raw(starts_at=bad))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "warning"),
        ("", "warning"),
        ("  CRITICAL ", "critical"),
        ("crit", "critical"),
        ("warn", "warning"),
        ("info", "info"),
        ("page", "page"),
    ],
)
def test_severity_is_normalised(given: str | None, expected: str) -> None:
    assert normalise_severity(given) == expected


def test_identity_is_fingerprint_plus_start() -> None:
    first = Sanitizer().sanitize(raw())
    again = Sanitizer().sanitize(raw(status="resolved", ends_at="2026-11-30T05:00:00Z"))
    later = Sanitizer().sanitize(raw(starts_at="2026-11-30T06:00:00Z"))
    assert first.id == again.id != later.id
    assert first.id.startswith(first.fingerprint + "-")
    assert again.ends_at == datetime(2026, 11, 30, 5, 0, tzinfo=UTC)


def test_firing_alert_has_no_end_even_if_alertmanager_sent_one() -> None:
    # Alertmanager puts the expected resolve time in endsAt of firing alerts it got over the API.
    assert Sanitizer().sanitize(raw(ends_at="2026-11-30T05:00:00Z")).ends_at is None


def test_pod_only_alert_targets_the_pod() -> None:
    alert = parse_payload(sample("kube-pod-crashlooping")).alerts[0]
    assert Sanitizer().sanitize(alert).target == WorkloadRef("Pod", "payments-api-6f7c9d8b54-k2x9q")


def test_deployment_alert_ignores_kube_state_metrics_own_pod() -> None:
    alert = parse_payload(sample("kube-deployment-replicas-mismatch")).alerts[0]
    sanitized = Sanitizer().sanitize(alert)
    assert sanitized.target == WorkloadRef("Deployment", "ledger")
    assert sanitized.namespace == "billing"


def test_exporter_pod_alone_is_not_a_target() -> None:
    labels = {
        "pod": "kube-prometheus-stack-kube-state-metrics-5d9c7b9f6d-7wq4m",
        "container": "kube-state-metrics",
        "namespace": "monitoring",
        "job": "kube-state-metrics",
    }
    assert find_target(labels) is None


def test_statefulset_sample() -> None:
    alert = parse_payload(sample("kube-statefulset-resolved")).alerts[0]
    sanitized = Sanitizer().sanitize(alert)
    assert sanitized.target is not None and sanitized.target.kind == "StatefulSet"
    assert sanitized.status == "resolved" and sanitized.ends_at is not None


def test_no_namespace_means_no_target() -> None:
    sanitized = Sanitizer().sanitize(raw(labels={"alertname": "Watchdog", "deployment": "web"}))
    assert sanitized.namespace is None and sanitized.target is None
