"""Fixtures: settings on a temporary SQLite store, a live HTTP server for the app, the fake API server."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from alerts_processor.app import create_app, shutdown_app
from alerts_processor.config import Settings
from tests.helpers import wait_until
from tests.kube_api import FakeKubeApi


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        store_url=f"sqlite:///{tmp_path}/alerts.db", k8s_mode="off", inbox_sweep_interval=0, log_level="WARNING"
    )


class LiveServer:
    """The Flask app served over real HTTP on a loopback port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def records(self, count: int = 1) -> list[dict[str, Any]]:
        """The stored records, once there are at least `count` of them."""

        def fetch() -> list[dict[str, Any]] | None:
            response = requests.get(self.url + "/api/v1/alerts?limit=500", timeout=5)
            found: list[dict[str, Any]] = response.json()["alerts"]
            return found if len(found) >= count else None

        return wait_until(fetch, message=f"{count} records")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        shutdown_app(self.app)


@pytest.fixture
def serve() -> Iterator[Callable[..., LiveServer]]:
    """serve(settings, **overrides) → a LiveServer; every one is stopped at the end of the test."""
    servers: list[LiveServer] = []

    def start(settings: Settings, **overrides: Any) -> LiveServer:
        server = LiveServer(create_app(settings, overrides))
        servers.append(server)
        return server

    yield start
    for server in reversed(servers):
        server.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards; skips without a server."""
    base = os.environ.get("ALERTS_TEST_POSTGRES_URL")
    if not base:
        pytest.skip(
            "no PostgreSQL configured: set ALERTS_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def kube_api() -> Iterator[FakeKubeApi]:
    api = FakeKubeApi().start()
    yield api
    api.stop()
