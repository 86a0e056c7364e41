"""POST /transactions, GET /transactions/<id>[/status] and the GET /transactions queries."""

import json

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Transaction
from tests.helpers import create_tx, json_error, transfer_tx, write_block
from tests.vectors import load_vectors


def post(node, tx, **kwargs):
    return requests.post(f"{node.api}/transactions", json=tx.to_dict(), **kwargs)


def ids(response):
    assert response.status_code == 200, response.text
    return sorted(tx["id"] for tx in response.json())


@pytest.fixture
def alice():
    return generate_key_pair()


def test_post_answers_202_with_the_transaction_and_where_its_status_is(web_node, alice):
    tx = create_tx(alice, data={"msg": "hello"})
    response = post(web_node, tx)
    assert response.status_code == 202, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == tx.to_dict()
    assert response.headers["Location"] == f"{web_node.api}/statuses/{tx.id}"
    status = requests.get(response.headers["Location"])
    assert status.status_code == 200 and status.json() == {"status": "backlog"}


def test_posting_the_same_transaction_twice_is_accepted_twice(web_node, alice):
    tx = create_tx(alice)
    assert post(web_node, tx).status_code == 202
    assert post(web_node, tx).status_code == 202
    write_block(web_node.ledger, [tx], valid=True)
    assert post(web_node, tx).status_code == 202  # a client may retry safely


@pytest.mark.parametrize("content_type", [None, "application/json", "application/json; charset=utf-8",
                                          "Application/JSON; charset=UTF-8"])
def test_post_accepts_json_with_or_without_a_charset_or_no_content_type(web_node, alice, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps(create_tx(alice).to_dict()).encode()
    response = requests.post(f"{web_node.api}/transactions/", data=body, headers=headers)
    assert response.status_code == 202, response.text


def test_a_transaction_in_a_valid_block_has_the_block_timestamp(web_node, alice):
    tx = create_tx(alice)
    block = write_block(web_node.ledger, [tx], valid=True)
    for path in (f"/transactions/{tx.id}", f"/transactions/{tx.id}/"):
        response = requests.get(web_node.api + path)
        assert response.status_code == 200
        assert response.json() == tx.to_dict()
        assert response.headers["X-BigchainDB-Timestamp"] == block.timestamp


def test_a_transaction_in_an_undecided_block_is_served(web_node, alice):
    tx = create_tx(alice)
    block = write_block(web_node.ledger, [tx])
    response = requests.get(f"{web_node.api}/transactions/{tx.id}")
    assert response.status_code == 200
    assert response.headers["X-BigchainDB-Timestamp"] == block.timestamp


def test_a_transaction_not_in_a_valid_or_undecided_block_is_404(web_node, alice):
    in_backlog, in_invalid_block = create_tx(alice), create_tx(alice)
    assert post(web_node, in_backlog).status_code == 202
    write_block(web_node.ledger, [in_invalid_block], valid=False)
    for tx_id in (in_backlog.id, in_invalid_block.id, "f" * 64):
        assert tx_id in json_error(requests.get(f"{web_node.api}/transactions/{tx_id}"), 404)


def test_the_status_route_of_0_8_clients(web_node, alice):
    backlog, valid, undecided, invalid = (create_tx(alice) for _ in range(4))
    assert post(web_node, backlog).status_code == 202
    write_block(web_node.ledger, [valid], valid=True)
    write_block(web_node.ledger, [undecided])
    write_block(web_node.ledger, [invalid], valid=False)
    for tx, status in ((backlog, "backlog"), (valid, "valid"), (undecided, "undecided"), (invalid, "invalid")):
        for path in (f"/transactions/{tx.id}/status", f"/transactions/{tx.id}/status/"):
            response = requests.get(web_node.api + path)
            assert response.status_code == 200 and response.json() == {"status": status}
    json_error(requests.get(f"{web_node.api}/transactions/{'e' * 64}/status"), 404)


@pytest.fixture
def spent_and_unspent(web_node, alice):
    """alice CREATEs an asset and TRANSFERs it to bob, both in VALID blocks."""
    bob = generate_key_pair()
    created = create_tx(alice, amount=5, metadata={"note": "first"})
    write_block(web_node.ledger, [created], valid=True)
    transferred = transfer_tx(created, alice, bob.public_key)
    write_block(web_node.ledger, [transferred], valid=True)
    return created, transferred, bob


def test_transactions_by_owner(web_node, alice, spent_and_unspent):
    created, transferred, bob = spent_and_unspent
    query = f"{web_node.api}/transactions?owners_after="
    assert ids(requests.get(query + alice.public_key)) == [created.id]
    assert ids(requests.get(query + alice.public_key + "&fulfilled=false")) == []
    assert ids(requests.get(query + alice.public_key + "&fulfilled=true")) == [created.id]
    assert ids(requests.get(f"{web_node.api}/transactions/?fulfilled=False&owners_after={bob.public_key}")) == \
        [transferred.id]


def test_transactions_by_asset(web_node, spent_and_unspent):
    created, transferred, _ = spent_and_unspent
    query = f"{web_node.api}/transactions?asset_id={created.asset.id}"
    assert ids(requests.get(query)) == sorted([created.id, transferred.id])
    assert ids(requests.get(query + "&operation=CREATE")) == [created.id]
    assert ids(requests.get(query + "&operation=transfer")) == [transferred.id]
    assert ids(requests.get(query + "&operation=GENESIS")) == []


def test_transactions_by_metadata(web_node, spent_and_unspent):
    created, _, _ = spent_and_unspent
    assert ids(requests.get(f"{web_node.api}/transactions?metadata_id={created.metadata.id}")) == [created.id]


def test_queries_leave_out_transactions_not_yet_in_a_block(web_node, alice):
    tx = create_tx(alice, metadata={"x": 1})
    assert post(web_node, tx).status_code == 202
    assert ids(requests.get(f"{web_node.api}/transactions?metadata_id={tx.metadata.id}")) == []
    assert ids(requests.get(f"{web_node.api}/transactions?owners_after={alice.public_key}")) == []


def test_the_bare_collection_is_not_exposed(web_node):
    for path in ("/transactions", "/transactions/"):
        assert "owners_after" in json_error(requests.get(web_node.api + path), 404)


@pytest.mark.parametrize("query, named", [
    ("fulfilled=false", "owners_after"),
    ("operation=CREATE", "asset_id"),
    (f"owners_after={'A' * 44}&metadata_id=6f3b2e2c-6f67-4d5c-9b2a-0d6c1f6a2b3c", "cannot be combined"),
    ("asset_id=6f3b2e2c-6f67-4d5c-9b2a-0d6c1f6a2b3c&fulfilled=true", "owners_after"),
])
def test_a_query_without_a_usable_combination_is_400(web_node, query, named):
    assert named in json_error(requests.get(f"{web_node.api}/transactions?{query}"), 400)


def test_spending_an_output_twice_is_refused(web_node, alice, spent_and_unspent):
    created, _, _ = spent_and_unspent
    again = transfer_tx(created, alice, generate_key_pair().public_key)
    assert "already spent" in json_error(post(web_node, again), 400)


def test_spending_an_output_not_yet_in_a_valid_block_is_refused(web_node, alice):
    created = create_tx(alice)
    assert post(web_node, created).status_code == 202
    message = json_error(post(web_node, transfer_tx(created, alice, alice.public_key)), 400)
    assert created.id in message


def test_every_reference_vector_is_judged_as_expected(web_node):
    # Each accepted transaction goes into a VALID block, so that later vectors can spend it.
    for vector in load_vectors():
        response = requests.post(f"{web_node.api}/transactions", json=vector["tx"])
        if vector["expect"] == "valid":
            assert response.status_code == 202, (vector["name"], response.text)
            write_block(web_node.ledger, [Transaction.from_dict(vector["tx"])], valid=True)
        else:
            assert json_error(response, 400), vector["name"]
