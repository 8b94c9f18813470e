"""SQLite specifics kept apart from the repository: the schema, the URL form, and the REGEXP function."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, alertname TEXT NOT NULL, severity TEXT NOT NULL,
    status TEXT NOT NULL, namespace TEXT, deployment TEXT, workload_kind TEXT, workload_name TEXT,
    starts_at TEXT NOT NULL, ends_at TEXT, labels TEXT NOT NULL, annotations TEXT NOT NULL,
    generator_url TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL,
    validation_status TEXT NOT NULL, validation_reason TEXT, enrichment TEXT,
    notifications INTEGER NOT NULL, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL,
    enrichment_id TEXT
);
-- Enrichment documents, each kept once: the alerts on one workload in one state share theirs, and
-- it was 45% of a record's bytes (the benchmark's store: 924 of 2,050 bytes a row, 100 distinct
-- documents in 2,000 rows). A record names its document by `enrichment_id` (a digest of the JSON);
-- `refs` counts the records naming it (the triggers of ENRICHMENT_TRIGGERS), and retention drops a
-- document nobody names. Records written before keep their own copy in `alerts.enrichment`.
CREATE TABLE IF NOT EXISTS enrichments (
    id TEXT PRIMARY KEY, refs INTEGER NOT NULL DEFAULT 0, document TEXT NOT NULL
) WITHOUT ROWID;
-- Narrow indexes: a group's column, then the time. Every index entry carries the row's rowid anyway,
-- and leaving out the id (the API's tie-break) made them about half as wide: each group commit then
-- writes a third fewer pages, measured. Only episodes that started in the same microsecond are
-- sorted by id, after the index has found them. Stores made before get them at their next start.
CREATE INDEX IF NOT EXISTS alerts_by_start ON alerts (starts_at);
CREATE INDEX IF NOT EXISTS alerts_by_last_received ON alerts (last_received_at);
CREATE INDEX IF NOT EXISTS alerts_by_namespace ON alerts (namespace, starts_at);
CREATE INDEX IF NOT EXISTS alerts_by_workload ON alerts (namespace, workload_name, starts_at);
CREATE INDEX IF NOT EXISTS alerts_by_alertname ON alerts (alertname, starts_at);
DROP INDEX IF EXISTS alerts_starts_at;
DROP INDEX IF EXISTS alerts_last_received;
DROP INDEX IF EXISTS alerts_namespace;
DROP INDEX IF EXISTS alerts_workload;
DROP INDEX IF EXISTS alerts_alertname;
-- No index on fingerprint: a random key dirtied a page of it per new episode in every group commit,
-- and every id starts with its fingerprint (see fingerprint_range). Stores made before lose it.
DROP INDEX IF EXISTS alerts_fingerprint;
CREATE TABLE IF NOT EXISTS deliveries (
    delivery_id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, status TEXT NOT NULL, received_at TEXT NOT NULL
) WITHOUT ROWID;
-- An episode's deliveries by its start time, then its fingerprint: the two parts of its id (the
-- fingerprint, `-`, the start time: record_id()) in the order that makes new entries land at the end.
-- Keyed by the id, which starts with a random fingerprint, each new episode dirtied a page of this
-- index in every group commit: 5 KiB more written per alert, a quarter of the writer's CPU. Queries
-- say EPISODE_DELIVERIES.
CREATE INDEX IF NOT EXISTS deliveries_by_episode ON deliveries (substr(alert_id, 18), substr(alert_id, 1, 16));
DROP INDEX IF EXISTS deliveries_by_alert;
DROP INDEX IF EXISTS deliveries_alert;
CREATE TABLE IF NOT EXISTS dead_letters (
    delivery_id TEXT PRIMARY KEY, raw TEXT NOT NULL, reason TEXT NOT NULL, received_at TEXT NOT NULL
);
"""

# A record's enrichment: its shared document, else the copy of a record written before documents were shared.
SQLITE_ENRICHMENT = (
    "COALESCE((SELECT document FROM enrichments WHERE enrichments.id = alerts.enrichment_id), alerts.enrichment)"
)

# Whether a record's enrichment flagged a release as suspect. The suspect documents are found once per
# query, not looked up and parsed for every record the filter reads. A million records, none of them
# suspect (the filter reads them all): 330 ms, against 360 ms reading each record's document and 630
# ms when every record held its own copy; 42 ms within one namespace (46 ms with copies).
SQLITE_SUSPECT = (
    "CASE WHEN alerts.enrichment_id IS NOT NULL THEN alerts.enrichment_id IN "
    "(SELECT id FROM enrichments WHERE json_extract(document, '$.release.suspect')) "
    "ELSE json_extract(alerts.enrichment, '$.release.suspect') END"
)

# Created once `alerts.enrichment_id` exists (add_enrichment_ids). An upsert's DO UPDATE fires the
# UPDATE trigger; the WHEN clauses keep a redelivery naming the same document from writing at all.
ENRICHMENT_TRIGGERS = (
    """CREATE TRIGGER IF NOT EXISTS enrichment_named AFTER INSERT ON alerts WHEN NEW.enrichment_id IS NOT NULL
    BEGIN UPDATE enrichments SET refs = refs + 1 WHERE id = NEW.enrichment_id; END""",
    """CREATE TRIGGER IF NOT EXISTS enrichment_renamed AFTER UPDATE OF enrichment_id ON alerts
    WHEN NEW.enrichment_id IS NOT OLD.enrichment_id
    BEGIN
        UPDATE enrichments SET refs = refs - 1 WHERE id = OLD.enrichment_id;
        UPDATE enrichments SET refs = refs + 1 WHERE id = NEW.enrichment_id;
    END""",
    """CREATE TRIGGER IF NOT EXISTS enrichment_unnamed AFTER DELETE ON alerts WHEN OLD.enrichment_id IS NOT NULL
    BEGIN UPDATE enrichments SET refs = refs - 1 WHERE id = OLD.enrichment_id; END""",
)


def add_enrichment_ids(conn: sqlite3.Connection) -> None:
    """Give a store made before shared documents its `alerts.enrichment_id` column, then the triggers.

    In a write transaction: two workers starting together must not both add the column.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(alerts)")}
        if "enrichment_id" not in columns:
            conn.execute("ALTER TABLE alerts ADD COLUMN enrichment_id TEXT")
        for trigger in ENRICHMENT_TRIGGERS:
            conn.execute(trigger)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# The inbox lives in a file of its own (`<store>-inbox`): SQLite has one writer per file, and an
# acknowledgement must not wait behind a group commit of the alerts.
INBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY, body BLOB NOT NULL, received_at TEXT NOT NULL, leased_until TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1, state TEXT NOT NULL DEFAULT 'pending', reason TEXT
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox (state, leased_until);
"""


# An episode's deliveries (parameter: its id) through deliveries_by_episode; right for any id, since the
# id itself is compared too. The unary plus keeps SQLite from substituting the id into the other two
# terms (constant propagation), which then match no index.
EPISODE_DELIVERIES = (
    "substr(alert_id, 18) = substr(?1, 18) AND substr(alert_id, 1, 16) = substr(?1, 1, 16) AND +alert_id = ?1"
)


def inbox_path(path: str) -> str:
    """The inbox file beside the store's file."""
    return path + "-inbox"


def move_old_inbox(store_path: str) -> Callable[[sqlite3.Connection], None]:
    """Bring the entries of an inbox kept inside the store's file (as 0.1 did) into its own file.

    Copy, then drop: a crash in between copies again next time, and the copy ignores what it has.
    """

    def move(conn: sqlite3.Connection) -> None:
        if not Path(store_path).exists():
            return
        conn.execute("ATTACH DATABASE ? AS store", (store_path,))
        try:
            if conn.execute("SELECT 1 FROM store.sqlite_master WHERE type = 'table' AND name = 'inbox'").fetchone():
                conn.execute("INSERT OR IGNORE INTO main.inbox SELECT * FROM store.inbox")
                conn.execute("DROP TABLE store.inbox")
        finally:
            conn.execute("DETACH DATABASE store")

    return move


def sqlite_path(url: str) -> str:
    """`sqlite:///var/a.db` → `var/a.db` (relative to the working directory); `sqlite:////abs` → `/abs`."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a sqlite URL: {url!r}")
    path = url[len("sqlite:///") :]
    if not path:
        raise ValueError("the sqlite URL names no file")
    return path


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def regexp(pattern: str, value: str | None) -> bool:
    """SQLite has no REGEXP of its own; Python's re gives the same semantics as the in-memory store."""
    return value is not None and _compiled(pattern).match(value) is not None
