"""The floor: the smallest Flask app that parses the same payloads and inserts them into the same kind of store."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from typing import Any

import psycopg
from flask import Flask, Response, request

from alerts_processor.adapters.sqlite_file import enable_wal

app = Flask(__name__)
_local = threading.local()
_TARGET = os.environ.get("FLOOR_DB", "var/floor.db")  # a SQLite path, or a postgresql:// URL
_POSTGRES = _TARGET.startswith(("postgresql://", "postgres://"))
_UPSERT = "INSERT INTO floor VALUES ({p}, {p}, 1) ON CONFLICT (id) DO UPDATE SET n = floor.n + 1"


def _conn() -> Any:
    conn = getattr(_local, "conn", None)
    if conn is None:
        if _POSTGRES:
            conn = psycopg.connect(_TARGET, autocommit=True)
        else:
            conn = sqlite3.connect(_TARGET, timeout=30, isolation_level=None)
            # Not a bare PRAGMA: while the other worker's first connection held a lock, it failed at
            # once and answered a request 500 (one in a full benchmark run).
            enable_wal(conn, 30)
            conn.execute("PRAGMA synchronous=NORMAL")
        # PostgreSQL: another connection may create it at the same moment (IF NOT EXISTS does not cover that).
        with contextlib.suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateObject):
            conn.execute("CREATE TABLE IF NOT EXISTS floor (id TEXT PRIMARY KEY, labels TEXT, n INTEGER)")
        _local.conn = conn
    return conn


@app.post("/webhooks/alertmanager")
def receive() -> tuple[Response | str, int]:
    document = json.loads(request.get_data())
    rows = [(a.get("fingerprint", "") + a["startsAt"], json.dumps(a["labels"])) for a in document["alerts"]]
    conn = _conn()
    if _POSTGRES:
        rows.sort()  # rows locked in one order: concurrent batches cannot deadlock
        with conn.transaction(), conn.cursor() as cur:
            cur.executemany(_UPSERT.format(p="%s"), rows)
    else:
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(_UPSERT.format(p="?"), rows)
        conn.execute("COMMIT")
    return "", 202


@app.get("/healthz")
def healthz() -> str:
    return "ok"
