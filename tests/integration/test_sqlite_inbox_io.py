"""Finishing an inbox entry frees its body's pages without writing them again.

SQLite built with SECURE_DELETE (Debian's is) overwrites every freed page with zeros: deleting a
large body then wrote all its overflow pages to the WAL a second time. The writes are counted with
the calling thread's own I/O accounting, so the store's checkpoint thread does not count.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from tests.helpers import WAL_FRAME, written_by_this_thread

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
BODY = b'{"alerts": []}' + b" " * 200_000  # about 50 overflow pages of 4 KiB


def test_finishing_a_large_entry_writes_a_few_pages(tmp_path: Path) -> None:
    if not Path("/proc/thread-self/io").exists():
        pytest.skip("needs Linux's per-thread I/O accounting")
    repo = SqliteAlertsRepository(str(tmp_path / "store.db"))
    try:
        repo.add_inbox("entry-1", BODY, NOW, NOW + timedelta(seconds=30))
        before = written_by_this_thread()
        repo.finish_inbox("entry-1")
        written = written_by_this_thread() - before
        assert repo.pending_inbox() == 0
        # Five pages here (the table's leaf, the index's, the freelist's trunk, the header page...),
        # where the zeroed body made 52.
        assert written <= 8 * WAL_FRAME, f"{written} bytes written to finish a {len(BODY)}-byte entry"
    finally:
        repo.close()
