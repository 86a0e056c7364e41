"""Three node processes sharing one store: votes, and a rogue block voted out."""

import requests

from bigchaindb import backend
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from tests.helpers import wait_until


def new_create(owner, data):
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset(data)).sign([owner.private_key])


def blocks_of(member, tx_id, status=None):
    params = {"tx_id": tx_id} if status is None else {"tx_id": tx_id, "status": status}
    return requests.get(f"{member.api}/blocks", params=params).json()


def votes_on(member, block_id):
    return requests.get(f"{member.api}/votes", params={"block_id": block_id}).json()


def test_every_block_gets_a_vote_from_every_node(three_nodes):
    owner = generate_key_pair()
    txs = [new_create(owner, {"i": i}) for i in range(6)]
    for index, tx in enumerate(txs):  # post through every node
        assert three_nodes[index % 3].post(tx.to_dict()).status_code == 202
    for tx in txs:
        three_nodes[0].wait_for_status(tx.id, "valid")
    block_ids = {block["id"] for tx in txs for block in blocks_of(three_nodes[1], tx.id, "VALID")}
    voters = {member.public_key for member in three_nodes}
    for block_id in block_ids:
        wait_until(lambda: len(votes_on(three_nodes[2], block_id)) == 3, 10, f"block {block_id} lacks votes")
        assert {vote["node_pubkey"] for vote in votes_on(three_nodes[2], block_id)} == voters


def test_rogue_block_is_voted_out_and_its_valid_transactions_requeued(three_nodes):
    rogue = three_nodes[0]
    owner = generate_key_pair()
    good = new_create(owner, {"good": True}).to_dict()
    bad = new_create(owner, {"bad": True}).to_dict()
    bad["transaction"]["metadata"] = {"id": "3f5f2d3e-5a8c-4b8e-9d3a-1c2b3a4d5e6f", "data": {"forged": 1}}

    # a federation member writes a block straight to the store, skipping validation
    connection = backend.connect(rogue.config["database"])
    bigchain = Bigchain.from_config(rogue.config, connection)
    block = bigchain.create_block([good, bad])
    bigchain.write_block(block)

    statuses = lambda: requests.get(f"{rogue.api}/statuses/{block.id}", allow_redirects=False).json()["status"]
    wait_until(lambda: statuses() == "invalid", 20, "the rogue block was not decided INVALID")
    assert all(vote["vote"]["is_block_valid"] is False for vote in votes_on(rogue, block.id))

    three_nodes[1].wait_for_status(good["id"], "valid")
    valid_blocks = blocks_of(three_nodes[2], good["id"], "VALID")
    assert len(valid_blocks) == 1 and valid_blocks[0]["id"] != block.id
    wait_until(lambda: three_nodes[2].status(bad["id"]) == "invalid", 10, "the forged transaction was not dropped")
