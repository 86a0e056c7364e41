"""docs/api.md is what a live node answers today (regenerate it when this fails),
and its JavaScript examples run: the generator runs each one with Node
against the live node and fails when one gets another status."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHAPE = re.compile(r"^(### .*|`(GET|POST) .*`|HTTP/1\.1 \d{3} .*)$", re.MULTILINE)


def shape(text):
    """Section titles, requests and status lines, with ids (which vary by run) blanked out."""
    return [re.sub(r"[0-9a-f]{64}", "<id>", line[0]) for line in SHAPE.findall(text)]


def test_api_docs_match_a_live_node_and_the_javascript_runs(tmp_path):
    if not shutil.which("node"):
        pytest.skip("Node.js is not installed: the JavaScript examples cannot be run")
    output = tmp_path / "api.md"
    subprocess.run([sys.executable, str(ROOT / "docs" / "generate_api_docs.py"), "-o", str(output)],
                   check=True, capture_output=True, timeout=120)
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert shape(output.read_text(encoding="utf-8")) == shape(committed), \
        "docs/api.md is stale: run .venv/bin/python docs/generate_api_docs.py"


def test_every_route_is_shown_in_shell_python_and_javascript():
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    sections = committed.count("\n### ")
    for language in ("bash", "python", "javascript"):
        assert committed.count(f"```{language}\n") == sections, language
