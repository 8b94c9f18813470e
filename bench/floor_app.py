"""The floor: the smallest Flask app that parses the same payloads and inserts them into the same kind of store."""

from __future__ import annotations

import json
import os
import sqlite3
import threading

from flask import Flask, Response, request

app = Flask(__name__)
_local = threading.local()
_PATH = os.environ.get("FLOOR_DB", "var/floor.db")


def _conn() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(_PATH, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS floor (id TEXT PRIMARY KEY, labels TEXT, n INTEGER)")
        _local.conn = conn
    return conn


@app.post("/webhooks/alertmanager")
def receive() -> tuple[Response | str, int]:
    document = json.loads(request.get_data())
    rows = [(a.get("fingerprint", "") + a["startsAt"], json.dumps(a["labels"])) for a in document["alerts"]]
    conn = _conn()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO floor VALUES (?, ?, 1) ON CONFLICT (id) DO UPDATE SET n = n + 1", rows)
    conn.execute("COMMIT")
    return "", 202


@app.get("/healthz")
def healthz() -> str:
    return "ok"
