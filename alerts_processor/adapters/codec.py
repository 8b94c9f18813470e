"""Conversions shared by the stores: timestamps as sortable UTC strings, JSON text, rows to records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from alerts_processor.memo import ByIdentity
from alerts_processor.models import (
    AlertRecord,
    JSONDict,
    ProcessedAlert,
    Validation,
    ValidationStatus,
    WorkloadRef,
    ts,
)


def opt_ts(value: datetime | None) -> str | None:
    """ts() that lets None through."""
    return None if value is None else ts(value)


def parse_ts(value: str | datetime | None) -> datetime | None:
    """The inverse of ts(); stores with a native timestamp type hand datetimes through."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def _mapping(value: object) -> dict[str, Any]:
    if isinstance(value, Mapping):  # read-only label views and the like
        return dict(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> str:
    """Compact, key-sorted JSON text, from orjson: several times faster than the json module."""
    return orjson.dumps(value, default=_mapping, option=orjson.OPT_SORT_KEYS).decode()


def flat_fields(processed: ProcessedAlert) -> dict[str, Any]:
    """The scalar columns of a record for one delivery (labels, annotations, enrichment left to the store)."""
    alert, delivery, workload = processed.alert, processed.delivery, processed.workload
    received = ts(delivery.received_at)
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "alertname": alert.alertname,
        "severity": alert.severity,
        "status": alert.status,
        "namespace": alert.namespace,
        "deployment": processed.deployment,
        "workload_kind": workload.kind if workload else None,
        "workload_name": workload.name if workload else None,
        "starts_at": ts(alert.starts_at),
        "ends_at": opt_ts(alert.ends_at),
        "generator_url": alert.generator_url,
        "receiver": delivery.receiver,
        "group_key": delivery.group_key,
        "validation_status": processed.validation.status.value,
        "validation_reason": processed.validation.reason,
        "first_received_at": received,
        "last_received_at": received,
    }


def make_record(
    row: Mapping[str, Any], labels: Mapping[str, str], annotations: Mapping[str, str], enrichment: JSONDict | None
) -> AlertRecord:
    """Build an AlertRecord from the flat fields of flat_fields() plus the decoded documents."""
    kind, name = row["workload_kind"], row["workload_name"]
    starts_at = parse_ts(row["starts_at"])
    first, last = parse_ts(row["first_received_at"]), parse_ts(row["last_received_at"])
    assert starts_at is not None and first is not None and last is not None
    return AlertRecord(
        id=row["id"],
        fingerprint=row["fingerprint"],
        alertname=row["alertname"],
        severity=row["severity"],
        status=row["status"],
        namespace=row["namespace"],
        deployment=row["deployment"],
        workload=WorkloadRef(kind, name) if kind and name else None,
        starts_at=starts_at,
        ends_at=parse_ts(row["ends_at"]),
        labels=labels,
        annotations=annotations,
        generator_url=row["generator_url"],
        receiver=row["receiver"],
        group_key=row["group_key"],
        validation=Validation(ValidationStatus(row["validation_status"]), row["validation_reason"]),
        enrichment=enrichment,
        notifications=int(row["notifications"]),
        first_received_at=first,
        last_received_at=last,
    )


def document_id(text: str) -> str:
    """The id of an enrichment document: a digest of its JSON, so equal documents share one id."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class RowEncoder:
    """The flat row of a record for the SQL stores, its JSON as text, made in the caller's thread.

    The alerts on one workload share their enrichment document (never changed once built): its
    JSON, the largest part of a row, is made once for all of them.
    """

    def __init__(self, remembered: int = 1024, document_ids: bool = False) -> None:  # about 1 MB of text
        self._enrichments: ByIdentity[tuple[str, str | None]] = ByIdentity(remembered)
        self._document_ids = document_ids  # SQLite stores each document once, under `enrichment_id`

    def _document(self, enrichment: JSONDict) -> tuple[str, str | None]:
        text = dumps(enrichment)
        return text, document_id(text) if self._document_ids else None

    def __call__(self, processed: ProcessedAlert) -> dict[str, Any]:
        row = flat_fields(processed)
        row["labels"] = dumps(processed.alert.labels)
        row["annotations"] = dumps(processed.alert.annotations)
        enrichment = processed.enrichment
        if enrichment is None:
            row["enrichment"] = row["enrichment_id"] = None
        else:
            row["enrichment"], row["enrichment_id"] = self._enrichments.get(
                (enrichment,), lambda: self._document(enrichment)
            )
        row["delivery_id"] = processed.delivery.delivery_id
        return row
