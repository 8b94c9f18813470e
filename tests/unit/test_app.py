import threading

import requests

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.adapters.sqlite_schema import sqlite_path
from alerts_processor.app import create_app, prebuild_container, shutdown_app
from alerts_processor.config import Settings
from alerts_processor.pipeline.payload import parse_payload
from alerts_processor.pipeline.service import PipelineService
from tests.conftest import LiveServer
from tests.fakes import HeldValidator
from tests.helpers import sample


def test_shutdown_drains_the_queue_before_closing_the_store(settings: Settings) -> None:
    validator = HeldValidator()
    app = create_app(settings, {"validator": validator})
    pipeline: PipelineService = app.extensions["container"].pipeline()
    pipeline.accept(parse_payload(sample("app-batch-mixed")), b"{}")
    threading.Timer(0.2, validator.release.set).start()  # the queued alerts finish only after shutdown began
    shutdown_app(app)
    store = SqliteAlertsRepository(sqlite_path(settings.store_url))
    try:
        assert len(store.list(10)) == 3 and store.pending_inbox() == 0
    finally:
        store.close()


def test_create_app_does_no_io(settings: Settings) -> None:
    app = create_app(settings.with_overrides(store_url="sqlite:////nonexistent-dir/for/sure/a.db"))
    assert app.url_map is not None  # nothing touched the store yet
    shutdown_app(app)


def test_the_container_built_before_the_fork_serves_the_first_app_only(settings: Settings) -> None:
    prebuilt = prebuild_container()  # what gunicorn's master does
    server = LiveServer(create_app(settings))
    try:
        assert server.app.extensions["container"] is prebuilt
        answer = requests.post(server.url + "/webhooks/alertmanager", json=sample("app-batch-mixed"), timeout=5)
        assert answer.status_code == 202
        assert len(server.records(3)) == 3  # the wired views reach the prebuilt container's store
    finally:
        server.stop()
    later = create_app(settings)
    try:
        assert later.extensions["container"] is not prebuilt
    finally:
        shutdown_app(later)
