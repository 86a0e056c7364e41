"""README's five minute tour, run as written against a real node.

The tour's shell blocks run in order in one bash, in a scratch directory,
with the node's real address in place of localhost:9984 and this
environment's Python in place of .venv/bin/python.
"""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_script(url):
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A five minute tour"):text.index("## The command line")]
    blocks = re.findall(r"```bash\n(.*?)```", tour, flags=re.S)
    script = "set -euo pipefail\n" + "\n".join(blocks)
    return script.replace("http://localhost:9984", url).replace(".venv/bin/python", sys.executable)


def test_the_readme_tour_runs_as_written(node, tmp_path):
    script = tour_script(node.url)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HTTP/1.1 303 SEE OTHER" in done.stdout.upper()
    assert re.search(r"bob holds \[\{'transaction_id': '[0-9a-f]{64}', 'output_index': 0, 'asset_id': '[0-9a-f-]{36}', "
                     r"'amount': 1, 'owners_after': \['\w+'\]\}\]",
                     done.stdout), done.stdout
