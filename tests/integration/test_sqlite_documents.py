"""The SQLite store keeps each enrichment document once, counts who names it, and reads stores made before."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.query import AlertQuery
from tests.integration.test_store_contract import T0, processed

WEB = {"kind": "Deployment", "name": "web", "release": {"suspect": False, "revision": "3"}}
WEB_NEXT = {"kind": "Deployment", "name": "web", "release": {"suspect": True, "revision": "4"}}

# The alerts table as 0.1 made it, before enrichment documents were shared, with one of its records.
OLD_STORE = """
CREATE TABLE alerts (
    id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, alertname TEXT NOT NULL, severity TEXT NOT NULL,
    status TEXT NOT NULL, namespace TEXT, deployment TEXT, workload_kind TEXT, workload_name TEXT,
    starts_at TEXT NOT NULL, ends_at TEXT, labels TEXT NOT NULL, annotations TEXT NOT NULL,
    generator_url TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL,
    validation_status TEXT NOT NULL, validation_reason TEXT, enrichment TEXT,
    notifications INTEGER NOT NULL, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL
);
INSERT INTO alerts VALUES (
    '{id}', '{fingerprint}', 'KubePodCrashLooping', 'warning', 'firing', 'prod', 'web', 'Deployment', 'web',
    '2026-11-30T04:00:00.000000Z', NULL, '{{"alertname":"KubePodCrashLooping"}}', '{{}}', 'http://p', 'rcv', 'gk',
    'valid', NULL, '{{"kind":"Deployment","release":{{"suspect":true}}}}', 1,
    '2026-11-30T12:00:00.000000Z', '2026-11-30T12:00:00.000000Z'
);
"""


def documents(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return sorted(conn.execute("SELECT refs, document FROM enrichments").fetchall())


def test_alerts_on_one_workload_state_share_one_document(tmp_path: Path) -> None:
    store = SqliteAlertsRepository(str(tmp_path / "a.db"))
    alerts = [processed(f"s{n}:0", enrichment=WEB, pod=f"p{n}") for n in range(3)]
    assert store.save_many(alerts) == [True] * 3
    assert store.save(processed("s0:1", enrichment=WEB, pod="p0", received=T0 + timedelta(minutes=1)))
    ((refs, _),) = documents(tmp_path / "a.db")
    assert refs == 3  # the redelivery named the same document: no count moved
    for alert in alerts:
        record = store.get(alert.alert.id)
        assert record is not None and record.enrichment == WEB
    store.close()


def test_a_new_workload_state_moves_the_count(tmp_path: Path) -> None:
    store = SqliteAlertsRepository(str(tmp_path / "a.db"))
    store.save_many([processed(f"s{n}:0", enrichment=WEB, pod=f"p{n}") for n in range(2)])
    moved = processed("s1:1", enrichment=WEB_NEXT, pod="p1", received=T0 + timedelta(minutes=1))
    store.save(moved)
    assert [refs for refs, _ in documents(tmp_path / "a.db")] == [1, 1]
    record = store.get(moved.alert.id)
    assert record is not None and record.enrichment == WEB_NEXT
    suspects = store.query(AlertQuery(release_suspect=True))
    assert [r.id for r in suspects.records] == [moved.alert.id]
    store.close()


def test_retention_drops_the_documents_nobody_names(tmp_path: Path) -> None:
    store = SqliteAlertsRepository(str(tmp_path / "a.db"))
    old = processed("old:0", starts="2026-01-01T00:00:00Z", received=T0 - timedelta(days=100), enrichment=WEB)
    shared = processed("old:1", starts="2026-01-02T00:00:00Z", received=T0 - timedelta(days=100), enrichment=WEB_NEXT)
    kept = processed("new:0", received=T0, enrichment=WEB_NEXT)
    for item in (old, shared, kept):
        store.save(item)
    assert store.prune(T0 - timedelta(days=90), limit=1000) == 2
    ((refs, document),) = documents(tmp_path / "a.db")
    assert refs == 1 and '"revision":"4"' in document  # still named by the kept record
    record = store.get(kept.alert.id)
    assert record is not None and record.enrichment == WEB_NEXT
    store.close()


def test_a_store_made_before_reads_its_records_and_takes_new_ones(tmp_path: Path) -> None:
    old = processed("old:0")
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_STORE.format(id=old.alert.id, fingerprint=old.alert.fingerprint))
    # Two workers start on it at once: one adds the column, the other finds it there.
    stores = [SqliteAlertsRepository(str(path)) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda store: store.ping(), stores))
    store = stores[0]
    record = store.get(old.alert.id)
    assert record is not None and record.enrichment == {"kind": "Deployment", "release": {"suspect": True}}
    assert [r.id for r in store.query(AlertQuery(release_suspect=True)).records] == [old.alert.id]
    # A failed enrichment keeps the record's own copy; a new one takes its place.
    store.save(processed("old:1", received=T0 + timedelta(minutes=1)))
    record = store.get(old.alert.id)
    assert record is not None and record.enrichment == {"kind": "Deployment", "release": {"suspect": True}}
    store.save(processed("old:2", received=T0 + timedelta(minutes=2), enrichment=WEB))
    record = store.get(old.alert.id)
    assert record is not None and record.enrichment == WEB and record.notifications == 3
    assert store.query(AlertQuery(release_suspect=True)).records == []
    for each in stores:
        each.close()
