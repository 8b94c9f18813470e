"""IAlertsRepository on SQLite: the embedded default store (WAL, one connection per thread)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from alerts_processor.adapters.codec import dumps, flat_fields, make_record
from alerts_processor.adapters.sql import COLUMNS, SQLITE, assemble_stats, select_page, stats_queries, upsert_sql
from alerts_processor.adapters.sqlite_schema import SCHEMA, regexp
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import AlertRecord, InboxEntry, ProcessedAlert, StoreUnavailable, ts
from alerts_processor.query import AlertQuery, Notification, Page, Stats, page_of

_UPSERT = upsert_sql(":{}", "min", "max")
_DELIVERY = (
    "INSERT INTO deliveries (delivery_id, alert_id, status, received_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _row(processed: ProcessedAlert) -> dict[str, object]:
    row: dict[str, object] = flat_fields(processed)
    row["labels"] = dumps(processed.alert.labels)
    row["annotations"] = dumps(processed.alert.annotations)
    row["enrichment"] = None if processed.enrichment is None else dumps(processed.enrichment)
    row["delivery_id"] = processed.delivery.delivery_id
    return row


class SqliteAlertsRepository(IAlertsRepository):
    """Thread-safe through one connection per thread; processes share the file through WAL locking."""

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        self._path = path
        self._busy_timeout = busy_timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._schema_ready = False

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if not self._schema_ready:
                Path(self._path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self._path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.create_function("regexp", 2, regexp, deterministic=True)
            # NORMAL in WAL mode: a commit survives a killed process (our promise); only an OS crash
            # may lose the last transactions, in exchange for far fewer fsyncs.
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                if not self._schema_ready:
                    # WAL is a property of the file: set once per process, by one connection, before
                    # any other connection of ours can hold a lock that would make the switch fail.
                    self._enable_wal(conn)
                    conn.executescript(SCHEMA)
                    self._schema_ready = True
                self._connections.append(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        self._local.conn = conn
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Changing the journal mode answers SQLITE_BUSY at once (no busy handler) while another
        # process holds a lock, as when gunicorn workers start together: retry within the timeout.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        # Threads of this process queue on a mutex instead of polling SQLite's busy handler, whose
        # growing sleeps starve writers under contention; only other processes meet the busy timeout.
        if not self._write_lock.acquire(timeout=self._busy_timeout):
            raise StoreUnavailable("sqlite: timed out waiting for this process's writers")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        finally:
            self._write_lock.release()

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        try:
            return self._connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def save(self, processed: ProcessedAlert) -> bool:
        return self.save_many([processed])[0]

    def save_many(self, items: Sequence[ProcessedAlert]) -> list[bool]:
        rows = [_row(item) for item in items]  # encoded before the write lock is taken
        applied: list[bool] = []
        with self._transaction() as conn:
            for row in rows:
                fresh = conn.execute(_DELIVERY, (row["delivery_id"], row["id"], row["status"],
                                                 row["last_received_at"])).rowcount  # fmt: skip
                if fresh:
                    conn.execute(_UPSERT, row)
                applied.append(bool(fresh))
        return applied

    def query(self, query: AlertQuery) -> Page:
        sql, params = select_page(query, SQLITE)
        return page_of([_record(r) for r in self._query(sql, params)], query)

    def history(self, alert_id: str) -> Sequence[Notification]:
        rows = self._query(
            "SELECT received_at, status FROM deliveries WHERE alert_id = ? ORDER BY received_at, delivery_id",
            (alert_id,),
        )
        return [Notification(datetime.fromisoformat(r["received_at"]), r["status"]) for r in rows]

    def stats(self, since: datetime | None, until: datetime | None, top: int) -> Stats:
        results = {
            name: [(r["k"], int(r["n"])) for r in self._query(sql, params)]
            for name, (sql, params) in stats_queries(since, until, top, SQLITE).items()
        }
        return assemble_stats(results)

    def prune(self, before: datetime, limit: int) -> int:
        cutoff = ts(before)
        with self._transaction() as conn:
            oldest = "SELECT id FROM alerts WHERE last_received_at < ? ORDER BY last_received_at LIMIT ?"
            ids = [(r[0],) for r in conn.execute(oldest, (cutoff, limit))]
            conn.executemany("DELETE FROM deliveries WHERE alert_id = ?", ids)
            conn.executemany("DELETE FROM alerts WHERE id = ?", ids)
            conn.execute("DELETE FROM dead_letters WHERE received_at < ?", (cutoff,))
            conn.execute("DELETE FROM inbox WHERE state = 'dead' AND received_at < ?", (cutoff,))
        return len(ids)

    def get(self, alert_id: str) -> AlertRecord | None:
        rows = self._query(f"SELECT {COLUMNS} FROM alerts WHERE id = ?", (alert_id,))
        return _record(rows[0]) if rows else None

    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO inbox (id, body, received_at, leased_until) VALUES (?, ?, ?, ?)",
                (entry_id, body, ts(received_at), ts(leased_until)),
            )

    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "UPDATE inbox SET leased_until = ? WHERE id = ? AND state = 'pending'",
                [(ts(leased_until), entry_id) for entry_id in entry_ids],
            )

    def finish_inbox(self, entry_id: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM inbox WHERE id = ?", (entry_id,))

    def bury_inbox(self, entry_id: str, reason: str) -> None:
        with self._transaction() as conn:
            conn.execute("UPDATE inbox SET state = 'dead', reason = ? WHERE id = ?", (reason, entry_id))

    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        with self._transaction() as conn:
            rows = conn.execute(
                "UPDATE inbox SET leased_until = ?, attempts = attempts + 1 WHERE id IN ("
                " SELECT id FROM inbox WHERE state = 'pending' AND leased_until < ? ORDER BY received_at LIMIT ?)"
                " RETURNING id, body, received_at, attempts",
                (ts(leased_until), ts(now), limit),
            ).fetchall()
        return [
            InboxEntry(r["id"], bytes(r["body"]), datetime.fromisoformat(r["received_at"]), r["attempts"]) for r in rows
        ]

    def dead_letter(self, delivery_id: str, raw: str, reason: str, received_at: datetime) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO dead_letters (delivery_id, raw, reason, received_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (delivery_id, raw, reason, ts(received_at)),
            )

    def pending_inbox(self) -> int:
        return int(self._query("SELECT count(*) FROM inbox WHERE state = 'pending'")[0][0])

    def ping(self) -> None:
        # Take the write lock: in WAL mode a read succeeds even while nothing can be written.
        with self._transaction() as conn:
            conn.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()


def _record(row: sqlite3.Row) -> AlertRecord:
    enrichment = row["enrichment"]
    return make_record(
        dict(row),
        json.loads(row["labels"]),
        json.loads(row["annotations"]),
        json.loads(enrichment) if enrichment is not None else None,
    )
