import threading

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.adapters.sqlite_schema import sqlite_path
from alerts_processor.app import create_app, shutdown_app
from alerts_processor.config import Settings
from alerts_processor.pipeline.payload import parse_payload
from alerts_processor.pipeline.service import PipelineService
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
