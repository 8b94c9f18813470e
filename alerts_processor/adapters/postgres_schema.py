"""PostgreSQL schema migrations, applied in order at start under an advisory lock."""

from __future__ import annotations

import psycopg

# Append only: each entry is one schema version; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE alerts (
        id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, alertname TEXT NOT NULL, severity TEXT NOT NULL,
        status TEXT NOT NULL, namespace TEXT, deployment TEXT, workload_kind TEXT, workload_name TEXT,
        starts_at TIMESTAMPTZ NOT NULL, ends_at TIMESTAMPTZ, labels JSONB NOT NULL, annotations JSONB NOT NULL,
        generator_url TEXT NOT NULL, receiver TEXT NOT NULL, group_key TEXT NOT NULL,
        validation_status TEXT NOT NULL, validation_reason TEXT, enrichment JSONB,
        notifications INTEGER NOT NULL, first_received_at TIMESTAMPTZ NOT NULL,
        last_received_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX alerts_starts_at ON alerts (starts_at DESC, id DESC);
    CREATE INDEX alerts_fingerprint ON alerts (fingerprint);
    CREATE INDEX alerts_workload ON alerts (namespace, workload_kind, workload_name, starts_at DESC);
    CREATE INDEX alerts_labels ON alerts USING GIN (labels jsonb_path_ops);
    CREATE TABLE deliveries (
        delivery_id TEXT PRIMARY KEY, alert_id TEXT NOT NULL, status TEXT NOT NULL,
        received_at TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX deliveries_alert ON deliveries (alert_id, received_at);
    CREATE TABLE inbox (
        id TEXT PRIMARY KEY, body BYTEA NOT NULL, received_at TIMESTAMPTZ NOT NULL,
        leased_until TIMESTAMPTZ NOT NULL, attempts INTEGER NOT NULL DEFAULT 1,
        state TEXT NOT NULL DEFAULT 'pending', reason TEXT
    );
    CREATE INDEX inbox_pending ON inbox (state, leased_until);
    CREATE TABLE dead_letters (
        delivery_id TEXT PRIMARY KEY, raw TEXT NOT NULL, reason TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL
    );
    """,
    # 2: the indexes of the query API (filters on namespace, workload, alertname; order by last_received_at).
    """
    CREATE INDEX alerts_last_received ON alerts (last_received_at DESC, id DESC);
    CREATE INDEX alerts_namespace ON alerts (namespace, starts_at DESC, id DESC);
    CREATE INDEX alerts_alertname ON alerts (alertname, starts_at DESC, id DESC);
    DROP INDEX alerts_workload;
    CREATE INDEX alerts_workload ON alerts (namespace, workload_kind, workload_name, starts_at DESC, id DESC);
    CREATE INDEX alerts_suspect ON alerts (((enrichment->'release'->>'suspect')));
    """,
)

_LOCK_KEY = 0x616C657274  # "alert": one migration at a time across workers and replicas


def migrate(conn: psycopg.Connection[object]) -> int:
    """Bring the schema to the latest version; returns the version now in place."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        current = int(row[0]) if row else 0  # type: ignore[index]
        for version, sql in enumerate(MIGRATIONS[current:], start=current + 1):
            conn.execute(sql)
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
    return len(MIGRATIONS)
