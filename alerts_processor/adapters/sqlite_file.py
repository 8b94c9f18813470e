"""SqliteFile: one SQLite database file in WAL mode, a connection per thread, serialized writers."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alerts_processor.models import StoreUnavailable

log = logging.getLogger(__name__)
CHECKPOINT_INTERVAL = 0.5  # seconds
# The WAL is rewound once past 40 MB of 4 KiB pages; a checkpoint under way when it crosses can
# delay that by what arrives meanwhile (up to 67 MB in three minutes of the benchmark's sustained
# load; with 80 MB, up to 104 MB).
WAL_BOUND_PAGES = 10_000
_PAGE_BYTES = 4096  # SQLite's default page size, which our files keep
_FRAME_BYTES = _PAGE_BYTES + 24  # a page and its frame header in the WAL
_WAL_HEADER_BYTES = 32


def enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Put the file in WAL mode (a property of the file, kept), waiting up to `timeout` for other processes.

    When several processes open a new file together, as gunicorn workers do at start, the switch
    can answer SQLITE_BUSY at once, without waiting in the busy handler: retry within the timeout.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class SqliteFile:
    """Thread-safe through one connection per thread; processes share the file through WAL locking."""

    def __init__(
        self,
        path: str,
        schema: str,
        busy_timeout: float,
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        on_connect: Callable[[sqlite3.Connection], None] | None = None,
        cache_kib: int = 2000,
        wal_bound_pages: int = WAL_BOUND_PAGES,
        checkpoint_interval: float = CHECKPOINT_INTERVAL,
    ) -> None:
        self.path = path
        self._schema = schema
        self._busy_timeout = busy_timeout
        self._prepare = prepare  # run once per process, after the schema (migrations)
        self._on_connect = on_connect  # run on every new connection (SQL functions)
        self._cache_kib = cache_kib  # page cache of each connection
        self._wal_bound = wal_bound_pages
        self._checkpoint_interval = checkpoint_interval
        self._local = threading.local()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._host_lock: int | None = None  # the lock file's descriptor, opened on first write
        self._connections: list[sqlite3.Connection] = []
        self._ready = False
        self._closing = threading.Event()
        self._checkpointer = threading.Thread(target=self._checkpoints, name="sqlite-checkpoint", daemon=True)

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
            # Debian builds SQLite with SECURE_DELETE: every freed page is overwritten with zeros, so
            # finishing an inbox entry of 60 KB (a 100-alert body) wrote its 15 overflow pages to the
            # WAL again: 73-84 µs, 22 with FAST. FAST still clears deleted content inside b-tree
            # pages at no extra I/O; freed pages keep their bytes until reused (SQLite's default: OFF).
            conn.execute("PRAGMA secure_delete=FAST")
            # Checkpoints (copying the WAL into the file, with an fsync) are left to a thread of
            # their own, so no writer does one while it holds the write lock; this bound only
            # matters if that thread falls far behind.
            conn.execute(f"PRAGMA wal_autocheckpoint={self._wal_bound}")
            # Once rewound, the WAL file is cut back to the bound (SQLite otherwise keeps its largest size).
            conn.execute(f"PRAGMA journal_size_limit={self._wal_bound * _PAGE_BYTES}")
            conn.execute(f"PRAGMA cache_size=-{self._cache_kib}")
            # A multi-row upsert keeps a statement journal (the pages it changed, to undo just that
            # statement); past 64 KiB SQLite spilled it to a temporary file: half of a group
            # commit's write calls went there, for a file that is never read back.
            conn.execute("PRAGMA temp_store=MEMORY")
            with self._lock:
                if not self._ready:
                    # WAL is a property of the file: set once per process, by one connection, before
                    # any other connection of ours can hold a lock that would make the switch fail.
                    enable_wal(conn, self._busy_timeout)
                    conn.executescript(self._schema)
                    if self._prepare is not None:
                        self._prepare(conn)
                    self._ready = True
                    self._checkpointer.start()
                self._connections.append(conn)
        except (sqlite3.Error, OSError) as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc
        self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); any SQLite error becomes StoreUnavailable."""
        conn = self.connection()
        deadline = time.monotonic() + self._busy_timeout
        # Writers queue on a mutex (threads of this process) and on a lock file (processes: the
        # gunicorn workers) rather than in SQLite's busy handler, which sleeps 1, 2, 5 ... 100 ms
        # between tries and so leaves the file idle long after the other writer is done. Only
        # writers from outside (a sqlite3 shell, a backup) still meet the busy handler.
        if not self._write_lock.acquire(timeout=self._busy_timeout):
            raise StoreUnavailable("sqlite: timed out waiting for this process's writers")
        try:
            self._lock_host(deadline)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                if self._past_bound():  # our writers still held back
                    self._rewind(conn)
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise StoreUnavailable(f"sqlite: {exc}") from exc
            finally:
                assert self._host_lock is not None
                fcntl.flock(self._host_lock, fcntl.LOCK_UN)
        finally:
            self._write_lock.release()

    def _lock_host(self, deadline: float) -> None:
        """Take the lock file of this database's writers; polled, so a stuck holder ends in a timeout."""
        try:
            if self._host_lock is None:
                self._host_lock = os.open(self.path + "-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            pause = 0.0001
            while True:
                try:
                    fcntl.flock(self._host_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise StoreUnavailable("sqlite: timed out waiting for the other workers' writers") from None
                    time.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except OSError as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        """Rows of a read."""
        try:
            return self.connection().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite: {exc}") from exc

    def _checkpoints(self) -> None:
        while not self._closing.wait(self._checkpoint_interval):
            try:
                conn = self.connection()
                if self._past_bound():
                    # Not PASSIVE: while it runs it holds the checkpoint lock a writer's rewind needs.
                    self._rewind(conn)
                else:  # copies what no reader still needs, never waits for anyone, never blocks writers
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except (sqlite3.Error, StoreUnavailable) as exc:
                log.debug("checkpoint skipped", extra={"error": str(exc)})

    def _past_bound(self) -> bool:
        # The file's size: after a rewind, the next commit cuts it back to journal_size_limit (below this).
        return self._wal_bytes() > self._wal_bound * _FRAME_BYTES + _WAL_HEADER_BYTES

    def _rewind(self, conn: sqlite3.Connection) -> None:
        """Have the WAL start over (a writer's COMMIT after its own, or the checkpoint thread, past the bound).

        SQLite rewinds the WAL only when a write begins after a checkpoint that copied every frame,
        and writers that never pause (a saturating load) append while the PASSIVE checkpoints copy:
        the WAL grew past its bound for good (118 MB after three minutes of the benchmark's load,
        against 80 MB; one writer thread here: 122 MB in 10 s). After a COMMIT, with our writers
        held back, a RESTART checkpoint copies what is left and the next write starts over (and
        cuts the file back to journal_size_limit). It never waits: another checkpoint at work, a
        writer (for the checkpoint thread) or a reader of an older snapshot (a long API query)
        make it give up until the next try.
        """
        try:
            conn.execute("PRAGMA busy_timeout=0")
            try:
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
            finally:
                conn.execute(f"PRAGMA busy_timeout={round(self._busy_timeout * 1000)}")
        except sqlite3.Error as exc:  # a writer's transaction is committed whatever happens here
            log.debug("WAL not rewound", extra={"error": str(exc)})

    def _wal_bytes(self) -> int:
        try:
            return os.path.getsize(self.path + "-wal")
        except OSError:
            return 0

    def close(self) -> None:
        """Stop the checkpoints; close every thread's connection."""
        self._closing.set()
        if self._checkpointer.is_alive():
            self._checkpointer.join()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()
            self._connections.clear()
            if self._host_lock is not None:
                os.close(self._host_lock)
                self._host_lock = None
        self._local = threading.local()
