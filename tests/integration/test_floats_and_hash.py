"""Real nodes over real HTTP: 0.8 clients' floats, and the ``hash`` setting.

* The flow 0.8 drivers' users wrote (an asset holding ``time.time()``, then
  a TRANSFER with float metadata) becomes valid, on the embedded store and
  on RethinkDB, and reads back with the same ids.
* A client posting ``12.50`` gets the id of ``12.5``.
* A node with ``hash: keccak_256`` makes its blocks and votes with
  Keccak-256 and validates Keccak-id transactions; a node refuses to start
  on a store made under the other setting.
"""

import hashlib
import json
import subprocess
import time

import requests

from bigchaindb.common.crypto import generate_key_pair, hash_data, use_hash, verify
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import serialize
from bigchaindb.config import write_file
from tests.helpers import node_config, node_environment, same_values
from tests.integration.node import BIGCHAINDB, Node


def driver_flow():
    """A CREATE whose asset data holds time.time() and a TRANSFER with float metadata, as 0.8 clients made them."""
    alice, bob = generate_key_pair(), generate_key_pair()
    create = Transaction.create([alice.public_key], [([alice.public_key], 1)],
                                asset=Asset({"created": time.time(), "position": [52.52, 13.405], "count": 1,
                                             "weight": 1.0}),
                                metadata={"price": 12.5}).sign([alice.private_key])
    transfer = Transaction.transfer(create.to_inputs(), [([bob.public_key], 1)], create.asset.id,
                                    metadata={"paid_at": time.time(), "fee": 0.0, "rate": 1e-7}
                                    ).sign([alice.private_key])
    return create.to_dict(), transfer.to_dict()


def post_and_confirm(node, txs):
    for tx in txs:
        response = node.post(tx)
        assert response.status_code == 202, response.text
        node.wait_for_status(tx["id"], "valid")
        read = requests.get(f"{node.api}/transactions/{tx['id']}", timeout=10).json()
        assert same_values(read, tx)


def test_the_driver_flow_with_floats_becomes_valid(node):
    """On each engine: RethinkDB would hand 1.0 back as 1 (another id) if its engine did not keep floats."""
    create, transfer = driver_flow()
    post_and_confirm(node, [create, transfer])
    found = requests.get(f"{node.api}/transactions", params={"asset_id": create["transaction"]["asset"]["id"]},
                         timeout=10).json()
    found.sort(key=lambda tx: tx["transaction"]["operation"])  # CREATE, TRANSFER
    assert len(found) == 2 and all(same_values(tx, sent) for tx, sent in zip(found, [create, transfer]))


def test_a_posted_12_50_has_the_id_of_12_5(node):
    alice = generate_key_pair()
    tx = Transaction.create([alice.public_key], [([alice.public_key], 1)],
                            asset=Asset({"price": 12.5})).sign([alice.private_key]).to_dict()
    body = json.dumps(tx).replace('"price": 12.5', '"price": 12.50')
    assert '"price": 12.50' in body
    response = requests.post(f"{node.api}/transactions", data=body,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 202, response.text
    node.wait_for_status(tx["id"], "valid")


def test_a_keccak_node_makes_keccak_blocks_and_votes(tmp_path, store, keccak):
    """Under ``keccak``, this test process makes its ids with Keccak-256, as a client of that node does."""
    node = Node(str(tmp_path), "node", store, hash="keccak_256").start()
    try:
        create, transfer = driver_flow()
        post_and_confirm(node, [create, transfer])
        (block,) = requests.get(f"{node.api}/blocks", params={"tx_id": transfer["id"]}, timeout=10).json()
        body = serialize(block["block"])
        assert block["id"] == hash_data(body)  # Keccak-256 here
        assert block["id"] != hashlib.sha3_256(body).hexdigest()
        assert verify(node.public_key, block["signature"], body)
        votes = requests.get(f"{node.api}/votes", params={"block_id": block["id"]}, timeout=10).json()
        assert [vote["vote"]["voting_for_block"] for vote in votes] == [block["id"]]
        assert votes[0]["vote"]["is_block_valid"] is True

        # a transaction with a SHA3-256 id is not one this node can take
        use_hash("sha3_256")
        try:
            sha3_create, _ = driver_flow()
        finally:
            use_hash("keccak_256")
        response = node.post(sha3_create)
        assert response.status_code == 400 and "does not match its contents" in response.json()["message"]
    finally:
        node.stop()


def test_a_node_refuses_a_store_of_the_other_hash(tmp_path, store):
    config = node_config(str(tmp_path), database=store)
    path = str(tmp_path / "config.json")

    def run(*args):
        write_file(config, path)
        return subprocess.run([BIGCHAINDB, "-c", path, *args], capture_output=True, text=True, timeout=60,
                              env=node_environment())

    made = run("init")
    assert made.returncode == 0, made.stderr
    config["hash"] = "keccak_256"
    refused = run("start")
    assert refused.returncode != 0
    assert "made with hash sha3_256" in refused.stderr and "hash setting is keccak_256" in refused.stderr
