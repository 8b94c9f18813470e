"""gunicorn settings, read from the same ALERTS_* environment as the app."""

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
# The control socket (gunicorn 24+) lives at a fixed per-user path; several servers on one host would clash.
control_socket_disable = True
errorlog = "-"
loglevel = _settings.log_level.lower()


def worker_exit(server: object, worker: object) -> None:
    """Drain the worker's queue and close its store before it exits (SIGTERM, max-requests...)."""
    from flask import Flask

    from alerts_processor.app import shutdown_app

    app = getattr(worker, "wsgi", None)  # the loaded wsgi:app
    if isinstance(app, Flask):
        shutdown_app(app)
