"""IAlertsRepository on PostgreSQL (psycopg 3 with a connection pool): the shared store for replicas."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from alerts_processor.adapters.codec import RowEncoder, make_record
from alerts_processor.adapters.postgres_schema import migrate
from alerts_processor.adapters.sql import (
    COLUMNS,
    POSTGRES,
    assemble_stats,
    select_page,
    stats_queries,
    upsert_sql,
    values_sql,
)
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import AlertRecord, InboxEntry, ProcessedAlert, StoreUnavailable
from alerts_processor.query import AlertQuery, Notification, Page, Stats, page_of

log = logging.getLogger(__name__)

_UPSERT = upsert_sql(values_sql("%({})s"), "LEAST", "GREATEST")


# A group's deliveries in one statement; those that come back are new, and only their episodes change.
_DELIVERIES = (
    "INSERT INTO deliveries (delivery_id, alert_id, status, received_at)"
    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[])"
    " ON CONFLICT DO NOTHING RETURNING delivery_id"
)
_DELIVERY_KEYS = ("delivery_id", "id", "status", "last_received_at")


class PostgresAlertsRepository(IAlertsRepository):
    """Pooled connections; the schema is created or migrated on first use, under an advisory lock."""

    def __init__(self, url: str, max_connections: int = 16, acquire_timeout: float = 3.0) -> None:
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            open=False,
            timeout=acquire_timeout,
            check=ConnectionPool.check_connection,  # a server restart leaves dead connections behind
            kwargs={"connect_timeout": max(1, int(acquire_timeout))},
            name="alerts-store",
        )
        self._opened = False
        self._migrated = False
        self._encode = RowEncoder()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        try:
            if not self._opened:
                self._pool.open(wait=False)
                self._opened = True
            with self._pool.connection() as conn:
                if not self._migrated:
                    migrate(conn)
                    self._migrated = True
                with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                    yield cur
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise StoreUnavailable(
                f"postgresql: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            ) from exc

    def save(self, processed: ProcessedAlert) -> bool:
        return self.save_many([processed])[0]

    def save_many(self, items: Sequence[ProcessedAlert]) -> list[bool]:
        return self.save_encoded([(item, self._encode(item)) for item in items])

    def encode(self, processed: ProcessedAlert) -> object:
        # JSON as text (PostgreSQL reads it into jsonb), made in the caller's thread, not by the
        # driver in the writer thread that every alert waits for.
        return self._encode(processed)

    def save_encoded(self, items: Sequence[tuple[ProcessedAlert, object]]) -> list[bool]:
        """Two round trips for the whole group: its deliveries, then the upserts of the new ones.

        Locks are taken in one order, deliveries by id and then episodes by id: two replicas
        committing overlapping groups cannot deadlock.
        """
        rows = [cast(dict[str, Any], row) for _, row in items]
        first: dict[str, int] = {}  # a delivery given twice in one group counts once
        for i, row in enumerate(rows):
            first.setdefault(row["delivery_id"], i)
        deliveries = [rows[i] for _, i in sorted(first.items())]
        with self._transaction() as cur:
            cur.execute(_DELIVERIES, [[row[k] for row in deliveries] for k in _DELIVERY_KEYS])
            new = {r["delivery_id"] for r in cur.fetchall()}
            chosen = sorted(
                (i for d, i in first.items() if d in new), key=lambda i: (rows[i]["id"], rows[i]["delivery_id"])
            )
            if chosen:
                cur.executemany(_UPSERT, [rows[i] for i in chosen])  # pipelined: one round trip
        applied = [False] * len(rows)
        for i in chosen:
            applied[i] = True
        return applied

    def prune(self, before: datetime, limit: int) -> int:
        with self._transaction() as cur:
            cur.execute(
                "SELECT id FROM alerts WHERE last_received_at < %s ORDER BY last_received_at LIMIT %s", (before, limit)
            )
            ids = [r["id"] for r in cur.fetchall()]
            cur.execute("DELETE FROM deliveries WHERE alert_id = ANY(%s)", (ids,))
            cur.execute("DELETE FROM alerts WHERE id = ANY(%s)", (ids,))
            cur.execute("DELETE FROM dead_letters WHERE received_at < %s", (before,))
            cur.execute("DELETE FROM inbox WHERE state = 'dead' AND received_at < %s", (before,))
        return len(ids)

    def get(self, alert_id: str) -> AlertRecord | None:
        with self._transaction() as cur:
            cur.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = %s", (alert_id,))
            row = cur.fetchone()
        return _record(row) if row else None

    def query(self, query: AlertQuery) -> Page:
        sql, params = select_page(query, POSTGRES)
        with self._transaction() as cur:
            cur.execute(sql, params)
            return page_of([_record(r) for r in cur.fetchall()], query)

    def history(self, alert_id: str) -> Sequence[Notification]:
        with self._transaction() as cur:
            cur.execute(
                "SELECT received_at, status FROM deliveries WHERE alert_id = %s ORDER BY received_at, delivery_id",
                (alert_id,),
            )
            return [Notification(r["received_at"], r["status"]) for r in cur.fetchall()]

    def stats(self, since: datetime | None, until: datetime | None, top: int) -> Stats:
        results: dict[str, list[tuple[str, int]]] = {}
        with self._transaction() as cur:
            for name, (sql, params) in stats_queries(since, until, top, POSTGRES).items():
                cur.execute(sql, params)
                results[name] = [(r["k"], int(r["n"])) for r in cur.fetchall()]
        return assemble_stats(results)

    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO inbox (id, body, received_at, leased_until) VALUES (%s, %s, %s, %s)",
                (entry_id, body, received_at, leased_until),
            )

    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "UPDATE inbox SET leased_until = %s WHERE id = ANY(%s) AND state = 'pending'",
                (leased_until, list(entry_ids)),
            )

    def finish_inbox(self, entry_id: str) -> None:
        self.finish_inbox_many([entry_id])

    def finish_inbox_many(self, entry_ids: Sequence[str]) -> None:
        with self._transaction() as cur:
            cur.execute("DELETE FROM inbox WHERE id = ANY(%s)", (list(entry_ids),))

    def bury_inbox(self, entry_id: str, reason: str) -> None:
        with self._transaction() as cur:
            cur.execute("UPDATE inbox SET state = 'dead', reason = %s WHERE id = %s", (reason, entry_id))

    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        # SKIP LOCKED: concurrent sweepers in other workers and replicas take different entries.
        with self._transaction() as cur:
            cur.execute(
                "UPDATE inbox SET leased_until = %s, attempts = attempts + 1 WHERE id IN ("
                " SELECT id FROM inbox WHERE state = 'pending' AND leased_until < %s"
                " ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED)"
                " RETURNING id, body, received_at, attempts",
                (leased_until, now, limit),
            )
            rows = cur.fetchall()
        return [InboxEntry(r["id"], bytes(r["body"]), r["received_at"], r["attempts"]) for r in rows]

    def dead_letter(self, delivery_id: str, raw: str, reason: str, received_at: datetime) -> None:
        with self._transaction() as cur:
            cur.execute(
                "INSERT INTO dead_letters (delivery_id, raw, reason, received_at) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                (delivery_id, raw, reason, received_at),
            )

    def pending_inbox(self) -> int:
        with self._transaction() as cur:
            cur.execute("SELECT count(*) AS n FROM inbox WHERE state = 'pending'")
            row = cur.fetchone()
        return int(row["n"]) if row else 0

    def ping(self) -> None:
        with self._transaction() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        if self._opened:
            self._pool.close()


def _record(row: dict[str, Any]) -> AlertRecord:
    return make_record(row, row["labels"], row["annotations"], row["enrichment"])
