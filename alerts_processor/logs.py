"""Structured logging: one JSON object per line on stderr, each carrying the request id it belongs to."""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import uuid

from pythonjsonlogger.json import JsonFormatter

_HANDLER_NAME = "alerts_processor.json"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# Set per webhook request; the pipeline copies the context into the pool, so an alert's logs keep it.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def new_request_id(offered: str | None) -> str:
    """The caller's X-Request-Id when it is a sane token, else a fresh one (never log raw input)."""
    return offered if offered and _SAFE_ID.match(offered) else uuid.uuid4().hex


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


def configure_logging(level: str) -> None:
    """Install the JSON handler on the root logger once per process; later calls only set the level."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    root.addHandler(handler)
