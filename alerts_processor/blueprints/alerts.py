"""The read API under /api/v1: search, one episode with its history, workload timeline, stats, export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from dependency_injector.wiring import Provide, inject
from flask import Blueprint, Response, jsonify, request, stream_with_context

from alerts_processor.blueprints import auth
from alerts_processor.blueprints.errors import error_response
from alerts_processor.blueprints.query_params import FILTERS, KINDS, alert_query, check_known, limit, single, timestamp
from alerts_processor.blueprints.serialize import record_json
from alerts_processor.config import Settings
from alerts_processor.containers import Container
from alerts_processor.history import iterate, timeline
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import WorkloadRef, ts
from alerts_processor.query import QueryError

bp = Blueprint("alerts", __name__, url_prefix="/api/v1")
_KINDS = {k.lower(): k for k in KINDS}


@bp.before_request
@inject
def _authorize(settings: Settings = Provide[Container.settings]) -> Response | None:
    """The read API has its own token (ALERTS_API_TOKEN), separate from the webhook's."""
    return auth.check(request, settings.api_token)


@bp.errorhandler(QueryError)
def _bad_parameter(exc: QueryError) -> Response:
    return error_response(400, "invalid_parameter", f"{exc.parameter}: {exc.detail}")


@bp.get("/alerts")
@inject
def list_alerts(repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """Episodes matching the filters, one page at a time; `next` is the URL of the following page."""
    page = repository.query(alert_query(request.args))
    next_url = None
    if page.next is not None:
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        next_url = f"{request.base_url}?{urlencode([*params, ('cursor', page.next.encode())])}"
    response = jsonify(alerts=[record_json(r) for r in page.records], count=len(page.records), next=next_url)
    if next_url:
        response.headers["Link"] = f'<{next_url}>; rel="next"'
    return response


@bp.get("/alerts/<alert_id>")
@inject
def get_alert(alert_id: str, repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """One episode with every notification of it (time and status)."""
    check_known(request.args, ())
    record = repository.get(alert_id)
    if record is None:
        return error_response(404, "not_found", f"no alert with id {alert_id[:100]!r}")
    history = [{"received_at": ts(n.received_at), "status": n.status} for n in repository.history(alert_id)]
    return jsonify({**record_json(record), "history": history})


@bp.get("/workloads/<namespace>/<kind>/<name>/timeline")
@inject
def workload_timeline(
    namespace: str, kind: str, name: str, repository: IAlertsRepository = Provide[Container.repository]
) -> Response:
    """A workload's episodes interleaved with its rollouts, newest first."""
    check_known(request.args, ("limit",))
    canonical = _KINDS.get(kind.lower())
    if canonical is None:
        raise QueryError("kind", f"kind must be one of {', '.join(_KINDS.values())}")
    workload = WorkloadRef(canonical, name)
    events = timeline(repository, namespace, workload, limit(request.args, default=100))
    return jsonify(namespace=namespace, kind=canonical, name=name, events=events)


@bp.get("/stats")
@inject
def stats(repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """Counts of the episodes that started in [since, until) (default: the last 24 hours)."""
    check_known(request.args, ("since", "until", "top"))
    until = timestamp(request.args, "until") or datetime.now(UTC)
    day, earliest = timedelta(hours=24), datetime.min.replace(tzinfo=UTC)
    since = timestamp(request.args, "since") or (until - day if until - earliest > day else earliest)
    top_raw = single(request.args, "top") or "10"
    if not (top_raw.isascii() and top_raw.isdigit()) or not 1 <= int(top_raw) <= 100:
        raise QueryError("top", "top must be an integer from 1 to 100")
    result = repository.stats(since, until, int(top_raw))
    return jsonify(
        since=ts(since),
        until=ts(until),
        total=result.total,
        by_severity=dict(result.by_severity),
        by_status=dict(result.by_status),
        by_namespace=dict(result.by_namespace),
        by_workload=dict(result.by_workload),
        top_alertnames=[{"alertname": k, "count": n} for k, n in result.top_alertnames],
    )


@bp.get("/export")
@inject
def export(repository: IAlertsRepository = Provide[Container.repository]) -> Response:
    """Newline-delimited JSON of every matching record, oldest first, streamed page by page."""
    query = alert_query(request.args, allowed=(*FILTERS, "sort"))
    if query.since is None:
        raise QueryError("since", "since is required (the export starts there)")
    query = replace(query, descending=False)

    def lines() -> Iterator[str]:
        for record in iterate(repository, query):
            yield json.dumps(record_json(record), separators=(",", ":")) + "\n"

    return Response(stream_with_context(lines()), mimetype="application/x-ndjson")
