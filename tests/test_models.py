"""Blocks and votes: docs/protocol.md §8 vectors V5 and V6, and block checks."""

import pytest

from bigchaindb.common.crypto import generate_key_pair, hash_data
from bigchaindb.common.exceptions import InvalidBlock
from bigchaindb.common.transaction import Asset, Metadata, Transaction
from bigchaindb.common.utils import serialize
from bigchaindb.models import Block, make_vote

U1_PRIVATE, U1 = "8eJ8q9ZQpReWyQT5aFCiwtZ5wDZC4eDnCen88p3tQ6ie", "JEAkEJqLbbgDRAtMm8YAjGp759Aq2qTn9eaEHUj2XePE"
NODE_PRIVATE, NODE = "31Lb1ZGKTyHnmVK3LUMrAUrPNfd4sE2YyBt3UA4A25aA", "4XYfCbabAWVUCbjTmRTFEu2sc3dFEdkse4r6X498B1s8"


@pytest.fixture
def v1():
    asset = Asset({"msg": "Hello BigchainDB!"}, asset_id="dc568f27-a113-46b4-9bd4-43015859e3e3")
    metadata = Metadata({"planet": "earth"}, "3f5f2d3e-5a8c-4b8e-9d3a-1c2b3a4d5e6f")
    return Transaction.create([U1], [([U1], 1)], asset=asset, metadata=metadata).sign([U1_PRIVATE])


@pytest.fixture
def v5(v1):
    return Block([v1.to_dict()], NODE, [NODE], "1480000000").sign(NODE_PRIVATE)


def test_v5_block_id_and_signature(v5):
    assert v5.id == "fea83e74dfdbed6191a3953913dcb4e7cb34215bd9c69f2304e8aaca4b06aa6c"
    assert v5.signature == ("1po9L8sDrP55cgrn3hB3xV8m7zkKYo2R3C91nKCW9NLnAyxP2voFDC69EkB9S7cEvuTyy9q91nQUuLLG"
                            "ykRTffY")


def test_v6_vote_signature(v5):
    vote = make_vote(v5.id, "GENESIS_ID_PLACEHOLDER", True, None, NODE_PRIVATE, NODE, "1480000001")
    assert vote["signature"] == ("5gpkJQXP8TuDcQY5WC4ZQenNnB7SA9BYqspjmr5HXJcZNiXHHNxQmy9YaP65qhv8VQrFE5NL5Dg"
                                 "jHqNsnUH7vb6v")
    assert set(vote) == {"node_pubkey", "signature", "vote"}
    assert set(vote["vote"]) == {"voting_for_block", "previous_block", "is_block_valid", "invalid_reason",
                                 "timestamp"}


def test_block_round_trip(v5):
    block = v5.to_dict()
    assert Block.from_dict(block).to_dict() == block


@pytest.mark.parametrize("tamper, message", [
    (lambda b: b.update(id="0" * 64), "does not match its contents"),
    (lambda b: b["block"].update(timestamp="1480000001"), "does not match its contents"),
    (lambda b: b.update(signature=make_vote("x", "y", True, None, NODE_PRIVATE, NODE)["signature"]),
     "is not signed by its creator"),
    (lambda b: b.update(extra=1), "exactly the keys"),
    (lambda b: b["block"].pop("voters"), "exactly the keys"),
    (lambda b: b["block"].update(transactions="x"), "must be lists"),
])
def test_tampered_blocks_are_refused(v5, tamper, message):
    block = v5.to_dict()
    tamper(block)
    with pytest.raises(InvalidBlock, match=message):
        Block.from_dict(block)


def test_block_signed_by_another_key_is_refused(v1):
    other = generate_key_pair()
    block = Block([v1.to_dict()], NODE, [NODE]).sign(other.private_key).to_dict()
    with pytest.raises(InvalidBlock):
        Block.from_dict(block)


def test_block_id_hashes_the_canonical_body(v5):
    assert v5.id == hash_data(serialize(v5.to_dict()["block"]))
