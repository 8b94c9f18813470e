"""IK8sClient on the official `kubernetes` client: bounded timeouts, raw JSON, read-only calls."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from alerts_processor.adapters.breaker import CircuitBreaker
from alerts_processor.adapters.k8s_objects import workload_state
from alerts_processor.config import Settings
from alerts_processor.interfaces import IK8sClient, IMetrics
from alerts_processor.models import K8sUnavailable, WorkloadState
from alerts_processor.no_wait import may_wait

log = logging.getLogger(__name__)
# The modules of the API classes used here. The client imports them on first use, and with them
# some 280 pydantic models and a validator for each API method: 21 MB of Python objects. gunicorn's
# master imports them before it forks, so that the workers share one copy instead of making two.
API_MODULES = ("kubernetes.client.api.core_v1_api", "kubernetes.client.api.apps_v1_api")
# Objects per page of a list call. A page is held three times over while it is read (the bytes, the
# parsed JSON, the states made of it): 500 Deployments peaked at 14 MB in a worker, 100 at 5 MB.
LIST_PAGE = 100


class DisabledK8sClient(IK8sClient):
    """No cluster configured: validation is `skipped`, nothing is ever called."""

    @property
    def enabled(self) -> bool:
        return False

    def namespace_exists(self, namespace: str) -> bool:
        raise K8sUnavailable("no Kubernetes cluster configured")

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        raise K8sUnavailable("no Kubernetes cluster configured")

    def list_replicasets(
        self, namespace: str, selector: Mapping[str, str], revision: str | None = None
    ) -> Sequence[WorkloadState]:
        raise K8sUnavailable("no Kubernetes cluster configured")

    def list_workloads(self, namespace: str, kind: str) -> Sequence[WorkloadState]:
        raise K8sUnavailable("no Kubernetes cluster configured")


class KubernetesClient(IK8sClient):
    """Reads namespaces and workloads; 404 means absent, anything else wrong is K8sUnavailable."""

    def __init__(
        self,
        api_client: client.ApiClient,
        connect_timeout: float,
        read_timeout: float,
        metrics: IMetrics,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self._metrics = metrics
        self._core = client.CoreV1Api(api_client)
        self._apps = client.AppsV1Api(api_client)
        self._timeout = (connect_timeout, read_timeout)
        self._breaker = breaker or CircuitBreaker(threshold=0, cooldown=0)
        self._forbidden_logged: set[str] = set()
        self._log_lock = threading.Lock()
        self._readers: dict[str, Callable[..., Any]] = {
            "Deployment": self._apps.read_namespaced_deployment,
            "StatefulSet": self._apps.read_namespaced_stateful_set,
            "DaemonSet": self._apps.read_namespaced_daemon_set,
            "ReplicaSet": self._apps.read_namespaced_replica_set,
            "Pod": self._core.read_namespaced_pod,
        }
        self._listers: dict[str, Callable[..., Any]] = {
            "Deployment": self._apps.list_namespaced_deployment,
            "ReplicaSet": self._apps.list_namespaced_replica_set,
            "Pod": self._core.list_namespaced_pod,
        }

    @property
    def enabled(self) -> bool:
        return True

    def namespace_exists(self, namespace: str) -> bool:
        return self._get("Namespace", self._core.read_namespace, namespace) is not None

    def read_workload(self, namespace: str, kind: str, name: str) -> WorkloadState | None:
        reader = self._readers.get(kind)
        if reader is None:
            raise K8sUnavailable(f"unsupported kind {kind}", outage=False)
        body = self._get(kind, reader, name, namespace)
        return None if body is None else workload_state(kind, body)

    def list_replicasets(
        self, namespace: str, selector: Mapping[str, str], revision: str | None = None
    ) -> Sequence[WorkloadState]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        body = self._get("ReplicaSet", self._apps.list_namespaced_replica_set, namespace, label_selector=label_selector)
        items = (body or {}).get("items") or []
        return [workload_state("ReplicaSet", item) for item in items if isinstance(item, dict)]

    def list_workloads(self, namespace: str, kind: str) -> Sequence[WorkloadState]:
        lister = self._listers.get(kind)
        if lister is None:
            raise K8sUnavailable(f"listing {kind} is not supported", outage=False)
        states: list[WorkloadState] = []
        token: str | None = None
        while True:  # in pages, so a namespace of thousands never comes as one huge answer
            body = self._get(kind, lister, namespace, limit=LIST_PAGE, _continue=token)
            items = (body or {}).get("items") or []
            states += [workload_state(kind, item) for item in items if isinstance(item, dict)]
            token = ((body or {}).get("metadata") or {}).get("continue") or None
            if token is None:
                return states

    def _get(self, kind: str, method: Callable[..., Any], *args: str, **kwargs: object) -> Mapping[str, Any] | None:
        may_wait("a Kubernetes API call")  # without a cache in front, reads come straight here
        try:
            self._breaker.before_call()
        except K8sUnavailable:
            self._metrics.k8s_call(kind, "circuit_open")
            raise
        try:
            body = self._call(kind, method, *args, **kwargs)
        except K8sUnavailable as trouble:
            self._breaker.failed(trouble)
            if trouble.reason == "forbidden":
                self._log_forbidden_once(kind)
            raise
        self._breaker.succeeded()
        return body

    def _call(self, kind: str, method: Callable[..., Any], *args: str, **kwargs: object) -> Mapping[str, Any] | None:
        # _preload_content=False: we read a few fields from the JSON ourselves, which is far
        # cheaper than the client's model deserialisation.
        try:
            response = method(*args, _preload_content=False, _request_timeout=self._timeout, **kwargs)
            self._metrics.k8s_call(kind, str(response.status))
            body = orjson.loads(response.data)
        except ApiException as exc:
            self._metrics.k8s_call(kind, str(exc.status))
            if exc.status == 404:
                return None
            raise K8sUnavailable(_api_reason(exc.status), outage=exc.status is None or exc.status >= 429) from None
        except urllib3.exceptions.HTTPError as exc:
            reason = _transport_reason(exc)
            self._metrics.k8s_call(kind, "timeout" if "timed out" in reason else "error")
            raise K8sUnavailable(reason) from None
        except ValueError:
            raise K8sUnavailable("malformed response from the Kubernetes API") from None
        if not isinstance(body, dict):
            raise K8sUnavailable("malformed response from the Kubernetes API")
        return body

    def _log_forbidden_once(self, kind: str) -> None:
        with self._log_lock:
            if kind in self._forbidden_logged:
                return
            self._forbidden_logged.add(kind)
        log.error(
            "Kubernetes API forbids reading this kind; grant get/list in the ClusterRole (k8s/rbac.yaml)",
            extra={"kind": kind},
        )


def _api_reason(status: int | None) -> str:
    if status == 403:
        return "forbidden"
    if status == 401:
        return "unauthorized"
    return f"Kubernetes API answered {status}"


def _transport_reason(exc: Exception) -> str:
    text = str(exc).lower()
    if "timed out" in text or "timeout" in text:
        return "Kubernetes API timed out"
    return "Kubernetes API unreachable"


def build_k8s_client(settings: Settings, metrics: IMetrics) -> IK8sClient:
    """The client ALERTS_K8S_MODE asks for; `auto` falls back to disabled when nothing is configured."""
    mode = settings.k8s_mode
    if mode == "off":
        return DisabledK8sClient()
    configuration = client.Configuration()
    loaded = None
    if mode in ("auto", "incluster"):
        loaded = _try(_incluster, configuration, settings, required=mode == "incluster")
    if loaded is None and mode in ("auto", "kubeconfig"):
        loaded = _try(_kubeconfig, configuration, settings, required=mode == "kubeconfig")
    if loaded is None:
        log.warning("no Kubernetes configuration found; validation is skipped", extra={"k8s_mode": mode})
        return DisabledK8sClient()
    # The client's token refresh hook assigns the host again before every request, and with it
    # resolves the proxy from the environment again (half a millisecond of CPU a call). The host
    # never changes: keep the proxy resolved at load time (setting it stops the re-resolution).
    configuration.proxy = configuration.proxy
    # Retry only what may succeed soon (429 and 5xx), briefly; never a refused connection or a timeout,
    # so a dead API server costs one bounded timeout per call and cannot stall the pool.
    configuration.retries = urllib3.Retry(
        total=2,
        connect=0,
        read=0,
        status=2,
        backoff_factor=0.1,
        status_forcelist=(429, 500, 502, 503, 504),
        allowed_methods=("GET",),
        raise_on_status=False,
        respect_retry_after_header=False,
    )
    configuration.connection_pool_maxsize = max(settings.pipeline_threads, 4)
    log.info("Kubernetes client configured", extra={"k8s_mode": mode, "k8s_host": configuration.host})
    breaker = CircuitBreaker(settings.k8s_breaker_threshold, settings.k8s_breaker_cooldown)
    return KubernetesClient(
        client.ApiClient(configuration), settings.k8s_connect_timeout, settings.k8s_read_timeout, metrics, breaker
    )


def _incluster(configuration: client.Configuration, settings: Settings) -> None:
    config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]


def _kubeconfig(configuration: client.Configuration, settings: Settings) -> None:
    config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=settings.kubeconfig or None,
        context=settings.kube_context or None,
        client_configuration=configuration,
    )


def _try(
    load: Callable[[client.Configuration, Settings], None],
    configuration: client.Configuration,
    settings: Settings,
    required: bool,
) -> bool | None:
    try:
        load(configuration, settings)
    except (ConfigException, OSError, TypeError) as exc:
        if required:
            raise RuntimeError(f"Kubernetes configuration could not be loaded: {exc}") from exc
        return None
    return True
