"""Every store the contract suites run on, by name."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mongomock_ng as mongomock
import pytest

from alerts_processor.adapters.mongo import MongoAlertsRepository
from alerts_processor.adapters.postgres import PostgresAlertsRepository
from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.interfaces import IAlertsRepository
from tests.fakes import InMemoryAlertsRepository

STORES = ["memory", "sqlite", "mongo", "postgres"]

# mongomock applies a write as a read, then a write, with no lock between them: concurrent `$inc`s
# of one document lost increments (the contract's test of overlapping writers failed about one run
# in eleven), where a MongoDB server applies every single-document write atomically. The writes the
# adapter makes are serialized here, which is what the server's atomicity looks like from outside.
_MONGO_WRITES = ("insert_one", "update_one", "update_many", "delete_one", "delete_many", "find_one_and_update")
_MONGO_WRITE_LOCK = threading.RLock()


def _atomic(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        with _MONGO_WRITE_LOCK:
            return write(*args, **kwargs)

    return atomic


def mongomock_store(monkeypatch: pytest.MonkeyPatch) -> MongoAlertsRepository:
    """The MongoDB adapter on mongomock, its writes atomic as on a server."""
    for name in _MONGO_WRITES:
        monkeypatch.setattr(mongomock.Collection, name, _atomic(getattr(mongomock.Collection, name)))
    return MongoAlertsRepository(mongomock.MongoClient(tz_aware=True), "alerts")


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> IAlertsRepository:
    """A fresh, empty store of `kind` (PostgreSQL in a schema of its own; skipped without a server)."""
    if kind == "memory":
        return InMemoryAlertsRepository()
    if kind == "sqlite":
        return SqliteAlertsRepository(str(tmp_path / "a.db"))
    if kind == "mongo":
        return mongomock_store(request.getfixturevalue("monkeypatch"))
    return PostgresAlertsRepository(request.getfixturevalue("postgres_url"))
