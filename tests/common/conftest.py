"""Fixtures of the protocol-layer tests: the reference vectors and known keys."""

import copy
from collections import namedtuple

import pytest

from bigchaindb.common.crypto import CryptoKeypair
from bigchaindb.common.transaction import condition_uri_for
from tests.vectors import load_meta, load_vectors

# docs/protocol.md §8
U1 = CryptoKeypair("8eJ8q9ZQpReWyQT5aFCiwtZ5wDZC4eDnCen88p3tQ6ie", "JEAkEJqLbbgDRAtMm8YAjGp759Aq2qTn9eaEHUj2XePE")
U2 = CryptoKeypair("F86PQPiqMTwM2Qi2Sda3U4Vdh3AgadMdX3KNVsu5wNJr", "GDxwMFbwdATkQELZbMfW8bd9hbNYMZLyVXA3nur2aNbE")

Vector = namedtuple("Vector", "name expect tx depends_on")


VECTORS = {raw["name"]: Vector(raw["name"], raw["expect"], raw["tx"], raw["depends_on"]) for raw in load_vectors()}
VECTOR_KEYS = {name: CryptoKeypair(k["private"], k["public"]) for name, k in load_meta()["keys"].items()}


def vector_tx(name):
    """A deep copy of vector ``name``'s transaction dict (tests may mutate it)."""
    return copy.deepcopy(VECTORS[name].tx)


def spent_condition_uris(tx):
    """The condition URI each fulfillment of ``tx`` must meet, as the ledger would give it.

    A CREATE's come from its owners_before; a TRANSFER's from the outputs it
    spends, looked up among the vectors.  An output found nowhere (the
    "missing input" vector) yields the URI of the fulfillment's owners_before,
    i.e. the best case a node without that output could assume.
    """
    if tx.operation != "TRANSFER":
        return tx.input_condition_uris()
    by_id = {v.tx["id"]: v.tx for v in VECTORS.values()}
    uris = []
    for ffill in tx.fulfillments:
        spent = by_id.get(ffill.tx_input.txid)
        if spent is None:
            uris.append(condition_uri_for(ffill.owners_before))
        else:
            uris.append(spent["transaction"]["conditions"][ffill.tx_input.cid]["condition"]["uri"])
    return uris


@pytest.fixture
def alice():
    return VECTOR_KEYS["alice"]


@pytest.fixture
def bob():
    return VECTOR_KEYS["bob"]


@pytest.fixture
def carol():
    return VECTOR_KEYS["carol"]
