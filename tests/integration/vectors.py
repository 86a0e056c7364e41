"""The reference implementation's transactions in ../shared/vectors, in posting order."""

import json
import os

VECTORS_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "vectors")


def load_vectors():
    with open(os.path.join(VECTORS_DIR, "_meta.json"), encoding="utf-8") as handle:
        meta = json.load(handle)
    vectors = []
    for name in meta["order"]:
        with open(os.path.join(VECTORS_DIR, f"{name}.json"), encoding="utf-8") as handle:
            vectors.append(json.load(handle))
    return meta, vectors
