"""HTTP endpoints as Flask blueprints (the container is wired into this package)."""
