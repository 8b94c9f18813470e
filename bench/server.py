"""The processes under test: gunicorn (the service or the floor) and the fake API server, with resource sampling."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up")


def _kib(path: str, field: str) -> int:
    """A `field: N kB` line of a /proc file, or 0 once the process is gone."""
    try:
        with open(path) as lines:
            return next((int(line.split()[1]) for line in lines if line.startswith(field)), 0)
    except OSError:
        return 0


class Gunicorn:
    """gunicorn with gunicorn.conf.py, as in production; samples RSS and CPU of master and workers."""

    def __init__(self, target: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, "ALERTS_BIND": f"127.0.0.1:{self.port}", "ALERTS_LOG_LEVEL": "WARNING", **env}
        self._log = log.open("wb")
        self.proc = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", target], cwd=ROOT,
                                     env=environment, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)  # fmt: skip
        _wait(self.url + "/healthz", self.proc, target)
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.cpu_start = self.cpu_seconds()

    def pids(self) -> list[int]:
        pid = self.proc.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [pid, *map(int, children)]

    def _sample(self) -> None:
        # Two sums over master and workers: RSS counts a page shared by several processes (libraries,
        # code imported before the fork) once per process; PSS splits it among them, so its sum is
        # the memory the server really holds, as a container's memory accounting sees it.
        while not self._stop.wait(0.1):
            rss = pss = 0
            for pid in self.pids():
                rss += _kib(f"/proc/{pid}/status", "VmRSS:")
                pss += _kib(f"/proc/{pid}/smaps_rollup", "Pss:")
            self.peak_rss = max(self.peak_rss, rss * 1024)
            self.peak_pss = max(self.peak_pss, pss * 1024)

    def cpu_seconds(self) -> float:
        """User + system CPU of master and live workers so far."""
        total = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError):
                continue
        return total / TICKS

    def stop(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


class KubeServer:
    """bench/kube_server.py in its own process."""

    def __init__(self, work: Path, deployments: int, latency: float) -> None:
        self.kubeconfig = work / "kubeconfig"
        self._stats = work / "kube-stats.json"
        self._stats.unlink(missing_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.kube_server", "--deployments", str(deployments),
                                      "--latency", str(latency), "--kubeconfig", str(self.kubeconfig),
                                      "--stats", str(self._stats)], cwd=ROOT)  # fmt: skip
        deadline = time.monotonic() + 30
        while not self._stats.exists():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the fake API server did not start")
            time.sleep(0.05)

    def calls(self) -> int:
        before = self._stats.stat().st_mtime_ns
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 5
        while self._stats.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.01)
        return int(json.loads(self._stats.read_text())["calls"])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
