"""The deployment artefacts are valid: Kubernetes manifests (offline schemas), rules, Alertmanager config, Docker."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).parents[2]
K8S = ROOT / "k8s"
K8S_VERSIONS = ("1.30.0", "1.34.0")


def tool(name: str) -> str:
    """A command-line tool, skipping when it is missing (CI installs them and insists: ALERTS_REQUIRE_E2E)."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("ALERTS_REQUIRE_E2E"):
            pytest.fail(f"{name} is not installed but ALERTS_REQUIRE_E2E is set")
        pytest.skip(f"{name} is not installed")
    return found


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def base_resources() -> list[Path]:
    kustomization = documents(K8S / "base" / "kustomization.yaml")[0]
    return [K8S / "base" / name for name in kustomization["resources"]]


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_base_manifests_validate(version: str) -> None:
    paths = base_resources()
    assert {p.name for p in paths} == {p.name for p in (K8S / "base").glob("*.yaml")} - {"kustomization.yaml"}
    for path in paths:
        for document in documents(path):
            kubernetes_validate.validate(document, version, strict=True)


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_sidecar_overlay_validates_once_merged(version: str) -> None:
    overlay = documents(K8S / "overlays" / "sidecar" / "kustomization.yaml")[0]
    (patch_ref,) = overlay["patches"]
    patch = documents(K8S / "overlays" / "sidecar" / patch_ref["path"])[0]
    base = documents(K8S / "base" / "deployment.yaml")[0]
    merged = copy.deepcopy(base)
    # Strategic merge of containers is by name: the patch's containers are new ones here.
    merged["spec"]["template"]["spec"]["containers"] += patch["spec"]["template"]["spec"]["containers"]
    kubernetes_validate.validate(merged, version, strict=True)
    assert [c["name"] for c in merged["spec"]["template"]["spec"]["containers"]] == [
        "alerts-processor", "release-engineer-agent"]  # fmt: skip


def test_example_secret_validates() -> None:
    for document in documents(K8S / "examples" / "secret.yaml"):
        kubernetes_validate.validate(document, K8S_VERSIONS[-1], strict=True)


def test_deployment_probes_and_settings_match_the_service() -> None:
    deployment = documents(K8S / "base" / "deployment.yaml")[0]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    config = documents(K8S / "base" / "configmap.yaml")[0]["data"]
    from alerts_processor.config import Settings

    assert Settings.from_env(config).k8s_mode == "incluster"  # every key is a setting we read


def run(*args: str) -> str:
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


def test_alerting_rules_pass_promtool() -> None:
    assert "SUCCESS: 6 rules found" in run(
        tool("promtool"), "check", "rules", str(K8S / "rules" / "alerts-processor.rules.yml")
    )


def test_alertmanager_example_passes_amtool() -> None:
    run(tool("amtool"), "check-config", str(K8S / "examples" / "alertmanager.yml"))


def test_dockerfile_passes_hadolint() -> None:
    run(tool("hadolint"), str(ROOT / "Dockerfile"))
