"""Query string → AlertQuery: every parameter checked, a bad one answered 400 with its name."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from werkzeug.datastructures import MultiDict

from alerts_processor.query import SORT_FIELDS, AlertQuery, Cursor, QueryError, parse_matcher

MAX_LIMIT = 500
KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")
DEFAULT_LIMIT = 50
_CHOICES = {
    "status": ("firing", "resolved"),
    "validation": ("valid", "invalid", "skipped", "unknown"),
    "order": ("asc", "desc"),
    "sort": SORT_FIELDS,
    "release_suspect": ("true", "false"),
}
_TEXT = ("alertname", "severity", "namespace", "deployment", "workload_kind", "workload_name", "fingerprint",
         "receiver")  # fmt: skip
FILTERS = (*_TEXT, "status", "validation", "release_suspect", "since", "until", "filter")
LIST_PARAMETERS = frozenset((*FILTERS, "sort", "order", "limit", "cursor"))


def check_known(args: MultiDict[str, str], allowed: Iterable[str]) -> None:
    """Refuse parameters we do not know: a typo (`namepsace=`) must not silently widen a search."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise QueryError(unknown[0], f"unknown parameter {unknown[0][:50]!r}")


def single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise QueryError(name, f"{name} may be given once")
    value = values[0] if values else None
    if value is not None and name in _CHOICES and value not in _CHOICES[name]:
        raise QueryError(name, f"{name} must be one of {', '.join(_CHOICES[name])}")
    return value


def timestamp(args: MultiDict[str, str], name: str) -> datetime | None:
    value = single(args, name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(name, f"{name} must be an RFC 3339 time such as 2026-11-30T04:34:04Z") from None
    if parsed.tzinfo is None:
        raise QueryError(name, f"{name} needs a time zone (Z or an offset)")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise QueryError(name, f"{name} is out of range") from None


def limit(args: MultiDict[str, str], default: int = DEFAULT_LIMIT) -> int:
    raw = single(args, "limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise QueryError("limit", f"limit must be an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def alert_query(args: MultiDict[str, str], allowed: Iterable[str] = LIST_PARAMETERS) -> AlertQuery:
    """The AlertQuery of GET /api/v1/alerts (and of /export, which takes the same filters)."""
    check_known(args, allowed)
    suspect = single(args, "release_suspect")
    cursor = single(args, "cursor")
    return AlertQuery(
        **{name: single(args, name) for name in (*_TEXT, "status", "validation")},
        release_suspect=None if suspect is None else suspect == "true",
        since=timestamp(args, "since"),
        until=timestamp(args, "until"),
        matchers=tuple(parse_matcher(text) for text in args.getlist("filter")),
        sort=single(args, "sort") or "starts_at",
        descending=(single(args, "order") or "desc") == "desc",
        limit=limit(args),
        after=Cursor.decode(cursor) if cursor is not None else None,
    )
