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

import orjson

from alerts_processor.adapters.codec import dumps
from alerts_processor.adapters.sql import COLUMN_NAMES, upsert_sql

_SIZES = (256, 64, 16, 4, 1)
_VALUE_COLUMNS = tuple(c for c in COLUMN_NAMES if c != "notifications")
_ONE_ROW = "(" + ", ".join("1" if c == "notifications" else "?" for c in COLUMN_NAMES) + ")"
# One result row (a JSON array) however many deliveries were seen before: fetching is a call per row.
_SEEN = "SELECT json_group_array(delivery_id) FROM deliveries WHERE delivery_id IN (SELECT value FROM json_each(?))"


@cache
def _upsert(n: int) -> str:
    return upsert_sql("VALUES " + ", ".join([_ONE_ROW] * n), "min", "max")


@cache
def _deliveries(n: int) -> str:
    rows = ", ".join(["(?, ?, ?, ?)"] * n)
    return f"INSERT INTO deliveries (delivery_id, alert_id, status, received_at) VALUES {rows} ON CONFLICT DO NOTHING"


def _chunks(rows: Sequence[dict[str, object]], max_params: int) -> Iterator[tuple[int, Sequence[dict[str, object]]]]:
    start = 0
    for size in (s for s in _SIZES if s * len(_VALUE_COLUMNS) <= max_params):
        while len(rows) - start >= size:
            yield size, rows[start : start + size]
            start += size


def seen_deliveries(conn: sqlite3.Connection, delivery_ids: Sequence[str]) -> set[str]:
    """Which of these deliveries are stored already (inside the write transaction)."""
    (seen,) = conn.execute(_SEEN, (dumps(list(delivery_ids)),)).fetchone()
    return set(orjson.loads(seen))


def write_rows(conn: sqlite3.Connection, rows: Sequence[dict[str, object]]) -> None:
    """Apply new deliveries: a row in `deliveries` each, and the upsert of their episode, in order."""
    for size, chunk in _chunks(rows, conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)):
        conn.execute(
            _deliveries(size),
            [v for row in chunk for v in (row["delivery_id"], row["id"], row["status"], row["last_received_at"])],
        )
        conn.execute(_upsert(size), [row[c] for row in chunk for c in _VALUE_COLUMNS])
