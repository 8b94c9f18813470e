"""GET /api/v1/alerts and /api/v1/alerts/<id>: the stored records."""

from __future__ import annotations

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify, request

from alerts_processor.blueprints import auth
from alerts_processor.blueprints.errors import error_response
from alerts_processor.blueprints.serialize import record_json
from alerts_processor.config import Settings
from alerts_processor.containers import Container
from alerts_processor.interfaces import IAlertsRepository

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")


@bp.before_request
@inject
def _authorize(settings: Settings = Provide[Container.settings]) -> Response | None:
    """The read API has its own token (ALERTS_API_TOKEN), separate from the webhook's."""
    return auth.check(request, settings.api_token)


DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@bp.get("/alerts")
@inject
def list_alerts(repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """The newest episodes first (by starts_at), at most `limit` of them."""
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        return error_response(400, "invalid_parameter", f"limit must be an integer from 1 to {MAX_LIMIT}")
    records = repository.list(int(raw))
    return jsonify(alerts=[record_json(r) for r in records], count=len(records))


@bp.get("/alerts/<alert_id>")
@inject
def get_alert(alert_id: str, repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """One episode by id."""
    record = repository.get(alert_id)
    if record is None:
        return error_response(404, "not_found", f"no alert with id {alert_id[:100]!r}")
    return jsonify(record_json(record))
