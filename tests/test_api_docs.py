"""docs/api.md is what a live node answers today (regenerate it when this fails)."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPE = re.compile(r"^(### .*|`(GET|POST) .*`|HTTP/1\.1 \d{3} .*)$", re.MULTILINE)


def shape(text):
    """Section titles, requests and status lines, with ids (which vary by run) blanked out."""
    return [re.sub(r"[0-9a-f]{64}", "<id>", line[0]) for line in SHAPE.findall(text)]


def test_api_docs_match_a_live_node(tmp_path):
    output = tmp_path / "api.md"
    subprocess.run([sys.executable, str(ROOT / "docs" / "generate_api_docs.py"), "-o", str(output)],
                   check=True, capture_output=True, timeout=120)
    committed = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert shape(output.read_text(encoding="utf-8")) == shape(committed), \
        "docs/api.md is stale: run .venv/bin/python docs/generate_api_docs.py"
