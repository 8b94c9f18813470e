"""SqliteFile: one SQLite database file in WAL mode, a connection per thread, serialized writers."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alerts_processor.models import StoreUnavailable


class SqliteFile:
    """Thread-safe through one connection per thread; processes share the file through WAL locking."""

    def __init__(
        self,
        path: str,
        schema: str,
        busy_timeout: float,
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        on_connect: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        self.path = path
        self._schema = schema
        self._busy_timeout = busy_timeout
        self._prepare = prepare  # run once per process, after the schema (migrations)
        self._on_connect = on_connect  # run on every new connection (SQL functions)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._ready = False

    def connection(self) -> sqlite3.Connection:
        """The calling thread's connection (opened, and the schema created, on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if not self._ready:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            if self._on_connect is not None:
                self._on_connect(conn)
            # NORMAL in WAL mode: a commit survives a killed process (our promise); only an OS crash
            # may lose the last transactions, in exchange for far fewer fsyncs.
            conn.execute("PRAGMA synchronous=NORMAL")
            with self._lock:
                if not self._ready:
                    # WAL is a property of the file: set once per process, by one connection, before
                    # any other connection of ours can hold a lock that would make the switch fail.
                    self._enable_wal(conn)
                    conn.executescript(self._schema)
                    if self._prepare is not None:
                        self._prepare(conn)
                    self._ready = True
                self._connections.append(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        self._local.conn = conn
        return conn

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Changing the journal mode answers SQLITE_BUSY at once (no busy handler) while another
        # process holds a lock, as when gunicorn workers start together: retry within the timeout.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); any SQLite error becomes StoreUnavailable."""
        conn = self.connection()
        # Threads of this process queue on a mutex instead of polling SQLite's busy handler, whose
        # growing sleeps starve writers under contention; only other processes meet the busy timeout.
        if not self._write_lock.acquire(timeout=self._busy_timeout):
            raise StoreUnavailable("sqlite: timed out waiting for this process's writers")
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        finally:
            self._write_lock.release()

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
