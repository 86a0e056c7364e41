"""The reference implementation's transactions, kept in tests/data/vectors.

Every test that uses the vectors loads them through here (see the README
beside them for where they come from).
"""

import json
import struct
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


FLOATS_DIR = VECTORS_DIR / "floats"


def load_float_vectors():
    """The transactions with floats in their asset and metadata data, in posting order."""
    meta = json.loads((FLOATS_DIR / "_meta.json").read_text(encoding="utf-8"))
    return [json.loads((FLOATS_DIR / f"{stem}.json").read_text(encoding="utf-8")) for stem in meta["order"]]


def load_float_texts():
    """``(value, text)`` of every double in ``floats.jsonl``: the value from its IEEE-754 bits,
    the text the reference wrote for it."""
    found = []
    with open(FLOATS_DIR / "floats.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            found.append((struct.unpack(">d", bytes.fromhex(record["bits"]))[0], record["text"]))
    return found
