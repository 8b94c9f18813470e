"""Alerts Processor: turns Alertmanager webhook batches into enriched, durable alert records."""
