"""GET /statuses/<tx_id|block_id>: 200 with the status, 303 to the resource once it is in the chain."""

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import create_tx, json_error, write_block


@pytest.fixture(scope="module")
def ledger(web_node):
    """A transaction in the backlog, and one in each of a VALID, an UNDECIDED and an INVALID block."""
    owner = generate_key_pair()
    txs = {status: create_tx(owner) for status in ("backlog", "valid", "undecided", "invalid")}
    response = requests.post(f"{web_node.api}/transactions", json=txs["backlog"].to_dict())
    assert response.status_code == 202
    blocks = {"valid": write_block(web_node.ledger, [txs["valid"]], valid=True),
              "undecided": write_block(web_node.ledger, [txs["undecided"]]),
              "invalid": write_block(web_node.ledger, [txs["invalid"]], valid=False)}
    return txs, blocks


def status(node, resource_id, slash=""):
    return requests.get(f"{node.api}/statuses/{resource_id}{slash}", allow_redirects=False)


@pytest.mark.parametrize("slash", ["", "/"])
@pytest.mark.parametrize("state", ["backlog", "invalid"])
def test_a_transaction_not_in_the_chain_has_a_200_status(web_node, ledger, state, slash):
    response = status(web_node, ledger[0][state].id, slash)
    assert response.status_code == 200
    assert response.json() == {"status": state}
    assert "Location" not in response.headers


@pytest.mark.parametrize("state", ["valid", "undecided"])
def test_a_transaction_in_the_chain_is_a_303_to_the_transaction(web_node, ledger, state):
    tx = ledger[0][state]
    response = status(web_node, tx.id)
    assert response.status_code == 303
    assert response.json() == {"status": state}
    assert response.headers["Location"] == f"{web_node.api}/transactions/{tx.id}"
    followed = requests.get(response.headers["Location"])
    assert followed.status_code == 200 and followed.json() == tx.to_dict()


@pytest.mark.parametrize("state, query", [("valid", ""), ("undecided", "?status=UNDECIDED")])
def test_a_block_in_the_chain_is_a_303_to_a_block_url_that_resolves(web_node, ledger, state, query):
    block = ledger[1][state]
    response = status(web_node, block.id)
    assert response.status_code == 303
    assert response.json() == {"status": state}
    assert response.headers["Location"] == f"{web_node.api}/blocks/{block.id}{query}"
    followed = requests.get(response.headers["Location"])
    assert followed.status_code == 200 and followed.json() == block.to_dict()


def test_an_invalid_block_has_a_200_status(web_node, ledger):
    response = status(web_node, ledger[1]["invalid"].id)
    assert response.status_code == 200 and response.json() == {"status": "invalid"}


def test_the_genesis_block_is_valid(web_node):
    genesis = web_node.ledger.connection.get_genesis_block()
    assert status(web_node, genesis["id"]).json() == {"status": "valid"}


def test_an_unknown_id_is_404(web_node):
    assert "a" * 64 in json_error(status(web_node, "a" * 64), 404)


@pytest.mark.parametrize("bad_id", ["xyz", "a" * 63, "a" * 65, "A" * 64, "g" * 64])
def test_an_id_that_is_not_64_lowercase_hex_digits_is_400(web_node, bad_id):
    assert "hex" in json_error(status(web_node, bad_id), 400)
