"""The benchmark (`make bench`): the service under load, end to end, beside a minimal floor app."""
