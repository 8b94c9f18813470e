"""Load generator processes: realistic Alertmanager payloads, open-loop at a rate or as fast as answered."""

from __future__ import annotations

import hashlib
import http.client
import random
import resource
import time
from dataclasses import dataclass, field
from multiprocessing import Queue
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


def client(index: int, plan: Plan, results: Queue) -> None:  # type: ignore[type-arg]
    """Send until the plan's time is up; report acknowledged alerts, latencies (s) and answers."""
    parts = urlsplit(plan.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    headers = {"Content-Type": "application/json", **plan.headers}
    acked, latencies, answers = 0, [], {}  # type: tuple[int, list[float], dict[str, int]]
    start = time.monotonic()
    for n, body in enumerate(batches(index, plan)):
        due = start + n / plan.rate if plan.rate else time.monotonic()
        if due > start + plan.seconds:
            break
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)  # open loop: requests leave on schedule whatever the answers
        data = orjson.dumps(body)
        while True:
            sent = time.monotonic()
            try:
                conn.request("POST", parts.path, data, headers)
                response = conn.getresponse()
                response.read()
                status = str(response.status)
            except (OSError, http.client.HTTPException):
                status = "error"
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
            latencies.append(time.monotonic() - sent)
            answers[status] = answers.get(status, 0) + 1
            if status != "503" or time.monotonic() > start + plan.seconds:
                break
            # Like Alertmanager, send the same batch again after a pause (Alertmanager's is longer).
            time.sleep(RETRY_PAUSE)
        if status.startswith("2"):
            acked += len(body["alerts"])
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process's own: the CPU the load took from the server
    results.put({"acked": acked, "latencies": latencies, "answers": answers, "cpu_s": usage.ru_utime + usage.ru_stime})
