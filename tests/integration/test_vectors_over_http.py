"""The shared vectors posted in order to a running node, as a 0.8 client would."""

import requests

from bigchaindb.common.transaction import Transaction
from tests.helpers import same_values
from tests.vectors import load_float_vectors, load_vectors


def test_every_vector_is_judged_as_expected(node):
    for vector in load_vectors():
        tx = vector["tx"]
        response = node.post(tx)
        if vector["expect"] == "valid":
            assert response.status_code == 202, (vector["name"], response.text)
            assert response.headers["Location"].endswith(f"/api/v1/statuses/{tx['id']}")
            node.wait_for_status(tx["id"], "valid")
        else:
            assert response.status_code == 400, (vector["name"], response.text)
            body = response.json()
            assert body["status"] == 400 and body["message"], vector["name"]
            assert node.status(tx["id"]) is None, vector["name"]


def test_the_reference_transactions_with_floats_become_valid(node):
    """Posted as the reference wrote them; read back with every float a float, under the same id."""
    for vector in load_float_vectors():
        tx = vector["tx"]
        response = node.post(tx)
        assert response.status_code == 202, (vector["name"], response.text)
        node.wait_for_status(tx["id"], "valid")
        read = requests.get(f"{node.api}/transactions/{tx['id']}", timeout=10).json()
        assert same_values(read, tx), vector["name"]
        assert Transaction.from_dict(read).id == tx["id"]
