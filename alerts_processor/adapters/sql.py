"""SQL shared by the relational stores (SQLite, PostgreSQL): the record columns and the episode upsert."""

from __future__ import annotations

from datetime import datetime

from alerts_processor.adapters.sqlite_schema import SQLITE_ENRICHMENT, SQLITE_SUSPECT
from alerts_processor.models import ts
from alerts_processor.query import AlertQuery, Stats

COLUMN_NAMES = (
    "id", "fingerprint", "alertname", "severity", "status", "namespace", "deployment", "workload_kind",
    "workload_name", "starts_at", "ends_at", "labels", "annotations", "generator_url", "receiver", "group_key",
    "validation_status", "validation_reason", "enrichment", "notifications", "first_received_at",
    "last_received_at",
)  # fmt: skip
COLUMNS = ", ".join(COLUMN_NAMES)


def values_sql(placeholder: str) -> str:
    """VALUES of one record's columns; `placeholder` formats a parameter name (`:{}` or `%({})s`)."""
    return "VALUES (" + ", ".join("1" if c == "notifications" else placeholder.format(c) for c in COLUMN_NAMES) + ")"


def upsert_sql(rows: str, least: str, greatest: str, enrichment: str = "enrichment") -> str:
    """The episode upsert of `rows` (values_sql(), or a SELECT of COLUMN_NAMES in order).

    One row per episode. A redelivery counts a notification and refreshes what may change; status
    only moves forward (a late `firing` never reopens a resolved episode); a failed enrichment keeps
    the last good one. The unique key and this single statement settle races between writers.
    `enrichment` names the column that takes the enrichment (SQLite: the id of a shared document).
    """
    columns = ", ".join(enrichment if c == "enrichment" else c for c in COLUMN_NAMES)
    return f"""
INSERT INTO alerts ({columns}) {rows}
ON CONFLICT (id) DO UPDATE SET
    status = CASE WHEN alerts.status = 'resolved' THEN alerts.status ELSE excluded.status END,
    ends_at = CASE WHEN alerts.status = 'resolved' THEN alerts.ends_at ELSE excluded.ends_at END,
    annotations = excluded.annotations, receiver = excluded.receiver, group_key = excluded.group_key,
    deployment = excluded.deployment, workload_kind = excluded.workload_kind,
    workload_name = excluded.workload_name, validation_status = excluded.validation_status,
    validation_reason = excluded.validation_reason,
    {enrichment} = COALESCE(excluded.{enrichment}, alerts.{enrichment}),
    notifications = alerts.notifications + 1,
    first_received_at = {least}(alerts.first_received_at, excluded.first_received_at),
    last_received_at = {greatest}(alerts.last_received_at, excluded.last_received_at)
"""


def fingerprint_range(fingerprint: str) -> list[str]:
    """Bounds of the ids of a fingerprint's episodes: an id is the fingerprint, `-`, then the start time."""
    return [fingerprint + "-", fingerprint + "."]  # "." (0x2e) is the byte after "-" (0x2d)


class Dialect:
    """How SQLite and PostgreSQL spell the few things the query builder needs."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.p = "?" if name == "sqlite" else "%s"
        # The SELECT list of a record, COLUMN_NAMES in order (SQLite reads a shared document).
        shared = f"{SQLITE_ENRICHMENT} AS enrichment"
        self.columns = COLUMNS
        if name == "sqlite":
            self.columns = ", ".join(shared if c == "enrichment" else c for c in COLUMN_NAMES)

    def label(self, name: str) -> tuple[str, str]:
        """SQL for a label's value ('' when absent) and its parameter; names are checked by the parser."""
        if self.name == "sqlite":
            return f"COALESCE(json_extract(labels, {self.p}), '')", f'$."{name}"'
        return f"COALESCE(labels->>{self.p}, '')", name

    def regex(self, expression: str) -> str:
        """`expression` matches the (already anchored) pattern parameter."""
        return f"regexp({self.p}, {expression})" if self.name == "sqlite" else f"{expression} ~ {self.p}"

    def time(self, value: datetime) -> object:
        """A timestamp parameter: text in SQLite (see codec.ts), a timestamptz in PostgreSQL."""
        return ts(value) if self.name == "sqlite" else value

    @property
    def suspect(self) -> str:
        """Whether the enrichment flagged a release as suspect, as 1/0 (NULL when it did not say)."""
        if self.name == "sqlite":
            return SQLITE_SUSPECT
        return "(enrichment->'release'->>'suspect')::boolean::int"


SQLITE = Dialect("sqlite")
POSTGRES = Dialect("postgres")


def where(query: AlertQuery, dialect: Dialect, with_cursor: bool = True) -> tuple[str, list[object]]:
    """The WHERE clause (with its parameters) of a query; every value is a bound parameter."""
    p = dialect.p
    clauses: list[str] = []
    params: list[object] = []
    for column, value in query.scalar_filters().items():
        clauses.append(f"{column} = {p}")
        params.append(value)
    if query.fingerprint is not None and dialect is SQLITE:
        clauses.append(f"id >= {p} AND id < {p}")  # the primary key's index finds the episodes
        params += fingerprint_range(query.fingerprint)
    if query.release_suspect is not None:
        clauses.append(f"COALESCE({dialect.suspect}, 0) = {p}")
        params.append(int(query.release_suspect))
    if query.since is not None:
        clauses.append(f"starts_at >= {p}")
        params.append(dialect.time(query.since))
    if query.until is not None:
        clauses.append(f"starts_at < {p}")
        params.append(dialect.time(query.until))
    for matcher in query.matchers:
        expression, label_param = dialect.label(matcher.name)
        if matcher.op in ("=", "!="):
            clauses.append(f"{expression} {'=' if matcher.op == '=' else '<>'} {p}")
            params += [label_param, matcher.value]
        else:
            test = dialect.regex(expression)
            clauses.append(test if matcher.op == "=~" else f"NOT ({test})")
            params += (
                [matcher.regex.pattern, label_param] if dialect is SQLITE else [label_param, matcher.regex.pattern]
            )
    if with_cursor and query.after is not None:
        clauses.append(f"({query.sort}, id) {'<' if query.descending else '>'} ({p}, {p})")
        params += [dialect.time(datetime.fromisoformat(query.after.value)), query.after.id]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def select_page(query: AlertQuery, dialect: Dialect) -> tuple[str, list[object]]:
    """SELECT of one page, one row more than the limit (to know whether a next page exists)."""
    clause, params = where(query, dialect)
    direction = "DESC" if query.descending else "ASC"
    order = f"ORDER BY {query.sort} {direction}, id {direction}"
    sql = f"SELECT {dialect.columns} FROM alerts{clause} {order} LIMIT {dialect.p}"
    return sql, [*params, query.limit + 1]


_STATS_GROUPS = {
    "severity": "severity",
    "status": "status",
    "namespace": "COALESCE(namespace, '')",
    "workload": "COALESCE(namespace, '') || '/' || workload_kind || '/' || workload_name",
}


def stats_queries(
    since: datetime | None, until: datetime | None, top: int, dialect: Dialect
) -> dict[str, tuple[str, list[object]]]:
    """One GROUP BY per dimension over the episodes that started in [since, until)."""
    clause, params = where(AlertQuery(since=since, until=until), dialect, with_cursor=False)
    queries = {
        name: (f"SELECT {expr} AS k, count(*) AS n FROM alerts{clause} GROUP BY {expr}", params)
        for name, expr in _STATS_GROUPS.items()
    }
    workload_clause = clause + (" AND " if clause else " WHERE ") + "workload_kind IS NOT NULL"
    queries["workload"] = (
        f"SELECT {_STATS_GROUPS['workload']} AS k, count(*) AS n FROM alerts{workload_clause} "
        f"GROUP BY {_STATS_GROUPS['workload']}",
        params,
    )
    queries["alertname"] = (
        f"SELECT alertname AS k, count(*) AS n FROM alerts{clause} GROUP BY alertname "
        f"ORDER BY n DESC, alertname LIMIT {dialect.p}",
        [*params, top],
    )
    return queries


def assemble_stats(results: dict[str, list[tuple[str, int]]]) -> Stats:
    """Stats from the rows of stats_queries()."""
    return Stats(
        total=sum(n for _, n in results["status"]),
        by_severity=dict(results["severity"]),
        by_status=dict(results["status"]),
        by_namespace=dict(results["namespace"]),
        by_workload=dict(results["workload"]),
        top_alertnames=[(k, n) for k, n in results["alertname"]],
    )
