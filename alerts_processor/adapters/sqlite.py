"""IAlertsRepository on SQLite: the embedded default store (two WAL files, one connection per thread)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from alerts_processor.adapters.codec import RowEncoder, make_record
from alerts_processor.adapters.sql import (
    SQLITE,
    assemble_stats,
    select_page,
    stats_queries,
)
from alerts_processor.adapters.sqlite_file import SqliteFile
from alerts_processor.adapters.sqlite_rows import seen_deliveries, write_rows
from alerts_processor.adapters.sqlite_schema import (
    EPISODE_DELIVERIES,
    INBOX_SCHEMA,
    SCHEMA,
    add_enrichment_ids,
    inbox_path,
    move_old_inbox,
    regexp,
)
from alerts_processor.interfaces import IAlertsRepository
from alerts_processor.models import AlertRecord, InboxEntry, ProcessedAlert, ts
from alerts_processor.query import AlertQuery, Notification, Page, Stats, page_of


class SqliteAlertsRepository(IAlertsRepository):
    """The records in one file, the inbox in another (`<path>-inbox`).

    SQLite admits one writer per file: so an acknowledgement's write never waits for a group commit.
    """

    # A group commit's dirty pages should fit the writer's page cache (8 MB: SQLite spills past 90%
    # of it, about 1,750 pages; a grown store's commit dirties 2.5-2.8 pages an alert). A spill
    # writes pages to the WAL mid-transaction and again at COMMIT, which then re-reads every frame
    # after the first one rewritten to redo its checksum: in groups of up to 2,000 (median 593) under
    # the benchmark's load, commits of more than about 600 spilled and half of the WAL frames were
    # read back. Groups of at most 600 (a spill now and then) took 3% less CPU per alert over 22
    # alternated pairs; 500 and 400 (none) wrote more pages an alert and were no faster.
    group_size = 600

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        # A group commit of a few thousand alerts dirties more pages than SQLite's default 2 MB
        # cache holds, and SQLite then writes pages out to the WAL mid-transaction, again and
        # again: that was a third of the writer's time. 8 MB holds a commit of group_size alerts
        # now that no random fingerprint index is written (16 MB measured the same, for 9 MB more
        # memory). Readers only fill what they read.
        self._db = SqliteFile(
            path, SCHEMA, busy_timeout, prepare=add_enrichment_ids, on_connect=_functions, cache_kib=8_192
        )
        # Every request thread has a connection to the inbox, and each kept a page cache of SQLite's
        # default 2 MB, which a sustained load filled with pages read once (an entry is written and
        # deleted at the b-tree's edges): 256 KiB each held the same throughput (8 bench.ab pairs,
        # 1.013, 0.93-1.09) for 3-4 MB less after two minutes of the cold-cache load.
        self._inbox = SqliteFile(
            inbox_path(path), INBOX_SCHEMA, busy_timeout, prepare=move_old_inbox(path), cache_kib=256
        )
        self._encode = RowEncoder(document_ids=True)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self._db.query(sql, params)

    def save(self, processed: ProcessedAlert) -> bool:
        return self.save_many([processed])[0]

    def save_many(self, items: Sequence[ProcessedAlert]) -> list[bool]:
        return self.save_encoded([(item, self._encode(item)) for item in items])

    def encode(self, processed: ProcessedAlert) -> object:
        return self._encode(processed)

    def save_encoded(self, items: Sequence[tuple[ProcessedAlert, object]]) -> list[bool]:
        first: dict[str, dict[str, object]] = {}  # a delivery given twice in one group counts once
        for item, row in items:
            first.setdefault(item.delivery.delivery_id, cast(dict[str, object], row))
        with self._db.transaction() as conn:
            stored = seen_deliveries(conn, list(first))
            write_rows(conn, [row for delivery_id, row in first.items() if delivery_id not in stored])
        applied: list[bool] = []
        for item, _ in items:
            applied.append(item.delivery.delivery_id not in stored)
            stored.add(item.delivery.delivery_id)
        return applied

    def query(self, query: AlertQuery) -> Page:
        sql, params = select_page(query, SQLITE)
        return page_of([_record(r) for r in self._query(sql, params)], query)

    def history(self, alert_id: str) -> Sequence[Notification]:
        rows = self._query(
            f"SELECT received_at, status FROM deliveries WHERE {EPISODE_DELIVERIES} ORDER BY received_at, delivery_id",
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
        with self._db.transaction() as conn:
            oldest = "SELECT id FROM alerts WHERE last_received_at < ? ORDER BY last_received_at LIMIT ?"
            ids = [(r[0],) for r in conn.execute(oldest, (cutoff, limit))]
            conn.executemany(f"DELETE FROM deliveries WHERE {EPISODE_DELIVERIES}", ids)
            conn.executemany("DELETE FROM alerts WHERE id = ?", ids)
            conn.execute("DELETE FROM dead_letters WHERE received_at < ?", (cutoff,))
            # Documents no record names any more (a few per workload state: a short table to scan).
            conn.execute("DELETE FROM enrichments WHERE refs <= 0")
        with self._inbox.transaction() as conn:
            conn.execute("DELETE FROM inbox WHERE state = 'dead' AND received_at < ?", (cutoff,))
        return len(ids)

    def get(self, alert_id: str) -> AlertRecord | None:
        rows = self._query(f"SELECT {SQLITE.columns} FROM alerts WHERE id = ?", (alert_id,))
        return _record(rows[0]) if rows else None

    def add_inbox(self, entry_id: str, body: bytes, received_at: datetime, leased_until: datetime) -> None:
        with self._inbox.transaction() as conn:
            conn.execute(
                "INSERT INTO inbox (id, body, received_at, leased_until) VALUES (?, ?, ?, ?)",
                (entry_id, body, ts(received_at), ts(leased_until)),
            )

    def renew_inbox(self, entry_ids: Sequence[str], leased_until: datetime) -> None:
        with self._inbox.transaction() as conn:
            conn.executemany(
                "UPDATE inbox SET leased_until = ? WHERE id = ? AND state = 'pending'",
                [(ts(leased_until), entry_id) for entry_id in entry_ids],
            )

    def finish_inbox(self, entry_id: str) -> None:
        self.finish_inbox_many([entry_id])

    def finish_inbox_many(self, entry_ids: Sequence[str]) -> None:
        with self._inbox.transaction() as conn:
            conn.executemany("DELETE FROM inbox WHERE id = ?", [(entry_id,) for entry_id in entry_ids])

    def bury_inbox(self, entry_id: str, reason: str) -> None:
        with self._inbox.transaction() as conn:
            conn.execute("UPDATE inbox SET state = 'dead', reason = ? WHERE id = ?", (reason, entry_id))

    def claim_inbox(self, now: datetime, leased_until: datetime, limit: int) -> Sequence[InboxEntry]:
        with self._inbox.transaction() as conn:
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
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO dead_letters (delivery_id, raw, reason, received_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (delivery_id, raw, reason, ts(received_at)),
            )

    def pending_inbox(self) -> int:
        return int(self._inbox.query("SELECT count(*) FROM inbox WHERE state = 'pending'")[0][0])

    def ping(self) -> None:
        # Take the write locks: in WAL mode a read succeeds even while nothing can be written.
        for file in (self._db, self._inbox):
            with file.transaction() as conn:
                conn.execute("SELECT 1")

    def close(self) -> None:
        self._db.close()
        self._inbox.close()


def _functions(conn: sqlite3.Connection) -> None:
    conn.create_function("regexp", 2, regexp, deterministic=True)


def _record(row: sqlite3.Row) -> AlertRecord:
    enrichment = row["enrichment"]
    return make_record(
        dict(row),
        json.loads(row["labels"]),
        json.loads(row["annotations"]),
        json.loads(enrichment) if enrichment is not None else None,
    )
