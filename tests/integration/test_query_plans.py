"""Queries use indexes: EXPLAIN on a 100,000-record store, SQLite and PostgreSQL (no full scan, no sort step)."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import psycopg
import pytest

from alerts_processor.adapters.postgres import PostgresAlertsRepository
from alerts_processor.adapters.sql import POSTGRES, SQLITE, select_page
from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.adapters.sqlite_schema import EPISODE_DELIVERIES
from alerts_processor.query import AlertQuery, Cursor, parse_matcher
from bench.fill import postgres_rows, sqlite_rows

ROWS = 100_000
QUERIES = {
    "newest": AlertQuery(),
    "namespace": AlertQuery(namespace="ns7"),
    "workload": AlertQuery(namespace="ns7", workload_kind="Deployment", workload_name="svc3"),
    "alertname": AlertQuery(alertname="Alert5"),
    "by last_received": AlertQuery(sort="last_received_at"),
    "namespace + label matcher": AlertQuery(namespace="ns7", matchers=(parse_matcher('severity="critical"'),)),
    "next page": AlertQuery(namespace="ns7", after=Cursor("2026-06-01T00:00:00.000000Z", "x")),
}

# The indexes of stores made by earlier versions.
OLD_INDEXES = """
CREATE INDEX alerts_fingerprint ON alerts (fingerprint);
CREATE INDEX alerts_starts_at ON alerts (starts_at DESC, id DESC);
CREATE INDEX alerts_last_received ON alerts (last_received_at DESC, id DESC);
CREATE INDEX alerts_namespace ON alerts (namespace, starts_at DESC, id DESC);
CREATE INDEX alerts_workload ON alerts (namespace, workload_kind, workload_name, starts_at DESC, id DESC);
CREATE INDEX alerts_alertname ON alerts (alertname, starts_at DESC, id DESC);
CREATE INDEX deliveries_alert ON deliveries (alert_id, received_at);
CREATE INDEX deliveries_by_alert ON deliveries (alert_id);
"""

# Label matchers filter JSON, whose selectivity PostgreSQL estimates: it may pick a bitmap scan of the
# namespace index and sort the few rows left, which is as good; only the absence of a full scan is required.
ESTIMATED = {"namespace + label matcher"}


def test_sqlite_plans_use_indexes(tmp_path: Path) -> None:
    path = str(tmp_path / "big.db")
    SqliteAlertsRepository(path).ping()  # creates the schema
    conn = sqlite3.connect(path)
    conn.execute(sqlite_rows(ROWS))
    conn.commit()
    conn.execute("ANALYZE")
    assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == ROWS
    conn.create_function("regexp", 2, lambda p, v: False)
    for name, query in QUERIES.items():
        sql, params = select_page(query, SQLITE)
        plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, f"{name}: {plan}"
        # The indexes leave out the id: only episodes tied on the time are sorted, by id ("RIGHT PART").
        assert "TEMP B-TREE" not in plan.replace("USE TEMP B-TREE FOR RIGHT PART OF ORDER BY", ""), (
            f"{name} sorts instead of walking an index: {plan}"
        )
    conn.close()


def test_sqlite_finds_an_episodes_deliveries_by_its_index(tmp_path: Path) -> None:
    # The history and retention read an episode's deliveries through an index on parts of its id;
    # a plain `alert_id = ?` beside them would let SQLite rewrite the terms and scan the table.
    path = str(tmp_path / "d.db")
    store = SqliteAlertsRepository(path)
    store.ping()
    conn = sqlite3.connect(path)
    conn.executemany(
        "INSERT INTO deliveries VALUES (?, ?, 'firing', '2026-01-01T00:00:00.000000Z')",
        [(f"d{i}", f"{i % 5000:016x}-20260101T0000{i % 7:02d}000000Z") for i in range(20_000)],
    )
    conn.commit()
    for analyzed in (False, True):
        if analyzed:
            conn.execute("ANALYZE")
        for sql in (
            f"SELECT * FROM deliveries WHERE {EPISODE_DELIVERIES}",
            f"DELETE FROM deliveries WHERE {EPISODE_DELIVERIES}",
        ):
            plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, ("x",)))
            assert "deliveries_by_episode (<expr>=? AND <expr>=?)" in plan, plan
    conn.close()
    wanted = f"{42:016x}-20260101T000000000000Z"
    assert [n.status for n in store.history(wanted)] == ["firing"]  # not the fingerprint's three other episodes
    store.close()


def test_sqlite_migrates_old_indexes_and_finds_a_fingerprint_by_the_primary_key(tmp_path: Path) -> None:
    # A store made before this version has an index on fingerprint and wide indexes: they go at the
    # next start, and the narrow ones are built.
    path = str(tmp_path / "big.db")
    for created in (True, False):
        store = SqliteAlertsRepository(path)
        store.ping()  # creates the schema, then migrates it
        store.close()
        if created:
            old = sqlite3.connect(path)
            old.executescript(OLD_INDEXES)
            old.close()
    conn = sqlite3.connect(path)
    indexes = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not indexes & set(re.findall(r"INDEX (\w+)", OLD_INDEXES)), indexes
    assert {"alerts_by_start", "alerts_by_namespace", "deliveries_by_episode"} <= indexes
    conn.execute(sqlite_rows(ROWS))
    conn.commit()
    conn.execute("ANALYZE")
    sql, params = select_page(AlertQuery(fingerprint=f"{4242:016x}"), SQLITE)
    plan = " | ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "sqlite_autoindex_alerts_1 (id>? AND id<?)" in plan, plan
    assert [row[0] for row in conn.execute(sql, params)] == [f"{4242:016x}-4242"]
    conn.close()


def test_postgres_plans_use_indexes(postgres_url: str) -> None:
    PostgresAlertsRepository(postgres_url).ping()  # creates and migrates the schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(postgres_rows(ROWS))
        conn.execute("ANALYZE alerts")
        for name, query in QUERIES.items():
            sql, params = select_page(query, POSTGRES)
            (plan,) = conn.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()  # type: ignore[misc]
            text = json.dumps(plan)
            assert '"Seq Scan"' not in text, f"{name}: {text[:2000]}"
            if name not in ESTIMATED:
                assert '"Node Type": "Sort"' not in text, f"{name} sorts instead of walking an index: {text[:2000]}"


@pytest.mark.parametrize("name", list(QUERIES))
def test_every_planned_query_is_valid_sql_for_both(name: str) -> None:
    for dialect in (SQLITE, POSTGRES):
        sql, params = select_page(QUERIES[name], dialect)
        assert sql.count(dialect.p) == len(params)
