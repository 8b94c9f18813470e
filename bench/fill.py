"""Fill a store with generated episodes in SQL (fast: a million rows in seconds), for query plans and timings."""

from __future__ import annotations


def sqlite_rows(rows: int) -> str:
    """INSERT of `rows` episodes over 30 namespaces, 20 alertnames and 10 workloads per namespace."""
    severity = "CASE i % 3 WHEN 0 THEN 'critical' ELSE 'warning' END"
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows - 1})
    INSERT INTO alerts SELECT printf('%016x-%d', i, i), printf('%016x', i), 'Alert' || (i % 20), {severity},
        'firing', 'ns' || (i % 30), 'svc' || (i % 10), 'Deployment', 'svc' || (i % 10),
        strftime('%Y-%m-%dT%H:%M:%f000Z', '2026-01-01', '+' || (i * 60) || ' seconds'), NULL,
        json_object('alertname', 'Alert' || (i % 20), 'severity', {severity}, 'pod', 'svc' || (i % 10) || '-' || i),
        '{{}}', '', 'r', 'g', 'valid', NULL, NULL, 1,
        strftime('%Y-%m-%dT%H:%M:%f000Z', '2026-01-01', '+' || (i * 61) || ' seconds'),
        strftime('%Y-%m-%dT%H:%M:%f000Z', '2026-01-01', '+' || (i * 61) || ' seconds'), NULL
    FROM n
    """


def sqlite_tied_rows(rows: int, namespace: str) -> str:
    """INSERT of `rows` episodes that started in the same microsecond, newer than all of sqlite_rows().

    As when one rule evaluation fires for every pod of a large Deployment: a page of them is sorted by id.
    """
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {rows - 1})
    INSERT INTO alerts SELECT printf('%016x-tied', i + 1000000000), printf('%016x', i + 1000000000), 'Tied',
        'warning', 'firing', '{namespace}', 'big', 'Deployment', 'big', '2031-01-01T00:00:00.000000Z', NULL,
        json_object('alertname', 'Tied', 'pod', 'big-' || i), '{{}}', '', 'r', 'g', 'valid', NULL, NULL, 1,
        '2031-01-01T00:00:00.000000Z', '2031-01-01T00:00:00.000000Z', NULL
    FROM n
    """


def postgres_rows(rows: int) -> str:
    """The same episodes for PostgreSQL."""
    severity = "CASE i % 3 WHEN 0 THEN 'critical' ELSE 'warning' END"
    return f"""
    INSERT INTO alerts SELECT lpad(to_hex(i), 16, '0') || '-' || i, lpad(to_hex(i), 16, '0'), 'Alert' || (i % 20),
        {severity}, 'firing', 'ns' || (i % 30), 'svc' || (i % 10), 'Deployment', 'svc' || (i % 10),
        timestamptz '2026-01-01' + i * interval '1 minute', NULL,
        jsonb_build_object('alertname', 'Alert' || (i % 20), 'severity', {severity},
                           'pod', 'svc' || (i % 10) || '-' || i),
        '{{}}', '', 'r', 'g', 'valid', NULL, NULL, 1,
        timestamptz '2026-01-01' + i * interval '61 seconds', timestamptz '2026-01-01' + i * interval '61 seconds'
    FROM generate_series(0, {rows - 1}) AS i
    """
