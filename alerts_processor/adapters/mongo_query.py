"""AlertQuery as MongoDB filters: every value is data inside an operator we chose, never a key or an operator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from alerts_processor.models import ts
from alerts_processor.query import AlertQuery, LabelMatcher

Doc = dict[str, Any]


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
