"""gunicorn entry point: `gunicorn -c gunicorn.conf.py wsgi:app`."""

from alerts_processor.app import create_app

app = create_app()
