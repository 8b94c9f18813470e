"""Sanitize: pure normalisation of a raw alert (names, severity, target, timestamps, identity)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache

from alerts_processor.interfaces import ISanitizer
from alerts_processor.models import InvalidAlert, RawAlert, SanitizedAlert, WorkloadRef, ts

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")

# Go's zero time: Alertmanager's way of saying "no end yet".
_ZERO_TIME_YEAR = 1

_SEVERITY_ALIASES = {
    "crit": "critical",
    "fatal": "critical",
    "emergency": "critical",
    "err": "error",
    "warn": "warning",
    "information": "info",
    "informational": "info",
}

# Label → workload kind, most specific owner first: a `deployment` label wins over the `pod`
# label, which on kube-state-metrics series is often the exporter's own pod.
_TARGET_LABELS = (
    ("deployment", "Deployment"),
    ("statefulset", "StatefulSet"),
    ("daemonset", "DaemonSet"),
    ("replicaset", "ReplicaSet"),
    ("pod", "Pod"),
)
_EXPORTER_CONTAINERS = frozenset({"kube-state-metrics"})


def alertmanager_fingerprint(labels: Mapping[str, str]) -> str:
    """The fingerprint Alertmanager computes: FNV-1a 64 over sorted names and values, each + 0xff."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode("utf-8") + b"\xff":
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


@lru_cache(maxsize=4096)  # the alerts of a batch share their times: most calls are hits
def parse_timestamp(value: str, field_name: str) -> datetime | None:
    """RFC 3339 (nanoseconds allowed, truncated to microseconds) in UTC; Go's zero time is None."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidAlert(f"{field_name} {value[:64]!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise InvalidAlert(f"{field_name} {value[:64]!r} has no time zone")
    if parsed.year == _ZERO_TIME_YEAR:
        return None
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 is past the last representable instant
        raise InvalidAlert(f"{field_name} {value[:64]!r} is out of range") from None


def normalise_severity(value: str | None) -> str:
    """Lower-case, aliases folded (`crit` → `critical`), `warning` when absent."""
    cleaned = (value or "").strip().lower()
    if not cleaned:
        return "warning"
    return _SEVERITY_ALIASES.get(cleaned, cleaned)


def find_target(labels: Mapping[str, str]) -> WorkloadRef | None:
    """The Kubernetes object an alert is about, ignoring the exporter's own pod."""
    for label, kind in _TARGET_LABELS:
        name = labels.get(label, "").strip()
        if not name:
            continue
        if kind == "Pod" and _is_exporter_pod(labels, name):
            continue
        return WorkloadRef(kind=kind, name=name)
    return None


def _is_exporter_pod(labels: Mapping[str, str], pod: str) -> bool:
    return labels.get("container", "") in _EXPORTER_CONTAINERS or any(
        exporter in pod for exporter in _EXPORTER_CONTAINERS
    )


def record_id(fingerprint: str, starts_at: datetime) -> str:
    """One id per episode: the fingerprint plus the start time (UTC, microseconds)."""
    compact = ts(starts_at).replace("-", "").replace(":", "").replace(".", "")
    return f"{fingerprint}-{compact}"


class Sanitizer(ISanitizer):
    """The ISanitizer of the service."""

    def sanitize(self, raw: RawAlert) -> SanitizedAlert:
        labels = dict(raw.labels)
        starts_at = parse_timestamp(raw.starts_at, "startsAt")
        if starts_at is None:
            raise InvalidAlert("startsAt is the zero time")
        ends_at = parse_timestamp(raw.ends_at, "endsAt") if raw.ends_at else None
        fingerprint = raw.fingerprint.lower()
        if not _FINGERPRINT.match(fingerprint):
            fingerprint = alertmanager_fingerprint(labels)
        namespace = labels.get("namespace", "").strip() or None
        status = raw.status
        return SanitizedAlert(
            id=record_id(fingerprint, starts_at),
            fingerprint=fingerprint,
            alertname=labels.get("alertname", ""),
            severity=normalise_severity(labels.get("severity")),
            status=status,
            namespace=namespace,
            target=find_target(labels) if namespace else None,
            starts_at=starts_at,
            ends_at=ends_at if status == "resolved" else None,
            labels=labels,
            annotations=dict(raw.annotations),
            generator_url=raw.generator_url,
        )
