"""Claims: how the RethinkDB engine decides the one spender of an output, and
how a claim ends (see ``bigchaindb.backend.rethinkdb.connection``).

Claims are written here as a node that crashed would have left them: straight
into the ``claims`` table of the real store.
"""

import time

import pytest

from bigchaindb.backend.rethinkdb.connection import CLAIM_GRACE
from bigchaindb.backend.rethinkdb.schema import CLAIMS
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.backend.rethinkdb import connection as rethinkdb_connection
from bigchaindb.common.exceptions import DoubleSpend
from bigchaindb.common.transaction import Transaction
from bigchaindb.core import Bigchain
from tests.backend.documents import block_of, create, transfer
from tests.helpers import write_block

NOBODY = "f" * 64
"""The id of a transaction that claimed an output and then vanished (its node crashed)."""


@pytest.fixture
def spent(engine):
    """A CREATE in a block, and two rival transfers of its output."""
    tx, private = create()
    engine.write_block(block_of([tx]))
    return tx, transfer(tx, 0, private), transfer(tx, 0, private)


def holder(engine, tx):
    claim = engine.run(engine.table(CLAIMS).get([tx["id"], 0]))
    return None if claim is None else claim["spender"]


def leave_claim(engine, tx, age):
    """A claim on output 0 of ``tx`` by a writer that never wrote its backlog entry, ``age`` seconds ago."""
    engine.run(engine.table(CLAIMS).insert(
        {"id": [tx["id"], 0], "spender": NOBODY, "claimed_at": time.time() - age}, conflict="replace"))


def test_a_transaction_gone_into_a_block_keeps_its_claim(engine, spent):
    _, first, second = spent
    assert engine.write_backlog(first, "node", 1) is None
    engine.delete_backlog([first["id"]], blocked=True)
    assert engine.write_backlog(second, "node", 1) == first["id"]
    assert holder(engine, spent[0]) == first["id"]


def test_a_dropped_transaction_gives_its_claim_back(engine, spent):
    create_tx, first, second = spent
    engine.write_backlog(first, "node", 1)
    engine.delete_backlog([first["id"]])
    assert holder(engine, create_tx) is None
    assert engine.write_backlog(second, "node", 1) is None


def test_a_loser_holds_no_claim_afterwards(engine, spent):
    create_tx, first, second = spent
    engine.write_backlog(first, "node", 1)
    assert engine.write_backlog(second, "node", 1) == first["id"]
    assert engine.run(engine.table(CLAIMS).get_all(second["id"], index="spender").count()) == 0


def test_posting_the_same_transaction_again_keeps_its_claim_and_entry(engine, spent):
    create_tx, first, _ = spent
    assert engine.write_backlog(first, "node", 1) is None
    assert engine.write_backlog(first, "other", 2) is None
    assert holder(engine, create_tx) == first["id"]
    assert engine.backlog_assigned_to("node") == [(first, 1)]


def test_a_claim_left_by_a_crash_is_taken_over_once_named_stale_and_old(engine, spent):
    create_tx, _, second = spent
    leave_claim(engine, create_tx, age=1)
    assert engine.write_backlog(second, "node", 1) == NOBODY
    # young: its writer may still be on its way to the backlog
    assert engine.write_backlog(second, "node", 1, stale={NOBODY}) == NOBODY
    leave_claim(engine, create_tx, age=CLAIM_GRACE + 1)
    assert engine.write_backlog(second, "node", 1) == NOBODY  # not named stale
    assert engine.write_backlog(second, "node", 1, stale={NOBODY}) is None
    assert holder(engine, create_tx) == second["id"]
    assert engine.get_backlog_transaction(second["id"]) == second


# -- through the node's own rules (core) ---------------------------------------

@pytest.fixture
def node(engine):
    me = generate_key_pair()
    ledger = Bigchain(engine, me.public_key, me.private_key)
    ledger.create_genesis_block()
    return ledger


@pytest.fixture
def owned(node):
    """A CREATE of ``node``'s own in a VALID block, and two rival transfers of it."""
    keypair = generate_key_pair()
    tx, private = create(owners_after=[keypair.public_key])
    write_block(node, [Transaction.from_dict(tx)], valid=True)
    return tx, transfer(tx, 0, keypair.private_key), transfer(tx, 0, keypair.private_key)


def test_a_crash_between_claim_and_backlog_entry_blocks_the_output_only_for_a_while(node, owned):
    create_tx, _, second = owned
    leave_claim(node.connection, create_tx, age=1)
    with pytest.raises(DoubleSpend, match=NOBODY):
        node.accept_transaction(second)
    leave_claim(node.connection, create_tx, age=CLAIM_GRACE + 1)
    node.accept_transaction(second)
    assert node.connection.get_backlog_transaction(second["id"]) == second
    assert holder(node.connection, create_tx) == second["id"]


def test_a_claim_whose_holder_is_only_in_an_invalid_block_is_taken_over(node, owned, monkeypatch):
    create_tx, first, second = owned
    node.accept_transaction(first)
    write_block(node, [Transaction.from_dict(first)], valid=False)  # and never requeued
    monkeypatch.setattr(rethinkdb_connection, "CLAIM_GRACE", 0)
    node.accept_transaction(second)
    assert holder(node.connection, create_tx) == second["id"]


def test_a_claim_whose_holder_is_in_an_undecided_block_stands(node, owned, monkeypatch):
    create_tx, first, second = owned
    node.accept_transaction(first)
    write_block(node, [Transaction.from_dict(first)])
    monkeypatch.setattr(rethinkdb_connection, "CLAIM_GRACE", 0)
    assert node.write_to_backlog(second) == first["id"]
    assert holder(node.connection, create_tx) == first["id"]


def test_a_repost_is_accepted_again(node, owned):
    _, first, _ = owned
    node.accept_transaction(first)
    node.accept_transaction(first)
    assert node.connection.get_backlog_transaction(first["id"]) == first
