"""GET /outputs: each output of a key on its own, spent or not."""

import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from tests.helpers import json_error, write_block


def test_a_payment_and_its_change_to_one_key_are_told_apart(web_node):
    alice, bob = generate_key_pair(), generate_key_pair()
    create = Transaction.create([alice.public_key], [([alice.public_key], 3), ([alice.public_key, bob.public_key], 2)],
                                asset=Asset(divisible=True)).sign([alice.private_key])
    spend = Transaction.transfer(create.to_inputs([0]), [([bob.public_key], 3)], create.asset.id).sign(
        [alice.private_key])
    write_block(web_node.ledger, [create], valid=True)
    write_block(web_node.ledger, [spend], valid=True)

    def outputs(key, unspent=None):
        params = {"public_key": key, **({} if unspent is None else {"unspent": unspent})}
        response = requests.get(f"{web_node.api}/outputs", params=params)
        assert response.status_code == 200, response.text
        return [(o["transaction_id"], o["output_index"], o["amount"], o["owners_after"]) for o in response.json()]

    shared = (create.id, 1, 2, [alice.public_key, bob.public_key])
    assert outputs(alice.public_key) == [(create.id, 0, 3, [alice.public_key]), shared]
    assert outputs(alice.public_key, "true") == [shared]
    assert outputs(alice.public_key, "false") == [(create.id, 0, 3, [alice.public_key])]
    assert outputs(bob.public_key, "true") == [shared, (spend.id, 0, 3, [bob.public_key])]
    # the 0.8 query keeps the whole transaction while any output of the key in it is unspent
    fulfilled = requests.get(f"{web_node.api}/transactions", params={"owners_after": alice.public_key,
                                                                     "fulfilled": "false"}).json()
    assert [tx["id"] for tx in fulfilled] == [create.id]
    assert requests.get(f"{web_node.api}/outputs", params={"public_key": alice.public_key}).json()[0][
        "asset_id"] == create.asset.id


def test_outputs_needs_a_public_key_and_a_boolean(web_node):
    assert "public_key is required" in json_error(requests.get(f"{web_node.api}/outputs"), 400)
    assert "unspent" in json_error(requests.get(f"{web_node.api}/outputs",
                                                params={"public_key": generate_key_pair().public_key,
                                                        "unspent": "maybe"}), 400)
