"""Shared test helpers: samples, polling with a deadline, free ports, a thread's own writes."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

SAMPLES = Path(__file__).parent / "samples"
WAL_FRAME = 24 + 4096  # a SQLite WAL frame: its header, then a 4 KiB page
T = TypeVar("T")


def sample(name: str) -> dict[str, Any]:
    """One of the realistic Alertmanager payloads in tests/samples (without `.json`)."""
    return json.loads((SAMPLES / f"{name}.json").read_text())


def payload(
    *alerts: dict[str, Any], receiver: str = "release-engineer-agent", status: str = "firing"
) -> dict[str, Any]:
    """A minimal valid version 4 payload around `alerts`."""
    return {
        "version": "4",
        "receiver": receiver,
        "status": status,
        "alerts": list(alerts),
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am:9093",
        "groupKey": "{}:{}",
        "truncatedAlerts": 0,
    }


def alert(
    status: str = "firing",
    starts_at: str = "2026-11-30T04:34:04.519722214Z",
    ends_at: str = "0001-01-01T00:00:00Z",
    **labels: str,
) -> dict[str, Any]:
    """An alert as Alertmanager sends it (no fingerprint: the service computes it)."""
    return {
        "status": status,
        "labels": {"alertname": "DeploymentUnavailable", **labels},
        "annotations": {"summary": "test"},
        "startsAt": starts_at,
        "endsAt": ends_at,
        "generatorURL": "http://prometheus:9090/graph",
    }


def wait_until(check: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = "") -> T:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message or check}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def written_by_this_thread() -> int:
    """Bytes this thread's system calls have written (Linux's /proc/thread-self/io)."""
    fields = dict(line.split(": ") for line in Path("/proc/thread-self/io").read_text().splitlines())
    return int(fields["wchar"])
