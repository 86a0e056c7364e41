"""The reference implementation's transactions, kept in tests/data/vectors.

Every test that uses the vectors loads them through here (see the README
beside them for where they come from).
"""

import json
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent / "data" / "vectors"


def load_meta():
    """``_meta.json``: the posting order and the keys the vectors were made with."""
    assert VECTORS_DIR.is_dir(), f"the reference vectors are missing: {VECTORS_DIR}"
    return json.loads((VECTORS_DIR / "_meta.json").read_text(encoding="utf-8"))


def load_vectors():
    """Every vector (its ``name``, ``expect``, ``tx``, ``depends_on``...), in posting order."""
    return [json.loads((VECTORS_DIR / f"{stem}.json").read_text(encoding="utf-8"))
            for stem in load_meta()["order"]]
