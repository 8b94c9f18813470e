"""A fake Kubernetes API server over HTTP, serving real object shapes, with call counts and faults."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

Obj = dict[str, Any]

_APPS = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "ReplicaSet": "replicasets",
}


def object_path(kind: str, name: str, namespace: str | None = None) -> str:
    if kind == "Namespace":
        return f"/api/v1/namespaces/{name}"
    if kind == "Pod":
        return f"/api/v1/namespaces/{namespace}/pods/{name}"
    return f"/apis/apps/v1/namespaces/{namespace}/{_APPS[kind]}/{name}"


@dataclass
class Fault:
    status: int = 500
    body: bytes | None = None
    latency: float = 0.0


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default backlog of 5 refuses bursts of concurrent clients
    daemon_threads = True


class FakeKubeApi:
    """Holds objects by API path; counts GETs per path; injects faults by path prefix."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}
        self.latency = 0.0
        self.tokens: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"  # an IPv4 server's address: a str

    def start(self) -> FakeKubeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, *objects: Obj) -> None:
        with self._lock:
            for obj in objects:
                meta = obj["metadata"]
                self.objects[object_path(obj["kind"], meta["name"], meta.get("namespace"))] = obj

    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    def write_kubeconfig(self, path: Path, token: str = "test-token") -> Path:
        return write_kubeconfig(path, self.url, token)

    def _answer(self, path: str, query: str, authorization: str | None) -> tuple[int, bytes, float]:
        with self._lock:
            self.calls[path] += 1
            if authorization:
                self.tokens.append(authorization)
            fault = next((f for prefix, f in self.faults.items() if path.startswith(prefix)), None)
            obj = self.objects.get(path)
            if obj is None and path.endswith("/replicasets"):
                obj = self._list(path + "/", "ReplicaSetList", query)
            elif obj is None and path.endswith("/deployments"):
                obj = self._list(path + "/", "DeploymentList", query)
            elif obj is None and path.endswith("/pods"):
                obj = self._list(path + "/", "PodList", query)
            latency = self.latency
        if fault is not None:
            body = fault.body if fault.body is not None else json.dumps(status_object(fault.status, path)).encode()
            return fault.status, body, latency + fault.latency
        if obj is None:
            return 404, json.dumps(status_object(404, path)).encode(), latency
        return 200, json.dumps(obj).encode(), latency

    def _list(self, prefix: str, kind: str, query: str) -> Obj:
        params = parse_qs(query)
        wanted = dict(pair.split("=", 1) for pair in params.get("labelSelector", [""])[0].split(",") if pair)
        items = [
            obj
            for path, obj in sorted(self.objects.items())
            if path.startswith(prefix)
            and "/" not in path[len(prefix) :]
            and wanted.items() <= (obj["metadata"].get("labels") or {}).items()
        ]
        metadata: Obj = {"resourceVersion": "1"}
        if "limit" in params:  # pages, as the API server gives them: `continue` names the next one
            start, limit = int(params.get("continue", ["0"])[0]), int(params["limit"][0])
            if start + limit < len(items):
                metadata["continue"] = str(start + limit)
            items = items[start : start + limit]
        api_version = "v1" if kind == "PodList" else "apps/v1"
        return {"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": items}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle and delayed ACKs add
                # 40 ms to every answer (a Go API server has no such delay).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def handle(self) -> None:
                with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                    super().handle()  # a client that died (kill -9 tests) is not the server's failure

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                status, body, latency = api._answer(path, query, self.headers.get("Authorization"))
                if latency:
                    time.sleep(latency)  # the simulated API latency, not a test waiting for work
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (its read timeout): what the latency tests expect

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def write_kubeconfig(path: Path, server: str, token: str | None = None) -> Path:
    """A kubeconfig for `server`; JSON is YAML, so the client's loader reads it as is."""
    user = {"token": token} if token else {}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "fake", "user": user}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
    }
    path.write_text(json.dumps(config))
    return path


def refused_kubeconfig(path: Path) -> Path:
    """A kubeconfig naming a loopback port where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return write_kubeconfig(path, f"http://127.0.0.1:{port}")


def status_object(code: int, path: str) -> Obj:
    """The `Status` body the API server sends with errors."""
    reasons = {404: "NotFound", 403: "Forbidden", 401: "Unauthorized", 429: "TooManyRequests"}
    name = path.rsplit("/", 1)[-1]
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'"{name}" {reasons.get(code, "InternalError").lower()}',
        "reason": reasons.get(code, "InternalError"),
        "details": {"name": name},
        "code": code,
    }


def _meta(name: str, namespace: str | None = None, **extra: Any) -> Obj:
    meta: Obj = {
        "name": name,
        "uid": f"uid-{namespace}-{name}",
        "resourceVersion": "1",
        "creationTimestamp": "2026-11-29T20:00:00Z",
    }
    if namespace:
        meta["namespace"] = namespace
    meta.update({k: v for k, v in extra.items() if v is not None})
    return meta


def _nonzero(**fields: int) -> Obj:
    # The API server omits zero-valued replica counts: absent means 0.
    return {k: v for k, v in fields.items() if v}


def namespace(name: str) -> Obj:
    return {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": _meta(name),
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def deployment(
    ns: str,
    name: str,
    *,
    replicas: int = 3,
    ready: int | None = None,
    available: int | None = None,
    updated: int | None = None,
    current: int | None = None,
    revision: str = "1",
    images: tuple[str, ...] = ("registry.example/app:1.0",),
    generation: int = 1,
    observed_generation: int | None = None,
    paused: bool = False,
    progressing_reason: str = "NewReplicaSetAvailable",
) -> Obj:
    ready = replicas if ready is None else ready
    available = ready if available is None else available
    updated = replicas if updated is None else updated
    current = replicas if current is None else current
    spec: Obj = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {
                "containers": [{"name": f"c{i}" if i else name, "image": image} for i, image in enumerate(images)]
            },
        },
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }
    if paused:
        spec["paused"] = True
    status = _nonzero(
        replicas=current,
        updatedReplicas=updated,
        readyReplicas=ready,
        availableReplicas=available,
        unavailableReplicas=max(replicas - available, 0),
    )
    status["observedGeneration"] = generation if observed_generation is None else observed_generation
    status["conditions"] = [
        {
            "type": "Available",
            "status": "True" if available >= replicas else "False",
            "reason": "MinimumReplicasAvailable",
            "message": "Deployment has minimum availability.",
            "lastUpdateTime": "2026-11-29T20:00:00Z",
            "lastTransitionTime": "2026-11-29T20:00:00Z",
        },
        {
            "type": "Progressing",
            "status": "False" if progressing_reason == "ProgressDeadlineExceeded" else "True",
            "reason": progressing_reason,
            "message": f'ReplicaSet "{name}-abc" is progressing.',
            "lastUpdateTime": "2026-11-29T20:00:00Z",
            "lastTransitionTime": "2026-11-29T20:00:00Z",
        },
    ]
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": _meta(
            name,
            ns,
            generation=generation,
            labels={"app": name},
            annotations={"deployment.kubernetes.io/revision": revision},
        ),
        "spec": spec,
        "status": status,
    }


def _owner(kind: str, name: str, ns: str) -> list[Obj]:
    api = "v1" if kind == "Node" else "apps/v1"
    return [
        {
            "apiVersion": api,
            "kind": kind,
            "name": name,
            "uid": f"uid-{ns}-{name}",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def replicaset(
    ns: str,
    deployment_name: str,
    pod_hash: str,
    *,
    revision: str = "1",
    replicas: int = 3,
    images: tuple[str, ...] = ("registry.example/app:1.0",),
    created: str = "2026-11-29T20:00:00Z",
) -> Obj:
    name = f"{deployment_name}-{pod_hash}"
    labels = {"app": deployment_name, "pod-template-hash": pod_hash}
    meta = _meta(
        name,
        ns,
        labels=labels,
        annotations={"deployment.kubernetes.io/revision": revision},
        ownerReferences=_owner("Deployment", deployment_name, ns),
    )
    meta["creationTimestamp"] = created
    containers = [{"name": f"c{i}" if i else deployment_name, "image": image} for i, image in enumerate(images)]
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": meta,
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": containers}},
        },
        "status": _nonzero(
            replicas=replicas, readyReplicas=replicas, availableReplicas=replicas, fullyLabeledReplicas=replicas
        )
        | {"observedGeneration": 1},
    }


def pod(ns: str, name: str, owner_kind: str | None = None, owner_name: str | None = None) -> Obj:
    meta = _meta(name, ns, ownerReferences=_owner(owner_kind, owner_name, ns) if owner_kind and owner_name else None)
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {"containers": [{"name": "main", "image": "registry.example/app:1.0"}]},
        "status": {"phase": "Running"},
    }


def statefulset(ns: str, name: str, *, replicas: int = 3, ready: int | None = None, revision: str | None = None) -> Obj:
    ready = replicas if ready is None else ready
    rev = revision or f"{name}-5d8f7c9b6"
    return {
        "kind": "StatefulSet",
        "apiVersion": "apps/v1",
        "metadata": _meta(name, ns, generation=2),
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {"spec": {"containers": [{"name": name, "image": f"registry.example/{name}:7"}]}},
        },
        "status": _nonzero(
            replicas=replicas,
            readyReplicas=ready,
            currentReplicas=replicas,
            updatedReplicas=replicas,
            availableReplicas=ready,
        )
        | {"observedGeneration": 2, "currentRevision": rev, "updateRevision": rev},
    }


def daemonset(ns: str, name: str, *, desired: int = 3, ready: int | None = None, generation: int = 4) -> Obj:
    ready = desired if ready is None else ready
    meta = _meta(
        name, ns, generation=generation, annotations={"deprecated.daemonset.template.generation": str(generation)}
    )
    return {
        "kind": "DaemonSet",
        "apiVersion": "apps/v1",
        "metadata": meta,
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {"spec": {"containers": [{"name": name, "image": f"registry.example/{name}:3"}]}},
        },
        "status": _nonzero(
            desiredNumberScheduled=desired,
            currentNumberScheduled=desired,
            numberReady=ready,
            numberAvailable=ready,
            updatedNumberScheduled=desired,
            numberUnavailable=desired - ready,
        )
        | {"observedGeneration": generation},
    }
