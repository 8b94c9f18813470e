"""Every ALERTS_* setting, typed, with its default; the only module that reads the environment."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

K8S_MODES = ("auto", "incluster", "kubeconfig", "off")


def _setting(default: Any, doc: str, secret: bool = False) -> Any:
    # Secrets stay out of repr(): settings may end up in a log line or a traceback.
    return field(default=default, repr=not secret, metadata={"doc": doc, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Service settings; field `foo_bar` is read from ALERTS_FOO_BAR (or the file named by ALERTS_FOO_BAR_FILE)."""

    bind: str = _setting("127.0.0.1:8080", "gunicorn listen address (host:port)")
    web_workers: int = _setting(2, "gunicorn worker processes")
    web_threads: int = _setting(8, "request threads per gunicorn worker (gthread)")
    graceful_timeout: int = _setting(30, "seconds a worker has to drain its queue on SIGTERM")
    keepalive_requests: int = _setting(100, "requests one keep-alive connection serves before it is closed")
    store_url: str = _setting(
        "sqlite:///var/alerts.db",
        "where records live: sqlite:///path, postgresql://... or mongodb://... (may hold a password)",
        secret=True,
    )
    mongo_database: str = _setting("alerts", "MongoDB database name when the URL names none")
    store_timeout: float = _setting(5.0, "seconds to wait for the store (a lock, a pooled connection) before 503")
    pipeline_threads: int = _setting(8, "size of each worker's ThreadPoolExecutor")
    queue_max: int = _setting(2000, "alerts a worker holds in memory before answering 503")
    max_batch_alerts: int = _setting(10000, "alerts one webhook body may carry (413 beyond)")
    max_body_bytes: int = _setting(8 * 1024 * 1024, "largest webhook body accepted (413 beyond)")
    max_labels: int = _setting(64, "labels (and annotations) one alert may carry (422 beyond)")
    max_label_length: int = _setting(4096, "characters in one label value (422 beyond)")
    max_annotation_length: int = _setting(16384, "characters in one annotation value (422 beyond)")
    max_json_depth: int = _setting(32, "nesting of arrays and objects in a webhook body (422 beyond)")
    webhook_token: str = _setting(
        "", "bearer token Alertmanager must send (http_config.authorization); empty: none", secret=True
    )
    webhook_basic_auth: str = _setting(
        "", "user:password Alertmanager must send (http_config.basic_auth); empty: none", secret=True
    )
    api_token: str = _setting("", "bearer token for /api/v1/*; empty: the read API is open", secret=True)
    tls_cert: str = _setting("", "PEM certificate (chain) file: serve HTTPS")
    tls_key: str = _setting("", "PEM private key file of ALERTS_TLS_CERT")
    tls_client_ca: str = _setting("", "PEM CA file: require client certificates signed by it")
    retry_after: int = _setting(5, "Retry-After seconds sent with a 503")
    inbox_lease: float = _setting(30.0, "seconds an inbox batch is reserved for the worker processing it")
    inbox_sweep_interval: float = _setting(5.0, "seconds between looks for abandoned inbox batches (0: off)")
    retention_days: float = _setting(90.0, "days an episode is kept after its last notification (0: forever)")
    inbox_max_attempts: int = _setting(5, "processing attempts before a batch is set aside as dead")
    k8s_mode: str = _setting("auto", "auto, incluster, kubeconfig or off")
    kubeconfig: str = _setting("", "kubeconfig path for mode kubeconfig/auto (default: $KUBECONFIG or ~/.kube/config)")
    kube_context: str = _setting("", "kubeconfig context (default: the current one)")
    k8s_connect_timeout: float = _setting(1.0, "seconds to connect to the Kubernetes API")
    k8s_read_timeout: float = _setting(2.0, "seconds to wait for a Kubernetes API answer")
    k8s_cache_ttl: float = _setting(5.0, "seconds a Kubernetes read is reused (0: no cache)")
    k8s_stable_ttl: float = _setting(
        300.0, "seconds an existing namespace, pod or ReplicaSet is reused (an owner never changes)"
    )
    k8s_list_after: int = _setting(
        8,
        "distinct Deployments (Pods, ReplicaSets) of one namespace read within a cache TTL after which that "
        "kind is listed in one call instead (0: never)",
    )
    k8s_breaker_threshold: int = _setting(5, "consecutive API outages that open the circuit (0: never)")
    k8s_breaker_cooldown: float = _setting(10.0, "seconds calls fail fast once the circuit is open")
    release_window: float = _setting(1800.0, "seconds after a rollout began during which an alert is suspect")
    log_level: str = _setting("INFO", "DEBUG, INFO, WARNING or ERROR")

    def __post_init__(self) -> None:
        if self.k8s_mode not in K8S_MODES:
            raise ValueError(f"ALERTS_K8S_MODE must be one of {', '.join(K8S_MODES)}, not {self.k8s_mode!r}")
        if 0 < self.inbox_lease <= 2 * self.inbox_sweep_interval:
            raise ValueError(
                "ALERTS_INBOX_LEASE must exceed twice ALERTS_INBOX_SWEEP_INTERVAL (leases are renewed each sweep)"
            )
        if self.webhook_basic_auth and ":" not in self.webhook_basic_auth:
            raise ValueError("ALERTS_WEBHOOK_BASIC_AUTH must be user:password")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("ALERTS_TLS_CERT and ALERTS_TLS_KEY go together")
        if self.tls_client_ca and not self.tls_cert:
            raise ValueError("ALERTS_TLS_CLIENT_CA needs ALERTS_TLS_CERT and ALERTS_TLS_KEY")
        positive = ("web_workers", "web_threads", "keepalive_requests", "pipeline_threads", "queue_max",
                    "max_batch_alerts", "max_body_bytes")  # fmt: skip
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{env_name(name)} must be at least 1")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = _lookup(env, env_name(f.name))
            if raw is not None:
                values[f.name] = _convert(type(f.default), f.name, raw)
        return cls(**values)

    def with_overrides(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests and the app factory use it)."""
        return type(self)(**{**{f.name: getattr(self, f.name) for f in fields(self)}, **changes})


def env_name(field_name: str) -> str:
    """The environment variable behind a settings field."""
    return "ALERTS_" + field_name.upper()


def _lookup(env: Mapping[str, str], name: str) -> str | None:
    # Secrets (a store URL with a password, say) may come from a mounted file instead.
    path = env.get(name + "_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return env.get(name)


def _convert(kind: Callable[[str], Any], name: str, raw: str) -> Any:
    try:
        return kind(raw.strip()) if kind is not str else raw
    except ValueError as exc:
        raise ValueError(f"{env_name(name)}={raw!r} is not a valid {kind.__name__}") from exc
