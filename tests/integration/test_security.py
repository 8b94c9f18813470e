"""Authentication, input limits, request ids and metrics, over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import requests

from alerts_processor.config import Settings
from tests.conftest import LiveServer
from tests.helpers import alert, payload, sample, wait_until

Serve = Callable[..., LiveServer]
WEBHOOK = "/webhooks/alertmanager"


def basic(user_password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(user_password.encode()).decode()}


def post(server: LiveServer, document: Any = None, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(server.url + WEBHOOK, json=document or sample("kube-pod-crashlooping"), headers=headers,
                         timeout=5)  # fmt: skip


def test_bearer_token_guards_the_webhook(serve: Serve, settings: Settings) -> None:
    server = serve(settings.with_overrides(webhook_token="s3cret-token"))
    for headers in (None, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic czNjcmV0LXRva2Vu"}):
        response = post(server, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="alerts_processor"'
    assert post(server, headers={"Authorization": "Bearer s3cret-token"}).status_code == 202


def test_basic_auth_or_token_when_both_are_set(serve: Serve, settings: Settings) -> None:
    server = serve(settings.with_overrides(webhook_token="tok", webhook_basic_auth="am:pass:word"))
    denied = post(server, headers=basic("am:nope"))
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"] == 'Bearer realm="alerts_processor", Basic realm="alerts_processor"'
    assert post(server, headers=basic("am:pass:word")).status_code == 202
    assert post(server, headers={"Authorization": "Bearer tok"}).status_code == 202
    assert post(server, headers={"Authorization": "Basic !!!not-base64"}).status_code == 401


def test_read_api_has_its_own_token(serve: Serve, settings: Settings) -> None:
    server = serve(settings.with_overrides(webhook_token="hook", api_token="reader"))
    assert requests.get(server.url + "/api/v1/alerts", timeout=5).status_code == 401
    hook = {"Authorization": "Bearer hook"}
    assert requests.get(server.url + "/api/v1/alerts", headers=hook, timeout=5).status_code == 401
    reader = {"Authorization": "Bearer reader"}
    assert requests.get(server.url + "/api/v1/alerts", headers=reader, timeout=5).status_code == 200
    assert post(server, headers=reader).status_code == 401  # and the reader cannot write
    for open_path in ("/healthz", "/readyz", "/metrics"):
        assert requests.get(server.url + open_path, timeout=5).status_code == 200


@pytest.mark.parametrize(("document", "status", "code", "where"), [
    (payload(alert(**{f"l{i}": "v" for i in range(70)})), 422, "invalid_payload", "payload.alerts[0].labels"),
    (payload(alert(big="x" * 5000)), 422, "invalid_payload", "payload.alerts[0].labels.big"),
    (payload(alert() | {"annotations": {"d": "x" * 20000}}), 422, "invalid_payload", "annotations.d"),
    (payload(alert() | {"extra": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}), 422,
     "too_deep", "nested deeper than 32"),
    (payload(*[alert(seq=str(i)) for i in range(11)]), 413, "too_many_alerts", "payload.alerts"),
])  # fmt: skip
def test_input_limits(serve: Serve, settings: Settings, document: Any, status: int, code: str, where: str) -> None:
    server = serve(settings.with_overrides(max_batch_alerts=10))
    response = post(server, document)
    assert response.status_code == status and response.json()["error"] == code
    assert where in response.json()["detail"]


def test_operator_like_label_names_are_stored_as_data(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    labels = {"$where": "sleep(1000)", "a.b": "dotted", "namespace": "prod", "$gt": ""}
    assert post(server, payload(alert(**labels))).status_code == 202
    (record,) = server.records()
    assert {k: record["labels"][k] for k in labels} == labels


def test_request_ids_are_echoed_or_made(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    given = post(server, headers={"X-Request-Id": "am-7f3a.1"})
    assert given.headers["X-Request-Id"] == "am-7f3a.1"
    made = post(server, headers={"X-Request-Id": "<script>\u00e9" + "x" * 100})
    assert made.headers["X-Request-Id"] != "<script>" and len(made.headers["X-Request-Id"]) == 32


def test_metrics_are_exported(serve: Serve, settings: Settings) -> None:
    server = serve(settings)
    post(server, sample("app-batch-mixed"))
    post(server, "not a payload")
    server.records(3)
    expected = (
        'alerts_processor_alerts_received_total{receiver="release-engineer-agent",status="firing"} 2.0',
        'alerts_processor_alerts_received_total{receiver="release-engineer-agent",status="resolved"} 1.0',
        'alerts_processor_webhook_rejections_total{reason="invalid_payload"} 1.0',
        'alerts_processor_alerts_processed_total{outcome="stored",validation="skipped"} 3.0',
        'alerts_processor_stage_duration_seconds_count{stage="store"} ',  # one per group commit
        "alerts_processor_queue_depth 0.0",
    )

    def exported() -> str | None:  # per-alert metrics are flushed once a second
        text = requests.get(server.url + "/metrics", timeout=5).text
        return text if all(line in text for line in expected) else None

    text = wait_until(exported, message="the metrics of the batch")
    assert "flask_http_request_duration_seconds_count" in text
