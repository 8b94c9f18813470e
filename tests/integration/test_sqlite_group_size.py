"""The SQLite store's group commits fit its page cache: every page goes to the WAL once.

Past the cache SQLite spills dirty pages to the WAL mid-transaction, writes them again at COMMIT
and re-reads the frames after them to redo their checksums; the writer thread's own write count
(Linux's per-thread I/O accounting) shows the pages written twice.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.models import (
    Delivery,
    ProcessedAlert,
    RawAlert,
    Validation,
    ValidationStatus,
    WorkloadRef,
)
from alerts_processor.pipeline.sanitize import Sanitizer
from tests.helpers import WAL_FRAME, wait_until, written_by_this_thread

EPISODES = 50_000  # a grown store: its id index alone is larger than a group's worth of pages
WAL_HEADER = 32  # a WAL file starts with its header, then the frames
ENRICHMENT = {
    "replicas": {"desired": 3, "ready": 3, "updated": 3, "available": 3},
    "images": ["registry.example.com/team/checkout:1.24.3", "registry.example.com/envoy:1.31"],
    "revision": "17",
    "rollout": {"state": "complete", "started_at": "2026-11-30T03:00:00Z"},
}
# Episodes made by SQL (ids as record_id() makes them), their start times spread over a day, as a
# store that has run a while holds.
FILL = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1),
e AS MATERIALIZED (
    SELECT i, lower(hex(randomblob(8))) AS fp,
           strftime('%Y-%m-%dT%H:%M:%f000Z', '2026-11-29', '+' || (i * 86400.0 / ?1) || ' seconds') AS t FROM n)
INSERT INTO alerts
SELECT fp || '-' || replace(replace(replace(t, '-', ''), ':', ''), '.', ''), fp, 'KubePodCrashLooping', 'warning',
       'firing', 'prod', 'svc' || (i % 100), 'Deployment', 'svc' || (i % 100), t, NULL,
       '{"alertname":"KubePodCrashLooping"}', '{}', 'http://p', 'rcv', 'gk', 'valid', NULL, ?2, 1, t, t, NULL
FROM e
"""
DELIVERIES = "INSERT INTO deliveries SELECT printf('%016x:%d', rowid, 0), id, 'firing', starts_at FROM alerts"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteAlertsRepository]:
    if not Path("/proc/thread-self/io").exists():
        pytest.skip("needs Linux's per-thread I/O accounting")
    repo = SqliteAlertsRepository(str(tmp_path_factory.mktemp("group") / "store.db"))
    with repo._db.transaction() as conn:  # the test fills the file by SQL: fast
        conn.execute(FILL, (EPISODES, '{"replicas":{"desired":3}}'))
        conn.execute(DELIVERIES)
    yield repo
    repo.close()


NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def firing(labels: dict[str, str], starts_at: str, fingerprint: str, rng: random.Random) -> ProcessedAlert:
    """A delivery of a firing alert, enriched, as the pool hands it to the writer."""
    raw = RawAlert(
        "firing", labels, {"summary": "crash looping"}, starts_at, "0001-01-01T00:00:00Z", "http://p", fingerprint
    )
    return ProcessedAlert(
        alert=Sanitizer().sanitize(raw),
        validation=Validation(ValidationStatus.VALID, None),
        workload=WorkloadRef("Deployment", labels.get("deployment", "svc")),
        enrichment=ENRICHMENT,
        delivery=Delivery(f"{rng.getrandbits(64):016x}:0", "rcv", "gk", NOW),
    )


def new_episodes(size: int, rng: random.Random) -> list[ProcessedAlert]:
    """Episodes that started this second, each with a label set (a fingerprint) of its own."""
    labels = [{"alertname": "KubePodCrashLooping", "namespace": "prod", "deployment": f"svc{n % 100}",
               "instance": f"10.{n}.{rng.getrandbits(16)}"} for n in range(size)]  # fmt: skip
    return [firing(one, "2026-11-30T12:00:00Z", "", rng) for one in labels]


def redeliveries(store: SqliteAlertsRepository, size: int, rng: random.Random) -> list[ProcessedAlert]:
    """Deliveries of episodes stored before, anywhere in the store (their rows are updated in place)."""
    rowids = str([rng.randrange(1, EPISODES) for _ in range(size)])
    rows = store._db.query("SELECT id FROM alerts WHERE rowid IN (SELECT value FROM json_each(?))", (rowids,))
    stored = [record for row in rows if (record := store.get(row["id"])) is not None]
    return [firing(r.labels, r.starts_at.isoformat(), r.fingerprint, rng) for r in stored]


def pages_written_twice(store: SqliteAlertsRepository, size: int) -> int:
    """Commit a group of `size` alerts; bytes the writer wrote beyond one frame per page (0: no spill)."""
    rng = random.Random(size)
    items = new_episodes(size - size // 5, rng) + redeliveries(store, size // 5, rng)  # a fifth redelivered
    encoded = [(item, store.encode(item)) for item in items]
    conn = store._db.connection()

    def emptied() -> bool:  # busy while the store's own checkpoint thread is copying the WAL
        busy, frames, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return busy == 0 and frames == 0

    # An empty WAL: this commit's frames only. Left full (a checkpoint refused as busy), the commit
    # pushed the WAL past its bound and checkpointed it in this thread (once in CI: 4.9 MB counted).
    wait_until(emptied, message="an empty WAL")
    episodes = store._db.query("SELECT count(*) FROM alerts")[0][0]
    written0 = written_by_this_thread()
    assert all(store.save_encoded(encoded))
    written1 = written_by_this_thread()
    assert store._db.query("SELECT count(*) FROM alerts")[0][0] == episodes + size - size // 5  # the rest updated
    frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
    return written1 - written0 - (WAL_HEADER + frames * WAL_FRAME)


def test_a_group_of_the_store_s_size_fits_the_page_cache(store: SqliteAlertsRepository) -> None:
    assert pages_written_twice(store, store.group_size) == 0


def test_a_larger_group_spills_which_this_measure_sees(store: SqliteAlertsRepository) -> None:
    assert pages_written_twice(store, 4 * store.group_size) > 0
