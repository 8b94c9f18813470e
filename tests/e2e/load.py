"""A bounded load generator for the durability tests, and a direct look into the store."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from alerts_processor.adapters.sqlite_schema import inbox_path
from tests.helpers import alert, payload

Batch = list[dict[str, Any]]


@dataclass
class LoadResult:
    """What the clients saw: how often each alert (by its `seq` label) was acknowledged, and every answer."""

    acked: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, answer: str, batch: Batch) -> None:
        with self.lock:
            self.answers[answer] += 1
            if answer == "202":
                self.acked.update(a["labels"]["seq"] for a in batch)


def unique_batches(client: int, size: int, deployment: str = "svc") -> Callable[[int], Batch]:
    """Batch n of a client: `size` alerts never sent before (each its own episode)."""

    def make(n: int) -> Batch:
        return [
            alert(namespace="shop", deployment=f"{deployment}-{client}-{n}-{i}", seq=f"{client}-{n}-{i}")
            for i in range(size)
        ]

    return make


def run_load(
    urls: list[str], clients: int, seconds: float, batches: Callable[[int, int], Batch], max_batches: int = 400
) -> tuple[LoadResult, Callable[[], None]]:
    """Start `clients` threads posting for `seconds` (at most `max_batches` each); returns (result, join)."""
    result = LoadResult()
    deadline = time.monotonic() + seconds

    def client(index: int) -> None:
        session = requests.Session()
        for n in range(max_batches):
            if time.monotonic() > deadline:
                break
            batch = batches(index, n)
            url = urls[(index + n) % len(urls)] + "/webhooks/alertmanager"
            try:
                response = session.post(
                    url, data=json.dumps(payload(*batch)), timeout=10, headers={"Content-Type": "application/json"}
                )
                answer = str(response.status_code)
            except requests.ConnectionError:
                answer = "connection error"
            except requests.RequestException as exc:
                answer = type(exc).__name__
            result.record(answer, batch)
        session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()

    def join() -> None:
        for thread in threads:
            thread.join(seconds + 30)

    return result, join


def stored_counts(store_url: str) -> dict[str, int]:
    """notifications per `seq` label, read straight from the store (SQLite or PostgreSQL)."""
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(store_url[len("sqlite:///") :], timeout=10) as conn:
            try:
                rows = conn.execute("SELECT json_extract(labels, '$.seq'), notifications FROM alerts").fetchall()
            except sqlite3.OperationalError:  # no table before the first alert is stored
                rows = []
        conn.close()
    else:
        import psycopg

        with psycopg.connect(store_url) as pg:
            rows = pg.execute("SELECT labels->>'seq', notifications FROM alerts").fetchall()
    return {str(seq): int(n) for seq, n in rows}


def pending_inbox(store_url: str) -> int:
    if store_url.startswith("sqlite:///"):
        with sqlite3.connect(inbox_path(store_url[len("sqlite:///") :]), timeout=10) as conn:
            (count,) = conn.execute("SELECT count(*) FROM inbox WHERE state = 'pending'").fetchone()
        conn.close()
        return int(count)
    import psycopg

    with psycopg.connect(store_url) as pg:
        row = pg.execute("SELECT count(*) FROM inbox WHERE state = 'pending'").fetchone()
    return int(row[0]) if row else 0
