"""Pick the IAlertsRepository adapter for ALERTS_STORE_URL (used only by the composition root)."""

from __future__ import annotations

from alerts_processor.config import Settings
from alerts_processor.interfaces import IAlertsRepository


def build_repository(settings: Settings) -> IAlertsRepository:
    """The store the URL's scheme names; no connection is opened here."""
    url = settings.store_url
    if url.startswith("sqlite:"):
        from alerts_processor.adapters.sqlite import SqliteAlertsRepository
        from alerts_processor.adapters.sqlite_schema import sqlite_path

        return SqliteAlertsRepository(sqlite_path(url), busy_timeout=settings.store_timeout)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from alerts_processor.adapters.mongo import connect

        return connect(url, settings.mongo_database, settings.store_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from alerts_processor.adapters.postgres import PostgresAlertsRepository

        return PostgresAlertsRepository(
            url,
            max_connections=settings.pipeline_threads + settings.web_threads,
            acquire_timeout=settings.store_timeout,
        )
    scheme = url.split(":", 1)[0]
    raise ValueError(f"ALERTS_STORE_URL: unsupported store {scheme!r} (use sqlite:///, mongodb:// or postgresql://)")
