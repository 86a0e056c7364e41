"""GET /blocks/<id>?status=, GET /blocks?tx_id=&status= and GET /votes?block_id=&voter=."""

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import create_tx, json_error, write_block


@pytest.fixture(scope="module")
def blocks(web_node):
    """One transaction in three blocks: VALID, UNDECIDED and INVALID (as after a requeue).

    Each block holds another transaction too, so that the three differ.
    """
    owner = generate_key_pair()
    tx = create_tx(owner)
    made = {"INVALID": write_block(web_node.ledger, [tx, create_tx(owner)], valid=False),
            "UNDECIDED": write_block(web_node.ledger, [tx, create_tx(owner)]),
            "VALID": write_block(web_node.ledger, [tx, create_tx(owner)], valid=True)}
    return tx, made


def test_a_block_is_served_when_it_has_the_status_asked_for(web_node, blocks):
    _, made = blocks
    for status, block in made.items():
        for query in (f"?status={status}", f"?status={status.lower()}"):
            response = requests.get(f"{web_node.api}/blocks/{block.id}/{query}")
            assert response.status_code == 200, response.text
            assert response.json() == block.to_dict()


def test_a_block_is_asked_for_as_valid_by_default(web_node, blocks):
    _, made = blocks
    assert requests.get(f"{web_node.api}/blocks/{made['VALID'].id}").status_code == 200
    message = json_error(requests.get(f"{web_node.api}/blocks/{made['UNDECIDED'].id}"), 404)
    assert "UNDECIDED" in message and "VALID" in message


def test_a_block_of_another_status_or_unknown_is_404(web_node, blocks):
    _, made = blocks
    assert "INVALID" in json_error(requests.get(f"{web_node.api}/blocks/{made['INVALID'].id}?status=VALID"), 404)
    assert "b" * 64 in json_error(requests.get(f"{web_node.api}/blocks/{'b' * 64}?status=INVALID"), 404)


def test_blocks_holding_a_transaction(web_node, blocks):
    tx, made = blocks
    response = requests.get(f"{web_node.api}/blocks?tx_id={tx.id}")
    assert response.status_code == 200
    assert sorted(b["id"] for b in response.json()) == sorted(b.id for b in made.values())
    for status, block in made.items():
        response = requests.get(f"{web_node.api}/blocks/?tx_id={tx.id}&status={status}")
        assert response.json() == [block.to_dict()]


def test_no_block_holds_an_unknown_transaction(web_node):
    response = requests.get(f"{web_node.api}/blocks?tx_id={'c' * 64}")
    assert response.status_code == 200 and response.json() == []


def test_blocks_without_tx_id_is_400_saying_it_is_required(web_node):
    for query in ("", "?status=VALID"):
        assert "tx_id" in json_error(requests.get(f"{web_node.api}/blocks{query}"), 400)


def test_votes_on_a_block(web_node, blocks):
    _, made = blocks
    block_id = made["VALID"].id
    response = requests.get(f"{web_node.api}/votes?block_id={block_id}")
    assert response.status_code == 200
    [vote] = response.json()
    assert vote["node_pubkey"] == web_node.ledger.me
    assert vote["vote"]["voting_for_block"] == block_id and vote["vote"]["is_block_valid"] is True
    assert requests.get(f"{web_node.api}/votes/?block_id={block_id}&voter={web_node.ledger.me}").json() == [vote]
    other = generate_key_pair().public_key
    assert requests.get(f"{web_node.api}/votes?block_id={block_id}&voter={other}").json() == []
    assert requests.get(f"{web_node.api}/votes?block_id={made['UNDECIDED'].id}").json() == []


def test_votes_without_block_id_is_400(web_node):
    assert "block_id" in json_error(requests.get(f"{web_node.api}/votes"), 400)
    assert "block_id" in json_error(requests.get(f"{web_node.api}/votes?voter={web_node.ledger.me}"), 400)
