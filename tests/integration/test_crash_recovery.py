"""A 202 means stored: SIGKILL every process right after it and lose nothing."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from tests.engines import ENGINES, store_config
from tests.helpers import wait_until
from tests.integration.node import Node
from tests.rethinkdb_server import RethinkDBServer

COUNT = 200


@pytest.fixture(params=ENGINES)
def crashable(request, tmp_path):
    """``(node, server)``: a started node and, on RethinkDB, a server of the
    test's own that the power cut takes down too (None on SQLite, whose
    store is the node's own file)."""
    server = None
    if request.param == "rethinkdb":
        server = RethinkDBServer(str(tmp_path)).start()
        database = {**server.database_config, "name": "bigchain"}
    else:
        database = store_config("sqlite", tmp_path, request)
    node = Node(str(tmp_path), "node", database).start()
    yield node, server
    node.stop()
    if server is not None:
        server.remove()


def test_transactions_survive_sigkill(crashable):
    node, server = crashable
    owner = generate_key_pair()
    txs = [Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({"i": i}))
           .sign([owner.private_key]).to_dict() for i in range(COUNT)]
    with ThreadPoolExecutor(8) as pool:
        codes = [r.status_code for r in pool.map(node.post, txs)]
    assert codes == [202] * COUNT
    node.kill()
    if server is not None:
        server.kill()
        server.start()
    node.start()
    wait_until(lambda: all(node.status(tx["id"]) == "valid" for tx in txs), 60,
               "not every accepted transaction became valid after the restart")
    for tx in txs:
        blocks = requests.get(f"{node.api}/blocks", params={"tx_id": tx["id"], "status": "VALID"}).json()
        assert len(blocks) == 1, (tx["id"], len(blocks))
    assert "Traceback" not in node.log()  # no stage died of a store that was not ready yet


def new_tx():
    owner = generate_key_pair()
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({})).sign([owner.private_key])


def test_a_node_carries_on_after_its_rethinkdb_server_restarts(tmp_path):
    """RethinkDB only: the embedded store has no server to lose.  Every
    process of the node (web workers, the four stages and their change
    feeds) reconnects on its own; no operator restarts the node."""
    server = RethinkDBServer(str(tmp_path)).start()
    node = Node(str(tmp_path), "node", {**server.database_config, "name": "bigchain"}).start()
    try:
        before = new_tx()
        assert node.post(before.to_dict()).status_code == 202
        node.wait_for_status(before.id, "valid")
        server.kill()
        server.start()
        after = new_tx()
        wait_until(lambda: node.post(after.to_dict()).status_code == 202, 30,
                   "the node did not accept a transaction after its RethinkDB server came back")
        node.wait_for_status(after.id, "valid")
        assert node.status(before.id) == "valid"
        assert "Traceback" not in node.log()
    finally:
        node.stop()
        server.remove()
