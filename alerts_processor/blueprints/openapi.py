"""GET /openapi.json: the OpenAPI 3.1 document of every endpoint, built from the schemas the code uses."""

from __future__ import annotations

from typing import Any

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify

from alerts_processor.blueprints.openapi_schemas import STR, TS, components, ref
from alerts_processor.blueprints.query_params import KINDS, MAX_LIMIT
from alerts_processor.containers import Container
from alerts_processor.pipeline.payload import PayloadParser
from alerts_processor.query import MATCHER_PATTERN

bp = Blueprint("openapi", __name__)
_ERRORS = {400: "invalid parameter or body", 401: "missing or wrong credentials", 404: "not found",
           413: "too large", 415: "not JSON", 422: "not a version 4 payload", 503: "cannot accept now"}  # fmt: skip
_BEARER: list[dict[str, list[str]]] = [{"apiToken": []}]


def _json(schema: dict[str, Any], description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes: int) -> dict[str, Any]:
    retry = {"Retry-After": {"schema": STR}}
    return {str(c): _json(ref("Error"), _ERRORS[c], retry if c == 503 else None) for c in codes}


def _q(name: str, schema: dict[str, Any], description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **extra}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": STR}


_MATCHER = {"type": "string", "pattern": MATCHER_PATTERN}
_TEXT_FILTERS = ("alertname", "severity", "namespace", "deployment", "workload_kind", "workload_name", "fingerprint",
                 "receiver")  # fmt: skip
FILTERS = [
    _q("status", {"enum": ["firing", "resolved"]}, "episode status"),
    *(_q(name, STR, f"exact {name}") for name in _TEXT_FILTERS),
    _q("validation", {"enum": ["valid", "invalid", "skipped", "unknown"]}, "validation outcome"),
    _q("release_suspect", {"enum": ["true", "false"]}, "the alert started soon after a rollout"),
    _q("since", TS, "starts_at at or after (RFC 3339)"),
    _q("until", TS, "starts_at before (RFC 3339)"),
    _q("filter", {"type": "array", "items": _MATCHER}, 'label matcher: name="v", name!="v", name=~"re"',
       style="form", explode=True),
]  # fmt: skip
_LIMIT = {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}
PAGING = [
    _q("sort", {"enum": ["starts_at", "last_received_at"]}, "order by"),
    _q("order", {"enum": ["asc", "desc"]}, "direction (default desc)"),
    _q("limit", _LIMIT, "page size (default 50)"),
    _q("cursor", STR, "the cursor in the previous page's `next`"),
]


def _get(operation: str, summary: str, ok: dict[str, Any], params: list[Any], errors: tuple[int, ...],
         secured: bool = True) -> dict[str, Any]:  # fmt: skip
    spec: dict[str, Any] = {"operationId": operation, "summary": summary, "parameters": params,
                            "responses": {"200": ok, **_errors(*errors)}}  # fmt: skip
    if secured:
        spec["security"] = _BEARER
    return {"get": spec}


def document(parser: PayloadParser) -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    webhook = {
        "operationId": "receiveWebhook", "summary": "Alertmanager webhook (payload version 4)",
        "security": [{"webhookToken": []}, {"webhookBasic": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("WebhookPayload")}}},
        "responses": {"202": _json(ref("Accepted"), "durably accepted"), **_errors(400, 401, 413, 415, 422, 503)},
    }  # fmt: skip
    ndjson = {"description": "one AlertRecord per line", "content": {"application/x-ndjson": {"schema": STR}}}
    top = {"type": "integer", "minimum": 1, "maximum": 100}
    window = [
        _q("since", TS, "window start (default: 24 hours before until)"),
        _q("until", TS, "window end (default: now)"),
        _q("top", top, "alertnames listed (default 10)"),
    ]
    export_params = [{**FILTERS[-3], "required": True}, *(p for p in FILTERS if p["name"] != "since"), PAGING[0]]
    kind = {**_path("kind"), "schema": {"enum": [*KINDS, *(k.lower() for k in KINDS)]}}
    timeline_params = [_path("namespace"), kind, _path("name"), _q("limit", _LIMIT, "episodes (default 100)")]
    paths = {
        "/webhooks/alertmanager": {"post": webhook},
        "/api/v1/alerts": _get("listAlerts", "Search episodes", _json(ref("AlertPage"), "a page of records"),
                               [*FILTERS, *PAGING], (400, 401)),
        "/api/v1/alerts/{id}": _get("getAlert", "One episode and its notifications",
                                    _json(ref("AlertWithHistory"), "the record"), [_path("id")], (400, 401, 404)),
        "/api/v1/workloads/{namespace}/{kind}/{name}/timeline": _get(
            "workloadTimeline", "A workload's episodes and rollouts, newest first",
            _json(ref("Timeline"), "the timeline"), timeline_params, (400, 401)),
        "/api/v1/stats": _get("stats", "Counts over a window", _json(ref("Stats"), "the counts"), window, (400, 401)),
        "/api/v1/export": _get("export", "Records as NDJSON, oldest first", ndjson, export_params, (400, 401)),
        "/healthz": _get("healthz", "Liveness", _json(ref("Health"), "alive"), [], (), secured=False),
        "/readyz": _get("readyz", "Readiness", _json(ref("Health"), "ready"), [], (503,), secured=False),
        "/metrics": _get("metrics", "Prometheus metrics", {"description": "text exposition format",
                         "content": {"text/plain": {"schema": STR}}}, [], (), secured=False),
        "/openapi.json": _get("openapi", "This document", _json({"type": "object"}, "OpenAPI 3.1"), [], (),
                              secured=False),
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {"title": "alerts_processor", "version": "0.1.0",
                 "description": "Alertmanager webhook receiver and the read API of its alert records."},
        "paths": paths,
        "components": {
            "schemas": components(parser),
            "securitySchemes": {"webhookToken": {"type": "http", "scheme": "bearer"},
                                "webhookBasic": {"type": "http", "scheme": "basic"},
                                "apiToken": {"type": "http", "scheme": "bearer"}},
        },
    }  # fmt: skip


@bp.get("/openapi.json")
@inject
def openapi(parser: PayloadParser = Provide[Container.parser]) -> Response:
    """The document, with the payload limits this server enforces."""
    return jsonify(document(parser))
