"""docs/transactions.md: its Python examples run, in order, as a reader would run them."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "transactions.md"


def test_the_examples_in_the_transactions_guide_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 6
    namespace = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "does not match its contents" in capsys.readouterr().out
    assert namespace["merge"].to_dict()["transaction"]["conditions"][0]["amount"] == 10
