"""The read side's domain: alert queries, Alertmanager-style label matchers, cursors, pages and stats."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from alerts_processor.models import AlertRecord, AlertsProcessorError, ts

SORT_FIELDS = ("starts_at", "last_received_at")
MATCH_OPS = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
MATCHER_PATTERN = r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$'
_MATCHER = re.compile(MATCHER_PATTERN)
# \" \\ \n \t are escapes; any other backslash is kept, so `pod=~"web-\d+"` means what it says.
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


class QueryError(AlertsProcessorError):
    """A query parameter that can never be answered; `parameter` names it."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail


@dataclass(frozen=True)
class LabelMatcher:
    """`name op "value"` as Alertmanager writes it; an absent label matches as the empty string."""

    name: str
    op: str
    value: str

    @property
    def regex(self) -> re.Pattern[str]:
        """The anchored pattern of =~ / !~ (Alertmanager anchors its regular expressions)."""
        return re.compile(f"^(?:{self.value})$")

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether labels satisfy the matcher (the reference semantics every store follows)."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = self.regex.match(actual) is not None
        return found if self.op == "=~" else not found


def parse_matcher(text: str) -> LabelMatcher:
    """Parse `severity="critical"`, `pod=~"web-.*"`, `team!=""`; raise QueryError otherwise."""
    match = _MATCHER.match(text)
    if match is None:
        raise QueryError("filter", f'{text[:100]!r} is not a matcher like name="value", name!="v", name=~"re"')
    name, op, raw = match.groups()
    matcher = LabelMatcher(name, op, _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(0)), raw))
    if op in ("=~", "!~"):
        try:
            matcher.regex  # noqa: B018 (compiled to validate it)
        except re.error as exc:
            raise QueryError("filter", f"{text[:100]!r}: bad regular expression: {exc}") from None
    return matcher


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the sort value and id of the last record of this one."""

    value: str
    id: str

    def encode(self) -> str:
        """An opaque URL-safe token."""
        return base64.urlsafe_b64encode(json.dumps([self.value, self.id]).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """The inverse of encode(); QueryError on anything else."""
        try:
            value, record_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            datetime.fromisoformat(value)
            if not isinstance(record_id, str):
                raise TypeError(record_id)
        except (ValueError, TypeError, binascii.Error):
            raise QueryError("cursor", "the cursor is not one this API handed out") from None
        return cls(value, record_id)


@dataclass(frozen=True)
class AlertQuery:
    """Filters (all optional, ANDed), order and page of a record search."""

    status: str | None = None
    alertname: str | None = None
    severity: str | None = None
    namespace: str | None = None
    deployment: str | None = None
    workload_kind: str | None = None
    workload_name: str | None = None
    validation: str | None = None
    release_suspect: bool | None = None
    fingerprint: str | None = None
    receiver: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    matchers: tuple[LabelMatcher, ...] = ()
    sort: str = "starts_at"
    descending: bool = True
    limit: int = 50
    after: Cursor | None = None

    def __post_init__(self) -> None:
        # The sort field becomes a column name in SQL: only the known ones ever get that far.
        if self.sort not in SORT_FIELDS:
            raise QueryError("sort", f"sort must be one of {', '.join(SORT_FIELDS)}")
        if self.limit < 1:
            raise QueryError("limit", "limit must be at least 1")

    def scalar_filters(self) -> dict[str, str]:
        """Equality filters on record fields (validation on its status)."""
        names = ("status", "alertname", "severity", "namespace", "deployment", "workload_kind", "workload_name",
                 "fingerprint", "receiver")  # fmt: skip
        found = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.validation is not None:
            found["validation_status"] = self.validation
        return found

    def matches(self, record: AlertRecord) -> bool:
        """The reference semantics of every filter (the in-memory store uses it; SQL and Mongo mirror it)."""
        row = sort_row(record)
        if any(row.get(name) != value for name, value in self.scalar_filters().items()):
            return False
        if self.release_suspect is not None and release_suspect(record) != self.release_suspect:
            return False
        if self.since is not None and record.starts_at < self.since:
            return False
        if self.until is not None and record.starts_at >= self.until:
            return False
        if not all(m.matches(record.labels) for m in self.matchers):
            return False
        if self.after is not None:
            key = (sort_value(record, self.sort), record.id)
            return (
                key < (self.after.value, self.after.id) if self.descending else key > (self.after.value, self.after.id)
            )
        return True


def sort_value(record: AlertRecord, sort: str) -> str:
    """The cursor value of a record for an order."""
    return ts(record.starts_at if sort == "starts_at" else record.last_received_at)


def sort_row(record: AlertRecord) -> dict[str, str | None]:
    """The filterable scalar fields of a record by their query names."""
    return {
        "status": record.status, "alertname": record.alertname, "severity": record.severity,
        "namespace": record.namespace, "deployment": record.deployment,
        "workload_kind": record.workload.kind if record.workload else None,
        "workload_name": record.workload.name if record.workload else None,
        "fingerprint": record.fingerprint, "receiver": record.receiver,
        "validation_status": record.validation.status.value,
    }  # fmt: skip


def release_suspect(record: AlertRecord) -> bool:
    """Whether the enrichment flagged the alert as following a rollout."""
    release = (record.enrichment or {}).get("release") or {}
    return bool(release.get("suspect"))


@dataclass(frozen=True)
class Page:
    """One page of records and the cursor of the next one (None on the last page)."""

    records: Sequence[AlertRecord]
    next: Cursor | None


def page_of(records: Sequence[AlertRecord], query: AlertQuery) -> Page:
    """Stores fetch limit + 1 rows: the extra one only says whether there is a next page."""
    shown = list(records[: query.limit])
    more = len(records) > query.limit
    last = shown[-1] if shown else None
    return Page(shown, Cursor(sort_value(last, query.sort), last.id) if more and last else None)


@dataclass(frozen=True)
class Notification:
    """One delivery of an episode: when, and the status Alertmanager reported."""

    received_at: datetime
    status: str


@dataclass(frozen=True)
class Stats:
    """Counts of episodes that started in a window."""

    total: int
    by_severity: Mapping[str, int] = field(default_factory=dict)
    by_status: Mapping[str, int] = field(default_factory=dict)
    by_namespace: Mapping[str, int] = field(default_factory=dict)
    by_workload: Mapping[str, int] = field(default_factory=dict)
    top_alertnames: Sequence[tuple[str, int]] = ()
