"""JSON Schemas of the API's bodies, for the OpenAPI document (kept beside the serialisers they describe)."""

from __future__ import annotations

from typing import Any

from alerts_processor.pipeline.payload import PayloadParser, payload_schema

TS = {"type": "string", "format": "date-time"}
OPT_TS = {"type": ["string", "null"], "format": "date-time"}
OPT_STR = {"type": ["string", "null"]}
STR = {"type": "string"}
INT = {"type": "integer"}
STRINGS = {"type": "object", "additionalProperties": STR}
COUNTS = {"type": "object", "additionalProperties": INT}


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(required: bool = True, **properties: Any) -> dict[str, Any]:
    """An object schema whose properties are all required (unless told otherwise)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(properties)
    return schema


def _record() -> dict[str, Any]:
    workload = {"oneOf": [{"type": "null"}, obj(kind=STR, name=STR)]}
    validation = obj(status={"enum": ["valid", "invalid", "skipped", "unknown"]}, reason=OPT_STR)
    return obj(
        id=STR, fingerprint=STR, alertname=STR, severity=STR, status={"enum": ["firing", "resolved"]},
        namespace=OPT_STR, deployment=OPT_STR, workload=workload, starts_at=TS, ends_at=OPT_TS, labels=STRINGS,
        annotations=STRINGS, generator_url=STR, receiver=STR, group_key=STR, validation=validation,
        enrichment={"type": ["object", "null"]}, notifications={"type": "integer", "minimum": 1},
        first_received_at=TS, last_received_at=TS,
    )  # fmt: skip


def components(parser: PayloadParser) -> dict[str, Any]:
    """The `components.schemas` of the document."""
    webhook = payload_schema(parser.limits)
    webhook.pop("$schema", None)
    history = obj(history={"type": "array", "items": obj(received_at=TS, status=STR)})
    event = obj(required=False, type={"enum": ["alert", "rollout"]}, time=TS)
    event["required"] = ["type", "time"]
    return {
        "AlertRecord": _record(),
        "AlertWithHistory": {"allOf": [ref("AlertRecord"), history]},
        "AlertPage": obj(alerts={"type": "array", "items": ref("AlertRecord")}, count=INT, next=OPT_STR),
        "Stats": obj(
            since=TS,
            until=TS,
            total=INT,
            by_severity=COUNTS,
            by_status=COUNTS,
            by_namespace=COUNTS,
            by_workload=COUNTS,
            top_alertnames={"type": "array", "items": obj(alertname=STR, count=INT)},
        ),
        "Timeline": obj(namespace=STR, kind=STR, name=STR, events={"type": "array", "items": event}),
        "Accepted": obj(status={"const": "accepted"}, batch_id=STR, accepted=INT, truncated_alerts=INT),
        "Error": obj(error=STR, detail=STR),
        "Health": obj(status=STR),
        "WebhookPayload": webhook,
    }
