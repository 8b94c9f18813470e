"""The app over real HTTP: webhook intake, read API, health, and every error answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from alerts_processor.adapters.sqlite import SqliteAlertsRepository
from alerts_processor.adapters.sqlite_schema import sqlite_path
from alerts_processor.config import Settings
from tests import kube_api as k
from tests.conftest import LiveServer
from tests.fakes import HeldValidator, InMemoryAlertsRepository
from tests.helpers import alert, payload, sample, wait_until

WEBHOOK = "/webhooks/alertmanager"
Serve = Callable[..., LiveServer]


def post(server: LiveServer, document: Any, **kwargs: Any) -> requests.Response:
    return requests.post(server.url + WEBHOOK, json=document, timeout=10, **kwargs)


def records(server: LiveServer, min_count: int = 1) -> list[dict[str, Any]]:
    return server.records(min_count)


def test_sample_batch_is_stored(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    response = post(server, sample("app-batch-mixed"))
    assert response.status_code == 202
    assert response.json()["accepted"] == 3 and response.json()["status"] == "accepted"
    stored = records(server, 3)
    by_fp = {r["fingerprint"]: r for r in stored}
    assert set(by_fp) == {"17fa7f46e7be7b99", "e29106e96cb5ceb6", "25e6034c4e0e91b3"}
    resolved = by_fp["25e6034c4e0e91b3"]
    assert resolved["status"] == "resolved" and resolved["ends_at"] == "2026-11-29T21:31:42.871000Z"
    assert resolved["starts_at"] == "2026-11-29T20:58:12.000000Z"
    assert resolved["validation"] == {"status": "skipped", "reason": "no Kubernetes cluster configured"}
    assert resolved["receiver"] == "release-engineer-agent" and resolved["notifications"] == 1
    assert resolved["labels"]["pod"] == "web-7b9f5c6d4-klmno" and resolved["annotations"]["value"] == "0.051"
    for key in (
        "id",
        "alertname",
        "severity",
        "namespace",
        "deployment",
        "group_key",
        "enrichment",
        "first_received_at",
        "last_received_at",
    ):
        assert key in resolved
    one = requests.get(f"{server.url}/api/v1/alerts/{resolved['id']}", timeout=5)
    assert one.status_code == 200
    detail = one.json()
    assert detail.pop("history") == [{"received_at": resolved["first_received_at"], "status": "resolved"}]
    assert detail == resolved


def test_redeliveries_make_one_record(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    document = sample("kube-pod-crashlooping")
    for _ in range(5):
        assert post(server, document).status_code == 202
    wait_until(lambda: records(server)[0]["notifications"] == 5)
    resolved = json.loads(json.dumps(document))
    resolved["status"] = resolved["alerts"][0]["status"] = "resolved"
    resolved["alerts"][0]["endsAt"] = "2026-11-29T22:00:00Z"
    post(server, resolved)
    wait_until(lambda: records(server)[0]["status"] == "resolved")
    (record,) = records(server)
    assert record["notifications"] == 6 and record["ends_at"] == "2026-11-29T22:00:00.000000Z"


def test_validation_and_enrichment_against_the_api_server(
    serve: Serve, settings: Settings, tmp_path: Path, kube_api: k.FakeKubeApi
) -> None:
    kube_api.add(k.namespace("billing"), k.deployment("billing", "ledger", replicas=2, ready=1, revision="9"))
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    server = serve(settings.with_overrides(k8s_mode="kubeconfig", kubeconfig=str(kubeconfig)))
    post(server, sample("kube-deployment-replicas-mismatch"))
    (record,) = records(server)
    assert record["validation"] == {"status": "valid", "reason": None}
    assert record["deployment"] == "ledger" and record["workload"] == {"kind": "Deployment", "name": "ledger"}
    assert record["enrichment"]["replicas"]["ready"] == 1 and record["enrichment"]["rollout"]["revision"] == "9"


def expect_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["error"] == code and body["detail"]
    return body


def test_bad_input_gets_clear_json_errors(serve: Serve, settings: Settings) -> None:
    server = serve(settings.with_overrides(max_body_bytes=20_000, max_batch_alerts=5))
    url = server.url + WEBHOOK
    expect_error(
        requests.post(url, data="{}", headers={"Content-Type": "text/plain"}, timeout=5), 415, "unsupported_media_type"
    )
    expect_error(
        requests.post(url, data="{", headers={"Content-Type": "application/json"}, timeout=5), 400, "invalid_json"
    )
    expect_error(
        requests.post(url, data=b"\xff\xfe", headers={"Content-Type": "application/json"}, timeout=5),
        400,
        "invalid_json",
    )
    expect_error(
        requests.post(url, data="[" * 5000 + "]" * 5000, headers={"Content-Type": "application/json"}, timeout=5),
        400,
        "invalid_json",
    )
    body = expect_error(
        post(server, {"version": "4", "status": "firing", "receiver": "r", "alerts": [{}]}), 422, "invalid_payload"
    )
    assert "payload.alerts[0]" in body["detail"]
    expect_error(post(server, sample("app-batch-mixed") | {"version": "3"}), 422, "unsupported_version")
    expect_error(
        requests.post(url, data=b" " * 30_000, headers={"Content-Type": "application/json"}, timeout=5),
        413,
        "request_entity_too_large",
    )
    expect_error(post(server, sample("truncated-group")), 413, "too_many_alerts")
    expect_error(requests.get(url, timeout=5), 405, "method_not_allowed")
    expect_error(requests.get(server.url + "/api/v1/alerts/unknown", timeout=5), 404, "not_found")
    expect_error(requests.get(server.url + "/api/v1/alerts?limit=0", timeout=5), 400, "invalid_parameter")
    expect_error(requests.get(server.url + "/nowhere", timeout=5), 404, "not_found")
    assert requests.get(server.url + "/api/v1/alerts", timeout=5).json()["count"] == 0


def test_store_down_gives_503_with_retry_after(serve: Serve, settings: Settings) -> None:
    store = InMemoryAlertsRepository()
    server = serve(settings, repository=store)
    assert requests.get(server.url + "/readyz", timeout=5).status_code == 200
    store.down = True
    response = post(server, sample("kube-pod-crashlooping"))
    expect_error(response, 503, "store_unavailable")
    assert response.headers["Retry-After"] == "5"
    expect_error(requests.get(server.url + "/readyz", timeout=5), 503, "store_unavailable")
    assert requests.get(server.url + "/healthz", timeout=5).json() == {"status": "ok"}
    store.down = False
    assert post(server, sample("kube-pod-crashlooping")).status_code == 202
    wait_until(lambda: len(store.records) == 1)


def drain_then_accept_again(server: LiveServer, validator: HeldValidator, stored: int) -> None:
    """Let the held alerts through: once they are stored, the server is ready and takes a batch again."""
    validator.release.set()
    records(server, stored)
    wait_until(lambda: requests.get(server.url + "/readyz", timeout=5).status_code == 200)
    assert post(server, sample("kube-pod-crashlooping")).status_code == 202
    records(server, stored + 1)


def test_full_queue_gives_503_then_recovers(serve: Serve, settings: Settings) -> None:
    validator = HeldValidator()
    server = serve(settings.with_overrides(queue_max=3), validator=validator)
    assert post(server, sample("app-batch-mixed")).status_code == 202
    response = post(server, sample("kube-pod-crashlooping"))
    expect_error(response, 503, "queue_full")
    assert response.headers["Retry-After"]
    expect_error(requests.get(server.url + "/readyz", timeout=5), 503, "queue_full")
    drain_then_accept_again(server, validator, stored=3)


def test_a_group_larger_than_the_queue_is_taken_alone(serve: Serve, settings: Settings) -> None:
    # Alertmanager sends a whole group in one body: one bigger than the queue is taken once it is empty.
    validator = HeldValidator()
    server = serve(settings.with_overrides(queue_max=3), validator=validator)
    big = payload(*[alert(seq=str(i)) for i in range(5)])
    assert post(server, big).status_code == 202
    expect_error(post(server, sample("kube-pod-crashlooping")), 503, "queue_full")
    drain_then_accept_again(server, validator, stored=5)


def test_a_big_group_waits_for_an_empty_queue(serve: Serve, settings: Settings) -> None:
    validator = HeldValidator()
    server = serve(settings.with_overrides(queue_max=3), validator=validator)
    assert post(server, sample("kube-pod-crashlooping")).status_code == 202
    response = post(server, payload(*[alert(seq=str(i)) for i in range(5)]))
    expect_error(response, 503, "queue_full")  # Alertmanager sends it again; nothing is lost
    validator.release.set()
    records(server, 1)
    wait_until(lambda: requests.get(server.url + "/readyz", timeout=5).status_code == 200)
    assert post(server, payload(*[alert(seq=str(i)) for i in range(5)])).status_code == 202
    records(server, 6)


def test_abandoned_inbox_entries_are_replayed(serve: Serve, settings: Settings) -> None:
    # A batch acknowledged by a worker that died before processing it: its lease has expired.
    store = SqliteAlertsRepository(sqlite_path(settings.store_url))
    past = datetime.now(UTC) - timedelta(minutes=5)
    store.add_inbox("dead-worker-batch", json.dumps(sample("app-batch-mixed")).encode(), past, past)
    store.close()
    server = serve(settings.with_overrides(inbox_sweep_interval=0.05))
    assert len(records(server, 3)) == 3
    store = SqliteAlertsRepository(sqlite_path(settings.store_url))
    try:
        wait_until(lambda: store.pending_inbox() == 0, message="inbox drained")
    finally:
        store.close()


def test_readyz_reports_queue(serve: Serve, settings: Settings) -> None:
    body = requests.get(serve(settings).url + "/readyz", timeout=5).json()
    assert body == {"status": "ready", "queue": {"depth": 0, "max": settings.queue_max}}


def test_bad_timestamp_alert_does_not_block_the_batch(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    document = payload(alert(namespace="prod", deployment="a"), alert(starts_at="garbage", deployment="b"))
    assert post(server, document).status_code == 202
    assert len(records(server)) == 1
