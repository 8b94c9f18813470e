"""Processes for end-to-end tests: the service under gunicorn and a real Prometheus Alertmanager."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.helpers import free_port, wait_until

ROOT = Path(__file__).parents[2]
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def _require_alertmanager() -> str:
    if ALERTMANAGER is None:
        if os.environ.get("ALERTS_REQUIRE_E2E"):
            pytest.fail("prometheus-alertmanager is not installed but ALERTS_REQUIRE_E2E is set")
        pytest.skip("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)")
    return ALERTMANAGER


class Process:
    """A child process with its output in a file, stopped (and reported on failure) at the end."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = log
        self._out = log.open("wb")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._out.close()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _up(url: str, **options: Any) -> bool:
    try:
        return requests.get(url, timeout=1, **options).status_code == 200
    except requests.RequestException:  # refused, or too busy to answer within the second
        return False


class Service:
    """The app under gunicorn with gunicorn.conf.py, as `make run` starts it."""

    def __init__(self, tmp: Path, client: dict[str, Any] | None = None, **env: str) -> None:
        port = free_port()
        self.url = f"{'https' if env.get('ALERTS_TLS_CERT') else 'http'}://127.0.0.1:{port}"
        self.client = client or {}  # requests options: verify=CA, cert=(cert, key)
        self.store_url = env.pop("ALERTS_STORE_URL", f"sqlite:///{tmp}/alerts.db")
        environment = {
            **os.environ,
            "ALERTS_BIND": f"127.0.0.1:{port}",
            "ALERTS_STORE_URL": self.store_url,
            "ALERTS_K8S_MODE": "off",
            "ALERTS_WEB_WORKERS": "2",
            "ALERTS_INBOX_SWEEP_INTERVAL": "0.5",
            "ALERTS_LOG_LEVEL": "WARNING",
            **env,
        }
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        log = tmp / f"gunicorn-{port}.log"
        self.process = Process([gunicorn, "-c", "gunicorn.conf.py", "wsgi:app"], log, environment)

    def wait_ready(self) -> Service:
        wait_until(lambda: self._ready(), timeout=30, message="gunicorn to serve /healthz")
        return self

    def workers(self) -> list[int]:
        """The pids of the gunicorn workers (children of the master)."""
        pid = self.process.proc.pid
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]

    def _ready(self) -> bool:
        if self.process.proc.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.process.output()}")
        return _up(self.url + "/healthz", **self.client)

    def alerts(self) -> list[dict[str, Any]]:
        response = requests.get(self.url + "/api/v1/alerts?limit=500", timeout=5, **self.client)
        found: list[dict[str, Any]] = response.json()["alerts"]
        return found


class Alertmanager:
    """A real Alertmanager on loopback, routing every alert to `webhook_url` with tiny group timers."""

    def __init__(self, tmp: Path, webhook_url: str, http_config: dict[str, Any] | None = None) -> None:
        binary = _require_alertmanager()
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        webhook: dict[str, Any] = {"url": webhook_url, "send_resolved": True}
        if http_config:
            webhook["http_config"] = http_config
        config = {
            "route": {
                "receiver": "release-engineer-agent",
                "group_by": ["alertname", "namespace"],
                "group_wait": "100ms",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": "release-engineer-agent", "webhook_configs": [webhook]}],
        }
        (tmp / "alertmanager.yml").write_text(json.dumps(config))
        self.process = Process(
            [
                binary,
                f"--config.file={tmp / 'alertmanager.yml'}",
                f"--storage.path={tmp / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=info",
            ],
            tmp / "alertmanager.log",
        )

    def wait_ready(self) -> Alertmanager:
        wait_until(lambda: self._ready(), timeout=30, message="alertmanager to be ready")
        return self

    def _ready(self) -> bool:
        if self.process.proc.poll() is not None:
            raise AssertionError(f"alertmanager exited:\n{self.process.output()}")
        return _up(self.url + "/-/ready")

    def post(self, alerts: list[dict[str, Any]]) -> None:
        response = requests.post(self.url + "/api/v2/alerts", json=alerts, timeout=5)
        assert response.status_code == 200, response.text


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[Process]]:
    """Every process a test starts; all are stopped, and their output shown if the test failed."""
    started: list[Process] = []
    yield started
    for process in reversed(started):
        process.stop()
        # pytest shows this only for a failing test: the last words of every process it started
        print(f"--- {process.log.name}\n{process.output()}")


@pytest.fixture
def start_service(tmp_path: Path, processes: list[Process]) -> Callable[..., Service]:
    def start(client: dict[str, Any] | None = None, **env: str) -> Service:
        service = Service(tmp_path, client, **env)
        processes.append(service.process)
        return service.wait_ready()

    return start


@pytest.fixture
def start_alertmanager(tmp_path: Path, processes: list[Process]) -> Callable[..., Alertmanager]:
    def start(webhook_url: str, http_config: dict[str, Any] | None = None) -> Alertmanager:
        am = Alertmanager(tmp_path, webhook_url, http_config)
        processes.append(am.process)
        return am.wait_ready()

    return start
