"""The application factory: builds the container, wires the blueprints; nothing happens at import."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dependency_injector import providers
from flask import Flask

from alerts_processor.config import Settings
from alerts_processor.containers import Container
from alerts_processor.logs import configure_logging


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """A ready Flask app; `overrides` replaces container providers by name (tests pass fakes)."""
    from alerts_processor.blueprints import alerts, health, webhook
    from alerts_processor.blueprints.errors import register_error_handlers

    container = Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    for name, value in (overrides or {}).items():
        getattr(container, name).override(value if isinstance(value, providers.Provider) else providers.Object(value))
    settings = container.settings()
    configure_logging(settings.log_level)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["container"] = container
    for blueprint in (webhook.bp, alerts.bp, health.bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    container.init_resources()
    return app


def shutdown_app(app: Flask) -> None:
    """Stop the sweeper, drain the pool, close the store (gunicorn's worker_exit and tests call it)."""
    container: Container = app.extensions["container"]
    # In this order, whatever the container would choose: the pool must drain while the store is open.
    for resource in (container.sweeper, container.executor, container.repository):
        resource.shutdown()
    container.shutdown_resources()
    container.unwire()
