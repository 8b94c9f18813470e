"""Records as JSON documents for the read API."""

from __future__ import annotations

from typing import Any

from alerts_processor.adapters.codec import opt_ts
from alerts_processor.models import AlertRecord, ts


def record_json(record: AlertRecord) -> dict[str, Any]:
    """The public JSON shape of a stored alert episode."""
    return {
        "id": record.id,
        "fingerprint": record.fingerprint,
        "alertname": record.alertname,
        "severity": record.severity,
        "status": record.status,
        "namespace": record.namespace,
        "deployment": record.deployment,
        "workload": None if record.workload is None else {"kind": record.workload.kind, "name": record.workload.name},
        "starts_at": ts(record.starts_at),
        "ends_at": opt_ts(record.ends_at),
        "labels": dict(record.labels),
        "annotations": dict(record.annotations),
        "generator_url": record.generator_url,
        "receiver": record.receiver,
        "group_key": record.group_key,
        "validation": {"status": record.validation.status.value, "reason": record.validation.reason},
        "enrichment": record.enrichment,
        "notifications": record.notifications,
        "first_received_at": ts(record.first_received_at),
        "last_received_at": ts(record.last_received_at),
    }
