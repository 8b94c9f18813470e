"""enable_wal: a file's switch to WAL waits for a lock held by another connection, within its timeout.

When gunicorn workers open a new file together, the switch can fail at once, with no busy handler
(12 of 160 connections: four processes opening a new file together, 40 times). The connections
here have no busy handler (timeout 0), so a held lock gives that same immediate answer every time.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from alerts_processor.adapters.sqlite_file import enable_wal


def _locked(path: Path) -> sqlite3.Connection:
    """A connection holding an exclusive lock on a new file (what another worker's start can hold)."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_the_switch_waits_for_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    holder = _locked(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        conn.execute("PRAGMA journal_mode=WAL")  # what a bare PRAGMA does
    release = threading.Timer(0.2, holder.execute, ("COMMIT",))
    release.start()
    enable_wal(conn, timeout=10)
    release.join()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    holder.close()
    conn.close()


def test_the_switch_gives_up_after_its_timeout(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    holder = _locked(path)
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        enable_wal(conn, timeout=0.1)
    holder.execute("ROLLBACK")
    holder.close()
    conn.close()
