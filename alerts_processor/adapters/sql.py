"""SQL shared by the relational stores (SQLite, PostgreSQL): the record columns and the episode upsert."""

from __future__ import annotations

COLUMN_NAMES = (
    "id", "fingerprint", "alertname", "severity", "status", "namespace", "deployment", "workload_kind",
    "workload_name", "starts_at", "ends_at", "labels", "annotations", "generator_url", "receiver", "group_key",
    "validation_status", "validation_reason", "enrichment", "notifications", "first_received_at",
    "last_received_at",
)  # fmt: skip
COLUMNS = ", ".join(COLUMN_NAMES)


def upsert_sql(placeholder: str, least: str, greatest: str) -> str:
    """The episode upsert; `placeholder` formats a parameter name (`:{}` or `%({})s`).

    One row per episode. A redelivery counts a notification and refreshes what may change; status
    only moves forward (a late `firing` never reopens a resolved episode); a failed enrichment keeps
    the last good one. The unique key and this single statement settle races between writers.
    """
    values = ", ".join("1" if c == "notifications" else placeholder.format(c) for c in COLUMN_NAMES)
    return f"""
INSERT INTO alerts ({COLUMNS}) VALUES ({values})
ON CONFLICT (id) DO UPDATE SET
    status = CASE WHEN alerts.status = 'resolved' THEN alerts.status ELSE excluded.status END,
    ends_at = CASE WHEN alerts.status = 'resolved' THEN alerts.ends_at ELSE excluded.ends_at END,
    annotations = excluded.annotations, receiver = excluded.receiver, group_key = excluded.group_key,
    deployment = excluded.deployment, workload_kind = excluded.workload_kind,
    workload_name = excluded.workload_name, validation_status = excluded.validation_status,
    validation_reason = excluded.validation_reason,
    enrichment = COALESCE(excluded.enrichment, alerts.enrichment),
    notifications = alerts.notifications + 1,
    first_received_at = {least}(alerts.first_received_at, excluded.first_received_at),
    last_received_at = {greatest}(alerts.last_received_at, excluded.last_received_at)
"""
