"""The store of one benchmark phase: a fresh SQLite file (default), or a fresh schema in a PostgreSQL database."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psycopg


@dataclass
class PhaseStore:
    """Where the service (`url`) or the floor (`floor_target`) writes, and how to count what it wrote."""

    url: str  # ALERTS_STORE_URL of the service
    floor_target: str  # FLOOR_DB of the floor app: a SQLite path or the same PostgreSQL URL
    count: Callable[[str], int]  # the integer a SELECT gives (0 while its table does not exist)
    drop: Callable[[], None]


def shown(base: str) -> str:
    """`base` as the results files record it: a password in a URL replaced by ***."""
    parts = urlsplit(base)
    if parts.password is None:
        return base
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def fresh_store(base: str, work: Path) -> PhaseStore:
    """`base` is `sqlite` (a file in `work`) or a postgresql:// URL (a schema of its own, dropped after)."""
    if base == "sqlite":
        path = work / "store.db"
        return PhaseStore(f"sqlite:///{path}", str(path), lambda sql: _sqlite_count(path, sql), lambda: None)
    if base.startswith(("postgresql://", "postgres://")):
        return _postgres_store(base)
    raise SystemExit(f"--store must be sqlite or a postgresql:// URL, not {base!r}")


def _sqlite_count(path: Path, sql: str) -> int:
    try:
        with sqlite3.connect(path, timeout=10) as conn:
            return int(conn.execute(sql).fetchone()[0] or 0)
    except sqlite3.OperationalError:  # the table does not exist yet
        return 0


def _postgres_store(base: str) -> PhaseStore:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    reader = psycopg.connect(url, autocommit=True)  # polled every few ms: one connection for the phase

    def count(sql: str) -> int:
        try:
            row = reader.execute(sql).fetchone()
        except psycopg.errors.UndefinedTable:
            return 0
        return int(row[0] or 0) if row else 0

    def drop() -> None:
        reader.close()
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")

    return PhaseStore(url, url, count, drop)
