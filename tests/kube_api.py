"""A fake Kubernetes API server over HTTP, serving real object shapes, with call counts and faults."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

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


class FakeKubeApi:
    """Holds objects by API path; counts GETs per path; injects faults by path prefix."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.calls: Counter[str] = Counter()
        self.faults: dict[str, Fault] = {}
        self.latency = 0.0
        self.tokens: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

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
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": token}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
        }
        path.write_text(json.dumps(config))  # JSON is YAML: the client's loader reads it as is
        return path

    def _answer(self, path: str, authorization: str | None) -> tuple[int, bytes, float]:
        with self._lock:
            self.calls[path] += 1
            if authorization:
                self.tokens.append(authorization)
            fault = next((f for prefix, f in self.faults.items() if path.startswith(prefix)), None)
            obj = self.objects.get(path)
            latency = self.latency
        if fault is not None:
            body = fault.body if fault.body is not None else json.dumps(status_object(fault.status, path)).encode()
            return fault.status, body, latency + fault.latency
        if obj is None:
            return 404, json.dumps(status_object(404, path)).encode(), latency
        return 200, json.dumps(obj).encode(), latency

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                status, body, latency = api._answer(self.path.split("?")[0], self.headers.get("Authorization"))
                if latency:
                    time.sleep(latency)  # the simulated API latency, not a test waiting for work
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


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


def replicaset(ns: str, deployment_name: str, pod_hash: str, *, revision: str = "1", replicas: int = 3) -> Obj:
    name = f"{deployment_name}-{pod_hash}"
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": _meta(
            name,
            ns,
            labels={"app": deployment_name, "pod-template-hash": pod_hash},
            annotations={"deployment.kubernetes.io/revision": revision},
            ownerReferences=_owner("Deployment", deployment_name, ns),
        ),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"pod-template-hash": pod_hash}},
            "template": {"spec": {"containers": [{"name": deployment_name, "image": "x"}]}},
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
