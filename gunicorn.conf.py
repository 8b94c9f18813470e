"""gunicorn settings, read from the same ALERTS_* environment as the app."""

import ctypes
import gc
import importlib
import os
import ssl
import tempfile
from pathlib import Path
from typing import Any

from alerts_processor.config import Settings

_settings = Settings.from_env()

bind = _settings.bind
workers = _settings.web_workers
worker_class = "gthread"
threads = _settings.web_threads
graceful_timeout = _settings.graceful_timeout
timeout = 60
# No preload_app: store clients, pools and threads are created in each worker after the fork.
preload_app = False
accesslog = None
errorlog = "-"
loglevel = _settings.log_level.lower()
# The control socket (gunicorn 24+) lives at a fixed per-user path; several servers on one host would clash.
control_socket_disable = True

if _settings.tls_cert:
    certfile = _settings.tls_cert
    keyfile = _settings.tls_key
    if _settings.tls_client_ca:
        ca_certs = _settings.tls_client_ca
        cert_reqs = ssl.CERT_REQUIRED

# Metrics of all workers are merged from files in this directory; it must be set before any worker
# imports prometheus_client, and emptied of a previous run's files.
_METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
if not os.environ.get(_METRICS_DIR):
    os.environ[_METRICS_DIR] = tempfile.mkdtemp(prefix="alerts-processor-metrics-")

# glibc gives threads that allocate at once malloc arenas of their own (up to 8 per core), and what
# is freed stays spread over them: with the workers' 20-odd threads the server held 8 MB more (PSS,
# 244 against 236 MB in the benchmark's cold-cache phase) than with 2 arenas, for the same
# throughput. Set here, in the master before any thread starts, the limit is inherited by the
# forked workers. An explicit MALLOC_ARENA_MAX in the environment (read by glibc itself) wins;
# without glibc's mallopt, nothing is done.
_mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
if _mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:
    _mallopt(-8, 2)  # M_ARENA_MAX
# glibc serves a block of 128 KiB or more (a Kubernetes list page, a large body) from a mapping of
# its own, returned on free; but each such free raises that threshold, up to 32 MB, and later
# blocks of that size then stay in the heap, which keeps their pages. A fixed threshold: 3 MB
# less after two minutes of the cold-cache load (three alternated pairs, 1.4-4.3 each), the same
# throughput. Inherited by the forked workers, like the arena limit.
if _mallopt is not None and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
    _mallopt(-3, 128 * 1024)  # M_MMAP_THRESHOLD

# Import the application's code (not the app: no I/O) in the master, once: the workers fork with it
# loaded and share its pages, instead of each importing its own copy. The container is built and
# wired here too (nothing in it is called before a worker's create_app), so that no worker copies
# the pages wiring reads. Frozen, the objects are never scanned by a worker's garbage collector,
# which would otherwise copy their pages into the worker.
for _module in ("alerts", "errors", "health", "openapi", "webhook"):
    importlib.import_module(f"alerts_processor.blueprints.{_module}")
if _settings.k8s_mode != "off":  # what the Kubernetes client would import in each worker on first use
    for _module in importlib.import_module("alerts_processor.adapters.kubernetes").API_MODULES:
        importlib.import_module(_module)
importlib.import_module("alerts_processor.app").prebuild_container()
gc.freeze()


def on_starting(server: object) -> None:
    """Forget the metrics of a previous server that used the same directory."""
    for stale in Path(os.environ[_METRICS_DIR]).glob("*.db"):
        stale.unlink()


def child_exit(server: object, worker: object) -> None:
    """A dead worker's live gauges (queue depth) must stop counting."""
    from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

    GunicornInternalPrometheusMetrics.mark_process_dead_on_child_exit(getattr(worker, "pid", 0))


def pre_request(worker: object, req: Any) -> None:
    """Close a keep-alive connection after ALERTS_KEEPALIVE_REQUESTS requests (nginx's keepalive_requests).

    A client that keeps its connection open, as Alertmanager does, stays with the worker that
    accepted it: with a few connections, one worker can hold them all while the other idles (the
    benchmark saw a phase with three clients run on one worker). The answer says `Connection:
    close`; the client connects again, and the idle worker, waiting in accept, most likely takes it.
    """
    if req.req_number % _settings.keepalive_requests == 0:
        req.force_close()


def post_worker_init(worker: object) -> None:
    """Tune the interpreter of a worker once its app is loaded.

    The garbage collector: the kubernetes client alone brings hundreds of thousands of objects,
    and every full collection walked them all; frozen, they are never scanned, and a higher first
    threshold makes collections rarer under the many short-lived objects of each batch.
    The GIL keeps Python's 5 ms switch interval. 1 ms once helped the group commit and the
    acknowledgements, which waited for the GIL while pool threads computed; since the group commit
    got cheaper, 1 ms cost about 4% more CPU per alert under full load (7 of 10 alternated runs),
    for no better acknowledgement latency at 2,000 alerts/s.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def worker_exit(server: object, worker: object) -> None:
    """Drain the worker's queue and close its store before it exits (SIGTERM, max-requests...)."""
    from flask import Flask

    from alerts_processor.app import shutdown_app

    app = getattr(worker, "wsgi", None)  # the loaded wsgi:app
    if isinstance(app, Flask) and "container" in app.extensions:
        shutdown_app(app)
