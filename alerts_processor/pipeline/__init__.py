"""The processing pipeline: sanitize, validate, enrich, store, on a bounded thread pool."""
