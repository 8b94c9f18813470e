"""The application factory: builds the container, wires the blueprints; nothing happens at import."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from dependency_injector import providers
from flask import Flask, Response, request

from alerts_processor.adapters.metrics import install_http_metrics
from alerts_processor.config import Settings
from alerts_processor.containers import Container
from alerts_processor.logs import configure_logging, new_request_id, request_id

log = logging.getLogger(__name__)
_prebuilt: list[Container] = []  # at most one, built before the fork and taken by the worker's create_app


def prebuild_container() -> Container:
    """Build and wire the container in gunicorn's master, before it forks the workers (no I/O).

    Wiring reads every member of the blueprint modules and of the classes they import, and each
    read changes a reference count: every worker that wired a container of its own copied some
    8 MB of the master's pages (4 MB more for the whole server after two minutes of load). Wired
    once in the master, those pages stay shared. Nothing is created or started: the providers are
    only called in the worker, by create_app().
    """
    _prebuilt[:] = [Container()]
    return _prebuilt[0]


def create_app(settings: Settings | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """A ready Flask app; `overrides` replaces container providers by name (tests pass fakes).

    The container is the one prebuild_container() made, if there is one not yet taken, else a new one.
    """
    from alerts_processor.blueprints import alerts, health, openapi, webhook
    from alerts_processor.blueprints.errors import register_error_handlers

    container = _prebuilt.pop() if _prebuilt else Container()
    if settings is not None:
        container.settings.override(providers.Object(settings))
    for name, value in (overrides or {}).items():
        getattr(container, name).override(value if isinstance(value, providers.Provider) else providers.Object(value))
    settings = container.settings()
    configure_logging(settings.log_level)
    _warn_when_open(settings)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["container"] = container
    _track_request_ids(app)
    for blueprint in (webhook.bp, alerts.bp, health.bp, openapi.bp):
        app.register_blueprint(blueprint)
    install_http_metrics(app, container.metrics_registry(), container.metrics())
    register_error_handlers(app)
    container.init_resources()
    return app


def _track_request_ids(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        request_id.set(new_request_id(request.headers.get("X-Request-Id")))

    @app.after_request
    def _finish(response: Response) -> Response:
        current = request_id.get()
        if current:
            response.headers["X-Request-Id"] = current
        return response


def _warn_when_open(settings: Settings) -> None:
    if not settings.webhook_token and not settings.webhook_basic_auth:
        log.warning("webhook authentication is off: set ALERTS_WEBHOOK_TOKEN or ALERTS_WEBHOOK_BASIC_AUTH")
    if not settings.api_token:
        log.warning("read API authentication is off: set ALERTS_API_TOKEN")
    if not settings.tls_cert:
        log.warning("serving plain HTTP: set ALERTS_TLS_CERT and ALERTS_TLS_KEY for HTTPS")


def shutdown_app(app: Flask) -> None:
    """Stop the sweeper, drain the pool, close the store (gunicorn's worker_exit and tests call it)."""
    container: Container = app.extensions["container"]
    # In this order, whatever the container would choose: the pool must drain while the store is open.
    resources = (container.sweeper, container.executor, container.committer, container.repository, container.metrics)
    for resource in resources:
        resource.shutdown()
    container.shutdown_resources()
    container.unwire()
