"""Sphinx configuration; the settings reference is generated from alerts_processor/config.py at build time."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT))

project = "alerts_processor"
author = "Release Engineer Agent team"
extensions: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = True


def _settings_table(app: Any) -> None:
    """Write _generated/settings.rst from the Settings dataclass, so the docs cannot drift from the code."""
    from alerts_processor.config import Settings, env_name

    rows = []
    for f in fields(Settings):
        default = "(empty)" if f.default == "" else f"``{f.default}``"
        secret = " *Secret: may be given as a file with* ``_FILE``." if f.metadata.get("secret") else ""
        rows.append(f"   * - ``{env_name(f.name)}``\n     - {default}\n     - {f.metadata['doc']}.{secret}")
    out = Path(app.srcdir) / "_generated" / "settings.rst"
    out.parent.mkdir(exist_ok=True)
    text = ".. list-table::\n   :header-rows: 1\n   :widths: 30 20 50\n\n   * - variable\n     - default\n     - meaning\n"
    out.write_text(text + "\n".join(rows) + "\n")


def setup(app: Any) -> None:
    app.connect("builder-inited", _settings_table)
