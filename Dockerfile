# Build: docker build -t alerts-processor:0.1.0 .
# Runs with a read-only root filesystem: mount writable volumes at /run/metrics, /data and /tmp.
FROM python:3.11.14-slim-bookworm AS build
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /venv \
    && /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r requirements.txt

FROM python:3.11.14-slim-bookworm
RUN groupadd --gid 10001 app \
    && useradd --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app \
    && mkdir -p /run/metrics /data \
    && chown app:app /run/metrics /data
COPY --from=build /venv /venv
WORKDIR /app
COPY wsgi.py gunicorn.conf.py docker/healthcheck.py ./
COPY alerts_processor ./alerts_processor
ENV PATH=/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PROMETHEUS_MULTIPROC_DIR=/run/metrics \
    ALERTS_BIND=0.0.0.0:8080 \
    ALERTS_STORE_URL=sqlite:////data/alerts.db
USER 10001:10001
EXPOSE 8080
VOLUME ["/run/metrics", "/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s CMD ["python", "healthcheck.py"]
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
