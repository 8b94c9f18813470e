"""Webhook payload parsing: JSON Schema check of Alertmanager's version 4 body, then domain objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs

from alerts_processor.models import AlertmanagerPayload, AlertsProcessorError, RawAlert

SUPPORTED_VERSION = "4"


@dataclass(frozen=True)
class PayloadLimits:
    """Bounds on what one payload may hold (hostile input must not cost memory or time)."""

    max_alerts: int = 10000
    max_labels: int = 64
    max_label_length: int = 4096
    max_annotation_length: int = 16384
    max_depth: int = 32


def _string_map(max_items: int, max_length: int) -> dict[str, Any]:
    return {
        "type": "object",
        "maxProperties": max_items,
        "propertyNames": {"maxLength": 256},
        "additionalProperties": {"type": "string", "maxLength": max_length},
    }


def payload_schema(limits: PayloadLimits = PayloadLimits()) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a version 4 webhook body, with `limits` applied."""
    labels = _string_map(limits.max_labels, limits.max_label_length)
    annotations = _string_map(limits.max_labels, limits.max_annotation_length)
    alert = {
        "type": "object",
        "required": ["status", "labels", "startsAt"],
        "properties": {
            "status": {"enum": ["firing", "resolved"]},
            "labels": {**labels, "minProperties": 1},
            "annotations": annotations,
            "startsAt": {"type": "string", "minLength": 1, "maxLength": 64},
            "endsAt": {"type": "string", "maxLength": 64},
            "generatorURL": {"type": "string", "maxLength": limits.max_label_length},
            "fingerprint": {"type": "string", "maxLength": 64},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Alertmanager webhook payload (version 4)",
        "type": "object",
        "required": ["version", "status", "receiver", "alerts"],
        "properties": {
            "version": {"const": SUPPORTED_VERSION},
            "status": {"enum": ["firing", "resolved"]},
            "receiver": {"type": "string", "maxLength": 256},
            "alerts": {"type": "array", "items": alert, "maxItems": limits.max_alerts},
            "groupLabels": labels,
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": {"type": "string", "maxLength": limits.max_label_length},
            "groupKey": {"type": "string", "maxLength": limits.max_annotation_length},
            "truncatedAlerts": {"type": "integer", "minimum": 0},
        },
    }


class PayloadError(AlertsProcessorError):
    """The body is JSON but not a payload we can ever accept; `code` names the problem."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def json_depth(document: object) -> int:
    """How deeply arrays and objects nest (iteratively: a hostile body cannot exhaust the stack)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


_KNOWN = frozenset(("version", "status", "receiver", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
                    "externalURL", "groupKey", "truncatedAlerts"))  # fmt: skip
_KNOWN_ALERT = frozenset(("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"))


def _unknown_depth(document: object) -> int:
    """Nesting of what the schema does not bound: unknown fields (known ones must be flat to pass it).

    Walking only those keeps the check off the hot path of well-formed payloads.
    """
    if not isinstance(document, dict):
        return json_depth(document)
    deepest = 1
    for key, value in document.items():
        if key not in _KNOWN:
            deepest = max(deepest, 1 + json_depth(value))
        elif key == "alerts" and isinstance(value, list):
            for alert in value:
                for name, field in alert.items() if isinstance(alert, dict) else ():
                    if name not in _KNOWN_ALERT:
                        deepest = max(deepest, 3 + json_depth(field))
    return deepest


class PayloadParser:
    """Validates documents against the schema for `limits` and builds AlertmanagerPayload objects."""

    def __init__(self, limits: PayloadLimits = PayloadLimits()) -> None:
        self.limits = limits
        # jsonschema-rs: the pure-Python jsonschema spent half of the pipeline's CPU time here.
        self._validator = jsonschema_rs.Draft202012Validator(payload_schema(limits))

    def parse(self, document: object) -> AlertmanagerPayload:
        """Check `document` and build the payload; raise PayloadError naming the first problem."""
        if _unknown_depth(document) > self.limits.max_depth:
            raise PayloadError("too_deep", f"JSON nested deeper than {self.limits.max_depth} levels")
        if isinstance(document, Mapping) and "version" in document and document["version"] != SUPPORTED_VERSION:
            raise PayloadError(
                "unsupported_version",
                f"payload version {str(document['version'])[:16]!r} is not supported (expected {SUPPORTED_VERSION!r})",
            )
        if not self._validator.is_valid(document):
            error = next(iter(self._validator.iter_errors(document)))
            where = "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
            keyword = error.schema_path[-1] if error.schema_path else ""
            code = "too_many_alerts" if keyword == "maxItems" and where == ".alerts" else "invalid_payload"
            raise PayloadError(code, f"payload{where}: {error.message[:300]}")
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


@cache
def _default_parser() -> PayloadParser:
    return PayloadParser()


def parse_payload(document: object) -> AlertmanagerPayload:
    """Parse with the default limits."""
    return _default_parser().parse(document)


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
