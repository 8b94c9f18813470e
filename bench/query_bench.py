"""Query timings on a large SQLite store: a filtered page, as the read API asks for it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import time
from typing import Any

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.query import AlertQuery, Cursor, parse_matcher
from bench.fill import sqlite_rows, sqlite_tied_rows
from bench.server import ROOT

TIED = 1000  # episodes of ns3 that started in the same microsecond
QUERIES = {
    "namespace, newest 50": AlertQuery(namespace="ns7"),
    "workload, newest 50": AlertQuery(namespace="ns7", workload_kind="Deployment", workload_name="svc7"),
    "alertname + severity matcher": AlertQuery(alertname="Alert5", matchers=(parse_matcher('severity="critical"'),)),
    "namespace, next page": AlertQuery(namespace="ns7", after=Cursor("2026-06-01T00:00:00.000000Z", "z")),
    "all, by last_received_at": AlertQuery(sort="last_received_at"),
    "one fingerprint's episodes": AlertQuery(fingerprint=f"{777_777:016x}"),
    f"{TIED:,} tied at the top, page 2": AlertQuery(
        namespace="ns3", after=Cursor("2031-01-01T00:00:00.000000Z", f"{1_000_000_500:016x}-tied")
    ),
}


def query_phase(rows: int, repeats: int = 30) -> list[dict[str, Any]]:
    """p50/p99 milliseconds of each query through the repository (parameters bound, rows decoded)."""
    work = ROOT / "var" / "bench" / "query"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    path = work / "big.db"
    repository = SqliteAlertsRepository(str(path))
    repository.ping()  # schema
    with sqlite3.connect(path) as conn:
        conn.execute(sqlite_rows(rows))
        conn.execute(sqlite_tied_rows(TIED, "ns3"))
        conn.execute("ANALYZE")
    with sqlite3.connect(path) as conn:
        # The fill left a million rows in the WAL; the store's checkpoints would copy them into the
        # file during the first timings (a p99 of 85 ms). A running store checkpoints as it goes.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()  # the kernel writes the fill back now, not while a query is timed
    results = []
    for name, query in QUERIES.items():
        repository.query(query)  # warm the page cache once
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            page = repository.query(query)
            timings.append((time.perf_counter() - started) * 1000)
        q = statistics.quantiles(timings, n=100, method="inclusive")
        results.append({"query": name, "rows": rows, "returned": len(page.records), "p50_ms": round(q[49], 2),
                        "p99_ms": round(q[98], 2)})  # fmt: skip
    repository.close()
    return results
