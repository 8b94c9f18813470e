"""schemathesis against /openapi.json of the service under gunicorn: no 5xx, every answer as documented."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import Service

pytestmark = pytest.mark.e2e
TOKEN = "schemathesis-token"


def test_api_conforms_to_its_openapi_document(start_service: Callable[..., Service]) -> None:
    # One token for both auth schemes, so schemathesis can also check that wrong credentials are refused.
    service = start_service(ALERTS_API_TOKEN=TOKEN, ALERTS_WEBHOOK_TOKEN=TOKEN, ALERTS_QUEUE_MAX="200")
    config = Path(__file__).parents[1] / "schemathesis.toml"
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(config), "run",
        f"{service.url}/openapi.json", "--checks", "all", "--max-examples", "25", "--generation-deterministic",
        # The stateful phase needs links between operations, which this API does not declare.
        "--phases", "coverage,fuzzing", "--header", f"Authorization: Bearer {TOKEN}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
