"""MongoDB shapes: labels as {name, value} items, the query indexes, and AlertQuery as filters of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alerts_processor.models import ts
from alerts_processor.query import AlertQuery, LabelMatcher

Doc = dict[str, Any]

# Equality filters of the query API, each followed by the order (descending) it pages in.
QUERY_INDEXES = (
    ("last_received_at",),
    ("namespace", "starts_at"),
    ("alertname", "starts_at"),
    ("namespace", "workload_kind", "workload_name", "starts_at"),
)


def pairs(mapping: Mapping[str, str]) -> list[dict[str, str]]:
    # Labels are stored as {name, value} items, never as keys: a label named `$where` or `a.b`
    # can then never act as an operator or a path, and $elemMatch can still query them.
    return [{"name": k, "value": v} for k, v in sorted(mapping.items())]


def unpairs(items: list[dict[str, str]]) -> dict[str, str]:
    return {item["name"]: item["value"] for item in items}


def _has(name: str, value: Any) -> Doc:
    return {"labels": {"$elemMatch": {"name": name, "value": value}}}


def _lacks(name: str, value: Any) -> Doc:
    return {"labels": {"$not": {"$elemMatch": {"name": name, "value": value}}}}


def matcher_filter(matcher: LabelMatcher) -> Doc:
    """An absent label counts as the empty string, as in Alertmanager (and query.LabelMatcher)."""
    name, value = matcher.name, matcher.value
    if matcher.op == "=":
        return _lacks(name, {"$ne": ""}) if value == "" else _has(name, value)
    if matcher.op == "!=":
        return _has(name, {"$ne": ""}) if value == "" else _lacks(name, value)
    pattern = matcher.regex
    positive = _has(name, {"$regex": pattern.pattern})
    if pattern.match(""):
        positive = {"$or": [positive, {"labels": {"$not": {"$elemMatch": {"name": name}}}}]}
    return positive if matcher.op == "=~" else {"$nor": [positive]}


def query_filter(query: AlertQuery, with_cursor: bool = True) -> Doc:
    """The find() filter of a query."""
    clauses: list[Doc] = [{column: value} for column, value in query.scalar_filters().items()]
    if query.release_suspect is not None:
        clauses.append({"enrichment.release.suspect": True if query.release_suspect else {"$ne": True}})
    window: Doc = {}
    if query.since is not None:
        window["$gte"] = ts(query.since)
    if query.until is not None:
        window["$lt"] = ts(query.until)
    if window:
        clauses.append({"starts_at": window})
    clauses += [matcher_filter(m) for m in query.matchers]
    if with_cursor and query.after is not None:
        op = "$lt" if query.descending else "$gt"
        value = ts(datetime.fromisoformat(query.after.value))
        clauses.append({"$or": [{query.sort: {op: value}}, {query.sort: value, "_id": {op: query.after.id}}]})
    return {"$and": clauses} if clauses else {}
