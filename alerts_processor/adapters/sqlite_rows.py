"""Group commits on SQLite: many rows per statement, so a transaction makes few calls into SQLite.

Every call into SQLite lets go of the GIL, and under load taking it back waits behind the pool
threads, all while this process holds the file's write lock (and the other workers wait for it).
Rows go in statements of 256, 64, 16, 4 and 1 rows (fewer where SQLite allows fewer parameters),
so only a few texts per table are ever prepared.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TypeVar

import orjson

from alerts_processor.adapters.codec import dumps
from alerts_processor.adapters.sql import COLUMN_NAMES, upsert_sql

T = TypeVar("T")
_SIZES = (256, 64, 16, 4, 1)
# A row names its enrichment document (see sqlite_schema); the document goes to `enrichments` once.
_VALUE_COLUMNS = tuple("enrichment_id" if c == "enrichment" else c for c in COLUMN_NAMES if c != "notifications")
_ONE_ROW = "(" + ", ".join("1" if c == "notifications" else "?" for c in COLUMN_NAMES) + ")"
# One result row (a JSON array) however many deliveries were seen before: fetching is a call per row.
_SEEN = "SELECT json_group_array(delivery_id) FROM deliveries WHERE delivery_id IN (SELECT value FROM json_each(?))"


@cache
def _upsert(n: int) -> str:
    return upsert_sql("VALUES " + ", ".join([_ONE_ROW] * n), "min", "max", enrichment="enrichment_id")


@cache
def _documents(n: int) -> str:
    return "INSERT OR IGNORE INTO enrichments (id, document) VALUES " + ", ".join(["(?, ?)"] * n)


@cache
def _deliveries(n: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?)"] * n)
    return f"INSERT INTO deliveries (delivery_id, alert_id, status, received_at) VALUES {rows} ON CONFLICT DO NOTHING"


def _chunks(rows: Sequence[T], max_params: int, width: int) -> Iterator[tuple[int, Sequence[T]]]:
    start = 0
    for size in (s for s in _SIZES if s * width <= max_params):
        while len(rows) - start >= size:
            yield size, rows[start : start + size]
            start += size


def seen_deliveries(conn: sqlite3.Connection, delivery_ids: Sequence[str]) -> set[str]:
    """Which of these deliveries are stored already (inside the write transaction)."""
    (seen,) = conn.execute(_SEEN, (dumps(list(delivery_ids)),)).fetchone()
    return set(orjson.loads(seen))


def write_rows(conn: sqlite3.Connection, rows: Sequence[dict[str, object]]) -> None:
    """Apply new deliveries: their documents, then a row in `deliveries` each and the upsert of their episode."""
    max_params = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    documents = {row["enrichment_id"]: row["enrichment"] for row in rows if row["enrichment_id"] is not None}
    for size, pairs in _chunks(list(documents.items()), max_params, 2):
        conn.execute(_documents(size), [v for pair in pairs for v in pair])
    for size, chunk in _chunks(rows, max_params, len(_VALUE_COLUMNS)):
        conn.execute(
            _deliveries(size),
            [v for row in chunk for v in (row["delivery_id"], row["id"], row["status"], row["last_received_at"])],
        )
        conn.execute(_upsert(size), [row[c] for row in chunk for c in _VALUE_COLUMNS])
