"""Load generator processes: realistic Alertmanager payloads, open-loop at a rate or as fast as answered."""

from __future__ import annotations

import hashlib
import itertools
import random
import resource
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing import Queue
from multiprocessing.synchronize import Barrier
from typing import Any
from urllib.parse import urlsplit

import orjson

RETRY_PAUSE = 0.05  # seconds before a batch answered 503 is sent again
ALERTNAMES = ("KubePodCrashLooping", "KubeDeploymentReplicasMismatch", "HighErrorRate", "HighLatency", "OOMKilled")


@dataclass
class Plan:
    """What one client sends."""

    url: str
    seconds: float
    rate: float | None  # requests per second; None: as fast as answered
    sizes: tuple[int, ...] = (1, 10, 100)
    weights: tuple[float, ...] = (0.2, 0.5, 0.3)
    deployments: int = 100
    headers: dict[str, str] = field(default_factory=dict)


def _alert(rng: random.Random, client: int, n: int, i: int, deployments: int, now: str) -> dict[str, Any]:
    d = rng.randrange(deployments)
    labels = {"alertname": rng.choice(ALERTNAMES), "namespace": "bench",
              "severity": rng.choice(("critical", "warning")), "instance": f"10.{client}.{n % 256}.{i}",
              "job": "kube-state-metrics"}  # fmt: skip
    if rng.random() < 0.7:
        labels["deployment"] = f"svc{d}"
    else:
        labels["pod"] = f"svc{d}-abc-x1"
    return {"status": "firing", "labels": labels, "annotations": {"summary": "benchmark alert"}, "startsAt": now,
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": _fingerprint(labels)}  # fmt: skip


def _fingerprint(labels: dict[str, str]) -> str:
    """A 16-hex fingerprint unique to the label set, as Alertmanager's is.

    Not Alertmanager's FNV-1a: in pure Python it made half of a load process's CPU (with the
    stdlib's json.dumps, 32 µs of the 38 µs it took to make an alert; now 5 µs), which the load
    processes take from the server they measure: they share its two cores. The service takes a
    well-formed fingerprint as given, so its work is the same.
    """
    return hashlib.blake2b(orjson.dumps(labels, option=orjson.OPT_SORT_KEYS), digest_size=8).hexdigest()


def payload(alerts: list[dict[str, Any]], status: str = "firing") -> dict[str, Any]:
    """A version 4 webhook body."""
    return {"version": "4", "receiver": "bench", "status": status, "alerts": alerts, "groupLabels": {},
            "commonLabels": {"namespace": "bench"}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "groupKey": "{}:{namespace=\"bench\"}", "truncatedAlerts": 0}  # fmt: skip


def batches(client: int, plan: Plan) -> Any:
    """Endless bodies: new episodes, ~20% redeliveries of an earlier batch, ~10% of them resolved."""
    rng = random.Random(client)
    sent: list[list[dict[str, Any]]] = []
    n = 0
    while True:
        roll = rng.random()
        if sent and roll < 0.1:
            earlier = rng.choice(sent)
            yield payload([{**a, "status": "resolved", "endsAt": a["startsAt"]} for a in earlier], "resolved")
        elif sent and roll < 0.2:
            yield payload(rng.choice(sent))
        else:
            size = rng.choices(plan.sizes, plan.weights)[0]
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            alerts = [_alert(rng, client, n, i, plan.deployments, now) for i in range(size)]
            sent = [*sent, alerts][-50:]
            n += 1
            yield payload(alerts)


# Bodies made before a phase's clock starts, per load process: more alerts than any floor phase has
# taken (28,775 alerts/s for three processes), for 20 s at most (the sustained phase's two minutes
# would take over a gigabyte a process); past them, bodies are made as they are sent.
PREBUILT_ALERTS_PER_S = 15_000
PREBUILT_SECONDS = 20.0


def prebuilt(index: int, plan: Plan) -> Iterator[tuple[bytes, int]]:
    """Encoded bodies and their alert counts: a phase's worth made at the first next(), then more as needed.

    Making a body costs about 5-10 µs per alert; made while the phase runs, that CPU is taken from
    the server it measures, and most from the faster one (the floor sends twice as many alerts).
    """
    source = batches(index, plan)
    per_s = plan.rate * mean_size(plan.sizes, plan.weights) if plan.rate else PREBUILT_ALERTS_PER_S
    made, alerts = [], 0
    while alerts < per_s * min(plan.seconds, PREBUILT_SECONDS) * 1.1:
        body = next(source)
        made.append((orjson.dumps(body), len(body["alerts"])))
        alerts += len(body["alerts"])
    yield from made
    del made
    for body in source:
        yield orjson.dumps(body), len(body["alerts"])


def mean_size(sizes: tuple[int, ...], weights: tuple[float, ...]) -> float:
    """Alerts per body on average, for batch sizes drawn with these weights."""
    return sum(s * w for s, w in zip(sizes, weights, strict=True)) / sum(weights)


class Connection:
    """A keep-alive HTTP/1.1 client on a plain socket, for the load's own CPU to stay small.

    http.client costs about 300 µs of CPU per request (its response headers go through
    email.parser), taken from the server under test on these two cores; this costs a tenth of it.
    It knows only what the benchmark meets: answers with a Content-Length (Flask and gunicorn give
    one to every answer here) and `Connection: close` (ALERTS_KEEPALIVE_REQUESTS).
    """

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        lines = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", *(f"{k}: {v}" for k, v in headers.items())]
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode()
        self._sock: socket.socket | None = None
        self._buffer = b""

    def post(self, body: bytes) -> int:
        """Send one request and read its whole answer; returns the status code."""
        if self._sock is None:
            self._sock = socket.create_connection(self._address, timeout=30)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buffer = b""
        self._sock.sendall(b"%s%d\r\n\r\n%s" % (self._head, len(body), body))
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._read()
        head, self._buffer = self._buffer[:end].lower(), self._buffer[end + 4 :]
        length = int(head.split(b"\r\ncontent-length:", 1)[1].split(b"\r\n", 1)[0])
        while len(self._buffer) < length:
            self._read()
        self._buffer = self._buffer[length:]
        if b"\r\nconnection: close" in head:
            self.close()
        return int(head[9:12])

    def _read(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self._buffer += chunk

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def client(index: int, plan: Plan, results: Queue, ready: Barrier) -> None:  # type: ignore[type-arg]
    """Make the bodies, wait for the others (`ready`), send until the plan's time is up; report what was seen.

    What is reported: acknowledged alerts, latencies (s), answers, and the CPU this process took
    while it sent.
    """
    conn = Connection(plan.url, {"Content-Type": "application/json", **plan.headers})
    bodies = prebuilt(index, plan)
    first = next(bodies)
    acked, latencies, answers = 0, [], {}  # type: tuple[int, list[float], dict[str, int]]
    ready.wait(timeout=300)  # every load process has its bodies
    ready.wait(timeout=60)  # the phase's measures have begun
    cpu0 = _cpu_seconds()
    start = time.monotonic()
    for n, (data, count) in enumerate(itertools.chain([first], bodies)):
        due = start + n / plan.rate if plan.rate else time.monotonic()
        if due > start + plan.seconds:
            break
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # open loop: requests leave on schedule whatever the answers
        # From the batch's due time, not from when it left: one connection sends one batch at a
        # time, so slow answers hold the next batches back, and timing them from their late start
        # would hide that wait (coordinated omission). A batch sent again after a 503 is a new
        # request, timed from its own start.
        sent = due
        while True:
            try:
                status = str(conn.post(data))
            except (OSError, ValueError, IndexError):  # refused, reset, or an answer it cannot read
                status = "error"
                conn.close()
            latencies.append(time.monotonic() - sent)
            answers[status] = answers.get(status, 0) + 1
            if status != "503" or time.monotonic() > start + plan.seconds:
                break
            # Like Alertmanager, send the same batch again after a pause (Alertmanager's is longer).
            time.sleep(RETRY_PAUSE)
            sent = time.monotonic()
        if status.startswith("2"):
            acked += count
    conn.close()
    results.put({"acked": acked, "latencies": latencies, "answers": answers, "cpu_s": _cpu_seconds() - cpu0})


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
