"""POST /webhooks/alertmanager: check the payload, record it durably, queue it, answer fast."""

from __future__ import annotations

import json
import logging

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify, request

from alerts_processor.blueprints.errors import error_response
from alerts_processor.config import Settings
from alerts_processor.containers import Container
from alerts_processor.models import QueueFull, StoreUnavailable
from alerts_processor.pipeline.payload import PayloadError, parse_payload
from alerts_processor.pipeline.service import PipelineService

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


@bp.post("/webhooks/alertmanager")
@inject
def receive(
    pipeline: PipelineService = Provide[Container.pipeline],
    settings: Settings = Provide[Container.settings],
) -> Response | tuple[Response, int]:
    """Accept one Alertmanager notification (2xx only once it is durably recorded)."""
    if not _is_json(request.mimetype):
        return error_response(
            415, "unsupported_media_type", f"Content-Type must be application/json, not {request.mimetype or 'none'!r}"
        )
    body = request.get_data(cache=False)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return error_response(400, "invalid_json", f"the body is not valid JSON: {str(exc)[:200]}")
    try:
        payload = parse_payload(document)
    except PayloadError as exc:
        return error_response(422, exc.code, exc.detail)
    count = len(payload.alerts)
    if count > pipeline.capacity.total:
        # Will never fit, so 413 (not retried) rather than a 503 Alertmanager would retry forever.
        return error_response(
            413, "too_many_alerts", f"{count} alerts in one batch; at most {pipeline.capacity.total} (ALERTS_QUEUE_MAX)"
        )
    retry = {"Retry-After": str(settings.retry_after)}
    try:
        batch_id = pipeline.accept(payload, body)
    except QueueFull as exc:
        log.warning("webhook rejected: queue full", extra={"alerts": count})
        return error_response(503, "queue_full", f"cannot take {count} more alerts now: {exc}", retry)
    except StoreUnavailable as exc:
        log.error("webhook rejected: store unavailable", extra={"error": str(exc)})
        return error_response(503, "store_unavailable", "the alert store cannot take writes right now", retry)
    log.info(
        "batch accepted",
        extra={
            "batch_id": batch_id,
            "alerts": count,
            "receiver": payload.receiver,
            "truncated_alerts": payload.truncated_alerts,
        },
    )
    return jsonify(status="accepted", batch_id=batch_id, accepted=count, truncated_alerts=payload.truncated_alerts), 202
