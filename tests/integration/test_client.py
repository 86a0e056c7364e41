"""The client library (``bigchaindb.client``) against real nodes over HTTP."""

import threading

import pytest

from bigchaindb.client import BadRequest, BigchainDB, ConnectionError, MissingPrivateKeyError, NotFoundError
from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import free_port, wait_until
from tests.integration.node import federation


def wait_valid(bdb, txid, timeout=30):
    wait_until(lambda: bdb.transactions.status(txid)["status"] == "valid", timeout, f"{txid} did not become valid")


def test_the_driver_flow_create_then_transfer(node):
    alice, bob = generate_key_pair(), generate_key_pair()
    with BigchainDB(node.url) as bdb:
        prepared = bdb.transactions.prepare(operation="CREATE", owners_before=alice.public_key,
                                            asset={"data": {"bicycle": "cannondale"}}, metadata={"planet": "earth"})
        assert prepared["transaction"]["fulfillments"][0]["fulfillment"] is None
        create = bdb.transactions.fulfill(prepared, private_keys=alice.private_key)
        assert bdb.transactions.send(create) == create
        wait_valid(bdb, create["id"])
        assert bdb.transactions.retrieve(create["id"]) == create

        transfer = bdb.transactions.fulfill(bdb.transactions.prepare(
            operation="TRANSFER", inputs=bdb.transactions.inputs_of(create),
            asset=create["transaction"]["asset"], owners_after=bob.public_key), private_keys=[alice.private_key])
        bdb.transactions.send(transfer)
        wait_valid(bdb, transfer["id"])

        asset_id = create["transaction"]["asset"]["id"]
        assert [tx["id"] for tx in bdb.transactions.get(asset_id=asset_id, operation="TRANSFER")] == [transfer["id"]]
        assert bdb.outputs.get(bob.public_key, unspent=True) == [
            {"transaction_id": transfer["id"], "output_index": 0, "asset_id": asset_id, "amount": 1,
             "owners_after": [bob.public_key]}]
        assert bdb.outputs.get(alice.public_key, unspent=True) == []
        assert bdb.assets.get(search="Cannondale", limit=5) == [{"id": asset_id, "data": {"bicycle": "cannondale"}}]
        assert bdb.metadata.retrieve(create["transaction"]["metadata"]["id"])["data"] == {"planet": "earth"}
        (block,) = bdb.blocks.get(txid=transfer["id"], status="VALID")
        assert bdb.blocks.retrieve(block["id"])["id"] == block["id"]
        assert [vote["node_pubkey"] for vote in bdb.votes.get(block_id=block["id"])] == [node.public_key]
        assert bdb.info()["public_key"] == node.public_key


def test_divisible_outputs_and_the_nodes_refusals(node):
    alice, bob = generate_key_pair(), generate_key_pair()
    bdb = BigchainDB(node.url, timeout=10)
    create = bdb.transactions.fulfill(bdb.transactions.prepare(
        operation="CREATE", owners_before=[alice.public_key], owners_after=[([alice.public_key], 3),
                                                                            ([bob.public_key], 2)],
        asset={"data": None, "divisible": True}), private_keys=[alice.private_key])
    assert [c["amount"] for c in create["transaction"]["conditions"]] == [3, 2]
    with pytest.raises(MissingPrivateKeyError):
        bdb.transactions.fulfill(bdb.transactions.prepare(operation="CREATE", owners_before=alice.public_key),
                                 private_keys=[bob.private_key])
    tampered = dict(create, id="0" * 64)
    with pytest.raises(BadRequest) as refused:
        bdb.transactions.send(tampered)
    assert refused.value.status_code == 400 and "does not match" in refused.value.message
    with pytest.raises(NotFoundError):
        bdb.transactions.retrieve("f" * 64)


# on SQLite only: the streams know nothing of the engine (tests/integration/test_streams.py)
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_client_follows_the_valid_transactions_of_a_key(node):
    alice, bob = generate_key_pair(), generate_key_pair()
    bdb = BigchainDB(node.url)
    first, second, other = (bdb.transactions.fulfill(bdb.transactions.prepare(
        operation="CREATE", owners_before=owner.public_key, asset={"data": {"n": n}}), owner.private_key)
        for n, owner in enumerate((alice, alice, bob)))
    bdb.transactions.send(first)
    wait_valid(bdb, first["id"])
    events = bdb.streams.valid_transactions(since="0", public_key=alice.public_key)
    replayed = next(events)  # from the start of the ledger: the one before the stream was asked for
    assert (replayed["transaction_id"], replayed["asset_id"]) == (first["id"], first["transaction"]["asset"]["id"])
    bdb.transactions.send(other)
    bdb.transactions.send(second)
    assert next(events)["transaction_id"] == second["id"]  # then live, and only alice's
    events.close()


# on SQLite only: what is tested is the client's round robin, which knows nothing of the engine
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_node_that_does_not_answer_is_skipped(node):
    dead = f"http://127.0.0.1:{free_port()}"
    bdb = BigchainDB(dead, node.url, timeout=5)
    for _ in range(4):  # every other request goes to the dead node first
        assert bdb.info()["public_key"] == node.public_key
    alone = BigchainDB(dead, timeout=1, retries=1)
    with pytest.raises(ConnectionError) as failed:
        alone.info()
    assert dead in str(failed.value) and len(failed.value.errors) == 2


def test_the_client_carries_on_when_a_federation_node_is_killed(tmp_path, store):
    nodes = federation(str(tmp_path), 3, store, backlog_reassign_delay=2)
    for member in nodes:
        member.start()
    try:
        owner = generate_key_pair()
        bdb = BigchainDB(*[member.url for member in nodes], timeout=5)
        sent, errors = [], []

        def post(count):
            for index in range(count):
                tx = bdb.transactions.fulfill(bdb.transactions.prepare(
                    operation="CREATE", owners_before=owner.public_key, asset={"data": {"n": index}}),
                    private_keys=owner.private_key)
                try:
                    bdb.transactions.send(tx)
                    sent.append(tx["id"])
                except Exception as exc:  # noqa: BLE001 (counted and asserted below)
                    errors.append(exc)

        poster = threading.Thread(target=post, args=(60,))
        poster.start()
        wait_until(lambda: len(sent) >= 20, 30, "the client did not get going")
        nodes[1].kill()
        poster.join(120)
        assert errors == [] and len(sent) == 60
        survivors = BigchainDB(nodes[0].url, nodes[2].url)
        for txid in sent:
            wait_valid(survivors, txid, timeout=60)
    finally:
        for member in nodes:
            member.stop()
