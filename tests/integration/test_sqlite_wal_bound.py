"""The WAL stays near its bound while writers never pause: past it, the writer has it start over.

SQLite rewinds the WAL only when a write begins after a checkpoint that copied every frame; with
writers that never pause, PASSIVE checkpoints copy while new frames arrive, and the WAL grew for
good (122 MB in 10 s of one writer thread, against a bound of 80 MB).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from alerts_processor.adapters.sqlite_file import SqliteFile

_BOUND = 1000  # pages: 4 MB
_PAGE = 4096
_SCHEMA = "CREATE TABLE IF NOT EXISTS t (x BLOB);"


def _write(db: SqliteFile) -> None:
    with db.transaction() as conn:  # about six pages a transaction, the table kept small
        conn.execute("INSERT INTO t VALUES (zeroblob(20000))")
        conn.execute("DELETE FROM t WHERE rowid < (SELECT max(rowid) - 50 FROM t)")


def _wal_size(db: SqliteFile) -> int:
    try:
        return os.path.getsize(db.path + "-wal")
    except FileNotFoundError:
        return 0


def test_writers_that_never_pause_leave_the_wal_near_its_bound(tmp_path: Path) -> None:
    # PASSIVE checkpoints often, as in service (every 0.5 s against 40 MB; every 10 ms against 4 MB here).
    db = SqliteFile(str(tmp_path / "a.db"), _SCHEMA, 5.0, wal_bound_pages=_BOUND, checkpoint_interval=0.01)
    db.connection()  # starts the checkpoint thread
    writes, largest = [0], [0]
    deadline = time.monotonic() + 60

    def writer() -> None:
        # Twenty bounds' worth of frames (without the rewind, on a busy machine, the WAL reached 3-10 bounds).
        while writes[0] * 6 < 20 * _BOUND and time.monotonic() < deadline:
            _write(db)
            writes[0] += 1
            largest[0] = max(largest[0], _wal_size(db))

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.close()
    assert writes[0] * 6 >= 20 * _BOUND
    # The bound and what arrives while a checkpoint under way keeps the writer's rewind waiting.
    assert largest[0] <= 2 * _BOUND * _PAGE, f"the WAL reached {largest[0] / _PAGE:.0f} pages"


def test_a_reader_of_an_older_snapshot_delays_the_rewind_without_holding_writers(tmp_path: Path) -> None:
    db = SqliteFile(str(tmp_path / "a.db"), _SCHEMA, 5.0, wal_bound_pages=_BOUND, checkpoint_interval=3600)
    _write(db)
    reader = sqlite3.connect(db.path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot the WAL must keep
    started = time.monotonic()
    while _wal_size(db) <= 2 * _BOUND * _PAGE:
        _write(db)  # past the bound, each commit tries the rewind and gives it up at once
    assert time.monotonic() - started < 10
    grown = _wal_size(db)
    reader.execute("COMMIT")
    _write(db)  # rewinds
    _write(db)  # starts over, and cuts the file back to the bound
    assert _wal_size(db) <= _BOUND * _PAGE < grown
    reader.close()
    db.close()
