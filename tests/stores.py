"""Every store the contract suites run on, by name."""

from __future__ import annotations

from pathlib import Path

import mongomock_ng as mongomock
import pytest

from alerts_processor.adapters.mongo import MongoAlertsRepository
from alerts_processor.adapters.postgres import PostgresAlertsRepository
from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.interfaces import IAlertsRepository
from tests.fakes import InMemoryAlertsRepository

STORES = ["memory", "sqlite", "mongo", "postgres"]


def make_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> IAlertsRepository:
    """A fresh, empty store of `kind` (PostgreSQL in a schema of its own; skipped without a server)."""
    if kind == "memory":
        return InMemoryAlertsRepository()
    if kind == "sqlite":
        return SqliteAlertsRepository(str(tmp_path / "a.db"))
    if kind == "mongo":
        return MongoAlertsRepository(mongomock.MongoClient(tz_aware=True), "alerts")
    return PostgresAlertsRepository(request.getfixturevalue("postgres_url"))
