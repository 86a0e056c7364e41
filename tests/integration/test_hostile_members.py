"""Members and outsiders writing rows into the shared store, against real nodes.

A federation of three members is configured; two of them run (``a`` and
``b``), the third (``m``) is the hostile member, writing rows straight into
the store with its own key.  ``x``, ``y`` and ``z`` are outsiders who can
write to the store too.  Whatever they write, no block becomes VALID
without a majority of the federation, and a forged vote row keeps no
member's real vote out.
"""

import copy
import os
import sqlite3
import time

import cryptoconditions as cc
import pytest
import requests

from bigchaindb import backend
from bigchaindb.common.crypto import generate_key_pair, hash_data
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from bigchaindb.models import Block, make_vote
from tests.attacker import BACKLOG, BLOCKS, VOTES, RawStore
from tests.helpers import wait_until
from tests.integration.node import federation

NO_BLOCK = "f" * 64


@pytest.fixture
def members(tmp_path, store):
    """Nodes a and b started, and m, the third member, not: ``(a, b, m)``, on each engine.

    Entries the backlog assigns to m go to a or b after a second.
    """
    a, b, m = federation(str(tmp_path), 3, store, backlog_reassign_delay=1)
    for node in (a, b):
        node.start()
    yield a, b, m
    for node in (a, b):
        node.stop()


def create(owner, data=None):
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset(data)).sign([owner.private_key])


def transfer(tx, owner, recipient):
    """A TRANSFER of ``tx``'s output (``owner``'s) to ``recipient``, signed by ``owner``."""
    spend = Transaction.transfer(tx.to_inputs(), [([recipient.public_key], 1)], tx.asset.id)
    return spend.sign([owner.private_key])


def theft(tx, owner_key, recipient):
    """A TRANSFER of ``tx``'s output (of public key ``owner_key``) to ``recipient``,
    with a junk signature: the thief does not hold the owner's private key."""
    spend = Transaction.transfer(tx.to_inputs(), [([recipient.public_key], 1)], tx.asset.id).to_dict()
    junk = cc.Ed25519Fulfillment(public_key=owner_key)
    junk.signature = os.urandom(64)
    spend["transaction"]["fulfillments"][0]["fulfillment"] = junk.serialize_uri()
    return spend


def status(node, resource_id):
    response = requests.get(f"{node.api}/statuses/{resource_id}", allow_redirects=False, timeout=10)
    assert response.status_code in (200, 303), response.text
    return response.json()["status"]


def votes(node, block_id, voter=None):
    params = {"block_id": block_id} if voter is None else {"block_id": block_id, "voter": voter}
    response = requests.get(f"{node.api}/votes", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def store_as(node):
    """A connection to the shared store, as any member holds one."""
    return backend.connect(node.config["database"])


def valid_tx(node, owner, data=None):
    """A CREATE posted through ``node`` and waited for until valid."""
    tx = create(owner, data)
    assert node.post(tx.to_dict()).status_code == 202
    node.wait_for_status(tx.id, "valid")
    return tx


def wait_for_federation_votes(a, b, block_id):
    wait_until(lambda: {v["node_pubkey"] for v in votes(a, block_id)} >= {a.public_key, b.public_key}, 20,
               f"a and b did not both vote on {block_id}: {votes(a, block_id)}")


def vote_as(keypair, block_id, valid, previous):
    return make_vote(block_id, previous, valid, None if valid else "forged", keypair.private_key,
                     keypair.public_key)


# -- 1. the electorate is the federation, not the block's own voters ----------

@pytest.mark.parametrize("layout", ["outsider names itself sole voter", "outsiders outnumber the members",
                                    "member names itself sole voter"])
def test_a_block_with_its_own_voters_cannot_elect_itself(members, layout):
    a, b, m = members
    victim = generate_key_pair()
    x, y, z = (generate_key_pair() for _ in range(3))
    owned = valid_tx(a, victim, {"victim": layout})
    genesis = store_as(a).get_genesis_block()["id"]

    if layout == "member names itself sole voter":
        creator, voters, electors = m.keypair, [m.public_key], [m.keypair]
    elif layout == "outsider names itself sole voter":
        creator, voters, electors = x, [x.public_key], [x]
    else:
        creator, electors = x, [x, y, z]
        voters = [a.public_key, b.public_key, x.public_key, y.public_key, z.public_key]
    stolen = theft(owned, victim.public_key, creator)
    block = Block([stolen], creator.public_key, voters).sign(creator.private_key)
    store = store_as(a)
    for elector in electors:  # their valid votes first, before any member has voted
        store.write_vote(vote_as(elector, block.id, True, genesis))
    store.write_block(block.to_dict())

    wait_for_federation_votes(a, b, block.id)
    honest = [v for v in votes(a, block.id) if v["node_pubkey"] in (a.public_key, b.public_key)]
    assert {v["vote"]["is_block_valid"] for v in honest} == {False}
    reasons = {v["vote"]["invalid_reason"] for v in honest}
    assert reasons <= {"block voters are not the federation", f"block creator {creator.public_key} is not "
                       "a federation member"}, reasons
    for node in (a, b):
        assert status(node, block.id) == "invalid", f"the block is {status(node, block.id)} on {node.name}"
    wait_until(lambda: status(a, stolen["id"]) == "invalid", 20, f"the theft is {status(a, stolen['id'])}")

    # the victim's own TRANSFER is accepted and becomes valid
    own = transfer(owned, victim, generate_key_pair())
    response = b.post(own.to_dict())
    assert response.status_code == 202, response.text
    a.wait_for_status(own.id, "valid")
    assert status(b, stolen["id"]) == "invalid"


# -- 5. a forged vote row keeps no member's real vote out ---------------------

def test_forged_votes_written_first_do_not_keep_the_real_votes_out(members):
    a, b, m = members
    owner = generate_key_pair()
    genesis = store_as(a).get_genesis_block()["id"]
    tx = create(owner, {"forged votes": "before the block"})
    # m makes a good block, but first writes votes "by a" and "by b" that they never signed
    block = Block([tx.to_dict()], m.public_key, [a.public_key, b.public_key, m.public_key]).sign(
        m.keypair.private_key)
    store = store_as(a)
    for member in (a, b):
        forged = vote_as(m.keypair, block.id, False, genesis)
        forged["node_pubkey"] = member.public_key  # signed by m: does not verify as the member's
        store.write_vote(forged)
    store.write_block(block.to_dict())

    wait_for_federation_votes(a, b, block.id)
    for node in (a, b):
        assert status(node, block.id) == "valid", f"the block is {status(node, block.id)} on {node.name}"
        assert node.status(tx.id) == "valid"
    served = votes(b, block.id)
    assert sorted(v["node_pubkey"] for v in served) == sorted([a.public_key, b.public_key])
    assert all(v["vote"]["is_block_valid"] is True for v in served), served
    assert votes(a, block.id, a.public_key) == [v for v in served if v["node_pubkey"] == a.public_key]


def test_a_forged_latest_vote_does_not_redirect_a_members_vote_chain(members):
    a, b, m = members
    owner = generate_key_pair()
    first = valid_tx(a, owner, {"chain": 1})
    (first_block,) = {block["id"] for block in requests.get(f"{a.api}/blocks", params={"tx_id": first.id}).json()}
    for member in (a, b):  # the newest rows "by" a and b name a block nobody voted on
        forged = vote_as(m.keypair, NO_BLOCK, True, NO_BLOCK)
        forged["node_pubkey"] = member.public_key
        store_as(a).write_vote(forged)

    second = create(owner, {"chain": 2})
    assert b.post(second.to_dict()).status_code == 202
    wait_until(lambda: b.status(second.id) in ("valid", "undecided"), 20, "the second block was not written")
    (second_block,) = {block["id"] for block in requests.get(f"{a.api}/blocks", params={"tx_id": second.id}).json()}
    wait_for_federation_votes(a, b, second_block)
    for member in (a, b):
        (vote,) = votes(a, second_block, member.public_key)
        assert vote["vote"]["previous_block"] == first_block, f"{member.name} chained to a forged vote"
    a.wait_for_status(second.id, "valid")


def test_a_forged_vote_on_a_block_written_while_a_member_was_down_does_not_stop_it_voting(members):
    a, b, m = members
    owner = generate_key_pair()
    valid_tx(a, owner, {"before": "the restart"})
    genesis = store_as(a).get_genesis_block()["id"]
    a.stop()
    tx = create(owner, {"while": "a was down"})
    block = Block([tx.to_dict()], m.public_key, [a.public_key, b.public_key, m.public_key]).sign(
        m.keypair.private_key)
    store = store_as(b)
    forged = vote_as(m.keypair, block.id, True, genesis)
    forged["node_pubkey"] = a.public_key
    store.write_vote(forged)
    store.write_block(block.to_dict())
    wait_until(lambda: len(votes(b, block.id)) == 1, 20, "b did not vote")
    assert status(b, block.id) == "undecided"  # b's vote alone is not a majority of three

    a.start()  # a's vote stage catches up on the blocks it has not voted on
    wait_for_federation_votes(a, b, block.id)
    assert status(a, block.id) == "valid"


# -- 4. rows that are no blocks, votes or transactions stop nothing ----------

def test_rows_that_are_no_blocks_votes_or_transactions_stop_nothing(members):
    a, b, m = members
    owner = generate_key_pair()
    raw = RawStore(a.config["database"])
    first = valid_tx(a, owner, {"before": "the garbage"})
    garbage = [hash_data(f"garbage block {n}") for n in range(len(BLOCKS))]
    for block_id, header in zip(garbage, BLOCKS):
        raw.block(block_id, header)
    on_block = requests.get(f"{a.api}/blocks", params={"tx_id": first.id}).json()[0]["id"]
    for each in VOTES:
        raw.vote(on_block, a.public_key, each)
        raw.vote(garbage[0], a.public_key, each)
    for n, tx in enumerate(BACKLOG):
        for node in (a, b):
            raw.backlog(hash_data(f"garbage tx {n} {node.name}"), tx, node.public_key, time.time())

    after = valid_tx(b, owner, {"after": "the garbage"})  # the nodes still vote
    for node in (a, b):
        for block_id in garbage:
            assert status(node, block_id) == "invalid"
            for query in ({}, {"status": "INVALID"}):
                response = requests.get(f"{node.api}/blocks/{block_id}", params=query, timeout=10)
                assert response.status_code == 404, response.text
            assert "not shaped as a block" in requests.get(f"{node.api}/blocks/{block_id}?status=INVALID").text
            assert all(v["vote"]["is_block_valid"] is False for v in votes(node, block_id))
        assert node.status(first.id) == "valid"
        assert sorted(v["node_pubkey"] for v in votes(node, on_block)) == sorted([a.public_key, b.public_key])
        for path, params in (("transactions", {"asset_id": after.asset.id}), ("blocks", {"tx_id": after.id}),
                             ("transactions", {"owners_after": owner.public_key})):
            assert requests.get(f"{node.api}/{path}", params=params, timeout=10).status_code == 200

    a.stop()  # a start reads every row again: the stages' catch-up
    a.start()
    valid_tx(a, owner, {"after": "a restart"})
    for node in (a, b):
        assert "died" not in node.log(), node.log()


def test_a_block_of_transactions_that_are_no_transactions_is_voted_out_and_read_without_error(members):
    a, b, m = members
    owner = generate_key_pair()
    good = valid_tx(a, owner, {"good": True})
    junk_id = hash_data("junk transaction")
    junk = [{"id": junk_id, "transaction": "x"}, {"id": good.id}, ["x"]]
    # the block's id and signature cover the junk, as if m had meant it
    block = Block(junk, m.public_key, [a.public_key, b.public_key, m.public_key]).sign(m.keypair.private_key)
    RawStore(a.config["database"]).block_of({**block.to_dict(), "block": {
        key: value for key, value in block.body().items() if key != "transactions"}}, junk)

    wait_for_federation_votes(a, b, block.id)
    assert status(a, block.id) == "invalid"
    for node in (a, b):
        for path, params in (("transactions/" + junk_id, {}), ("transactions/" + good.id, {}),
                             ("statuses/" + junk_id, {}), ("blocks", {"tx_id": junk_id}),
                             ("blocks", {"tx_id": good.id, "status": "INVALID"}), ("votes", {"block_id": block.id}),
                             ("transactions", {"owners_after": owner.public_key})):
            response = requests.get(f"{node.api}/{path}", params=params, allow_redirects=False, timeout=10)
            assert response.status_code < 500, (path, response.text)
    assert a.status(good.id) == "valid"
    spend = transfer(good, owner, generate_key_pair())
    assert b.post(spend.to_dict()).status_code == 202
    a.wait_for_status(spend.id, "valid")
    for node in (a, b):
        assert "died" not in node.log(), node.log()


# on SQLite only: RethinkDB computes its indexes from the documents, there is no index row to write
@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_index_row_claiming_an_output_spent_does_not_refuse_its_owners_spend(members):
    a, b, m = members
    owner, other = generate_key_pair(), generate_key_pair()
    owned = valid_tx(a, owner, {"owned": True})
    bystander = valid_tx(a, other, {"in a VALID block": True})
    with sqlite3.connect(a.config["database"]["path"]) as db:  # "spent by" the bystander, in its VALID block
        db.execute("INSERT INTO spends (txid, cid, block_seq, spender) SELECT ?, 0, t.block_seq, t.tx_id"
                   " FROM block_transactions t WHERE t.tx_id = ?", (owned.id, bystander.id))
    db.close()
    spend = transfer(owned, owner, generate_key_pair())
    response = b.post(spend.to_dict())
    assert response.status_code == 202, response.text
    a.wait_for_status(spend.id, "valid")


# -- 6. a check a member writes does not spare a node verifying signatures ---

def test_a_backlog_row_claiming_verified_signatures_is_verified_all_the_same(members):
    """A node's block stage trusts the signature check of its own web workers
    (the note they write with a backlog entry); a row m writes with any note,
    even one a wrote for another transaction of the same id, is verified in full."""
    a, b, m = members
    victims = [generate_key_pair() for _ in range(3)]
    owned = [valid_tx(a, victim, {"victim": n}) for n, victim in enumerate(victims)]
    # a's own check of the honest spend (as m could read it from the store), on the same id
    # (which does not cover the fulfillments) with a junk signature
    honest = transfer(owned[0], victims[0], generate_key_pair()).to_dict()
    same_id = copy.deepcopy(honest)
    same_id["transaction"]["fulfillments"][0]["fulfillment"] = theft(owned[0], victims[0].public_key, m)[
        "transaction"]["fulfillments"][0]["fulfillment"]
    rows = [(same_id, Bigchain(None, a.public_key, a.keypair.private_key).check_of(honest))]
    stolen = [theft(tx, victim.public_key, m) for tx, victim in zip(owned[1:], victims[1:])]
    rows += [(stolen[0], Bigchain(None, m.public_key, m.keypair.private_key).check_of(stolen[0])),
             (stolen[1], "0" * 64)]
    raw = RawStore(a.config["database"])
    for tx, check in rows:
        raw.backlog(tx["id"], tx, a.public_key, time.time(), check)

    store = store_as(a)
    wait_until(lambda: all(store.get_backlog_transaction(tx["id"]) is None for tx, _ in rows), 20,
               "the forged rows did not leave the backlog")
    for tx, _ in rows:
        assert store.blocks_with_transaction(tx["id"]) == [], f"{tx['id']} was put in a block"
        assert "does not validate" in "".join(node.log() for node in (a, b) if tx["id"] in node.log())
    for tx, victim in zip(owned, victims):  # every victim still spends its own output
        spend = transfer(tx, victim, generate_key_pair())
        assert b.post(spend.to_dict()).status_code == 202
        a.wait_for_status(spend.id, "valid")
