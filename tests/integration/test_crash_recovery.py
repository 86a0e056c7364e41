"""A 202 means stored: SIGKILL every process right after it and lose nothing."""

from concurrent.futures import ThreadPoolExecutor

import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from tests.helpers import wait_until

COUNT = 200


def test_transactions_survive_sigkill(node):
    owner = generate_key_pair()
    txs = [Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({"i": i}))
           .sign([owner.private_key]).to_dict() for i in range(COUNT)]
    with ThreadPoolExecutor(8) as pool:
        codes = [r.status_code for r in pool.map(node.post, txs)]
    assert codes == [202] * COUNT
    node.kill()

    node.start()
    wait_until(lambda: all(node.status(tx["id"]) == "valid" for tx in txs), 60,
               "not every accepted transaction became valid after the restart")
    for tx in txs:
        blocks = requests.get(f"{node.api}/blocks", params={"tx_id": tx["id"], "status": "VALID"}).json()
        assert len(blocks) == 1, (tx["id"], len(blocks))
