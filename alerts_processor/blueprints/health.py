"""GET /healthz (the process answers) and /readyz (store reachable, intake not saturated)."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify

from alerts_processor.blueprints.errors import error_response
from alerts_processor.containers import Container
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import StoreUnavailable
from alerts_processor.pipeline.service import PipelineService

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """Liveness: no dependency is checked, so a store outage never restarts the pod."""
    return jsonify(status="ok")


@bp.get("/readyz")
@inject
def readyz(
    repository: IAlertsRepository = Provide[Container.repository],
    pipeline: PipelineService = Provide[Container.pipeline],
) -> Response:
    """Readiness: 503 while the store is down or the queue is full, so traffic goes elsewhere."""
    try:
        repository.ping()
    except StoreUnavailable as exc:
        return error_response(503, "store_unavailable", str(exc)[:300])
    depth, total = pipeline.capacity.in_use, pipeline.capacity.total
    if depth >= total:
        return error_response(503, "queue_full", f"{depth} of {total} queue slots in use")
    return jsonify(status="ready", queue={"depth": depth, "max": total})
