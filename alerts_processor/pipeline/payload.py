"""Webhook payload parsing: JSON Schema check of Alertmanager's version 4 body, then domain objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from alerts_processor.models import AlertmanagerPayload, AlertsProcessorError, RawAlert

SUPPORTED_VERSION = "4"

_STRING_MAP: dict[str, Any] = {"type": "object", "additionalProperties": {"type": "string"}}

ALERT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "labels", "startsAt"],
    "properties": {
        "status": {"enum": ["firing", "resolved"]},
        "labels": {**_STRING_MAP, "minProperties": 1},
        "annotations": _STRING_MAP,
        "startsAt": {"type": "string", "minLength": 1},
        "endsAt": {"type": "string"},
        "generatorURL": {"type": "string"},
        "fingerprint": {"type": "string"},
    },
}

PAYLOAD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Alertmanager webhook payload (version 4)",
    "type": "object",
    "required": ["version", "status", "receiver", "alerts"],
    "properties": {
        "version": {"type": "string"},
        "status": {"enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "alerts": {"type": "array", "items": ALERT_SCHEMA},
        "groupLabels": _STRING_MAP,
        "commonLabels": _STRING_MAP,
        "commonAnnotations": _STRING_MAP,
        "externalURL": {"type": "string"},
        "groupKey": {"type": "string"},
        "truncatedAlerts": {"type": "integer", "minimum": 0},
    },
}

_VALIDATOR = Draft202012Validator(PAYLOAD_SCHEMA)


class PayloadError(AlertsProcessorError):
    """The body is JSON but not a payload we can ever accept; `code` names the problem."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def parse_payload(document: object) -> AlertmanagerPayload:
    """Check `document` against the version 4 schema and build the payload; raise PayloadError."""
    if isinstance(document, Mapping) and "version" in document and document["version"] != SUPPORTED_VERSION:
        raise PayloadError(
            "unsupported_version",
            f"payload version {str(document['version'])[:16]!r} is not supported (expected {SUPPORTED_VERSION!r})",
        )
    error = best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise PayloadError("invalid_payload", f"payload{where}: {error.message[:300]}")
    assert isinstance(document, Mapping)
    return AlertmanagerPayload(
        version=document["version"],
        receiver=document["receiver"],
        status=document["status"],
        alerts=tuple(_raw_alert(a) for a in document["alerts"]),
        group_labels=document.get("groupLabels", {}),
        common_labels=document.get("commonLabels", {}),
        common_annotations=document.get("commonAnnotations", {}),
        external_url=document.get("externalURL", ""),
        group_key=document.get("groupKey", ""),
        truncated_alerts=document.get("truncatedAlerts", 0),
    )


def _raw_alert(alert: Mapping[str, Any]) -> RawAlert:
    return RawAlert(
        status=alert["status"],
        labels=alert["labels"],
        annotations=alert.get("annotations", {}),
        starts_at=alert["startsAt"],
        ends_at=alert.get("endsAt", ""),
        generator_url=alert.get("generatorURL", ""),
        fingerprint=alert.get("fingerprint", ""),
    )
