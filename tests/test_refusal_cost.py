"""What refusing a transaction costs: bounded by its own size, whatever it spends.

A TRANSFER with thousands of inputs spending outputs of one large CREATE
once made the node load and parse that CREATE once per input before it
checked a single signature (32 s of CPU for one unsigned POST).  These tests
count the lookups validation makes on a real store, and the CPU a real
server spends refusing such a POST.
"""

import pytest
import requests

from bigchaindb.backend import connect
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import AssetIdMismatch, DoubleSpend, InputDoesNotExist, InvalidSignature
from bigchaindb.common.transaction import Asset, Fulfillment, Transaction, TransactionLink
from bigchaindb.common.utils import serialize
from bigchaindb.core import Bigchain
from bigchaindb.models import validate_transaction
from tests.helpers import CountingConnection, json_error, process_tree_cpu_seconds, write_block

INPUTS = 300


@pytest.fixture
def alice():
    return generate_key_pair()


@pytest.fixture
def ledger(tmp_path):
    """A one-node ledger on a real store whose connection counts its calls (``ledger.connection.calls``)."""
    connection = connect({"backend": "sqlite", "path": str(tmp_path / "store.sqlite")})
    connection.init()
    me = generate_key_pair()
    chain = Bigchain(CountingConnection(connection), me.public_key, me.private_key, [])
    chain.create_genesis_block()
    yield chain
    connection.close()


def many_outputs(owner, count, data=None):
    """A signed CREATE of ``count`` one-unit outputs of a divisible asset to ``owner``."""
    tx = Transaction.create([owner.public_key], [([owner.public_key], 1)] * count, asset=Asset(data, divisible=True))
    return tx.sign([owner.private_key])


def spend_all(owner, creates):
    """A TRANSFER signed by ``owner`` of every output of ``creates`` (one asset) to ``owner``."""
    inputs = [ffill for create in creates for ffill in create.to_inputs()]
    tx = Transaction.transfer(inputs, [([owner.public_key], len(inputs))], creates[0].asset.id)
    return tx.sign([owner.private_key])


def forged(tx):
    """``tx`` with every fulfillment replaced by the last one: well formed, by the right key, signing
    another message."""
    forged_tx = Transaction.from_dict(tx.to_dict())
    for ffill in forged_tx.fulfillments:
        ffill.uri = tx.fulfillments[-1].uri
    return Transaction.from_dict(forged_tx.to_dict())


def on_ledger(ledger, *transactions):
    write_block(ledger, list(transactions), valid=True)
    ledger.connection.calls.clear()
    return transactions


def test_a_forged_many_input_transfer_is_refused_after_one_lookup(ledger, alice):
    (create,) = on_ledger(ledger, many_outputs(alice, INPUTS))
    tx = forged(spend_all(alice, [create]))
    with pytest.raises(InvalidSignature, match="fulfillment 0 does not validate"):
        validate_transaction(ledger, tx)
    calls = ledger.connection.calls
    assert calls["get_outputs"] == 1
    assert calls["get_transaction_in_block"] == 0 and calls["transactions_by_asset"] == 0
    assert calls["spenders_of"] == calls["backlog_spenders_of"] == 0  # the signature comes first


def test_a_valid_many_input_transfer_reads_each_input_transaction_once(ledger, alice):
    recipients = [([alice.public_key], 1)] * INPUTS + [([alice.public_key], 2)]
    create = Transaction.create([alice.public_key], recipients, asset=Asset(divisible=True)).sign([alice.private_key])
    on_ledger(ledger, create)
    split = Transaction.transfer(create.to_inputs([INPUTS]), [([alice.public_key], 1)] * 2, create.asset.id)
    on_ledger(ledger, split.sign([alice.private_key]))
    inputs = create.to_inputs(range(INPUTS)) + split.to_inputs()
    tx = Transaction.transfer(inputs, [([alice.public_key], INPUTS + 2)], create.asset.id).sign([alice.private_key])
    validate_transaction(ledger, Transaction.from_dict(tx.to_dict()))
    calls = ledger.connection.calls
    assert calls["get_outputs"] == 2  # one per input transaction, not one per input
    assert calls["get_transaction_in_block"] == 0
    assert calls["spenders_of"] == calls["backlog_spenders_of"] == 2  # and their spenders once
    assert calls["blocks_with_transaction"] == 3  # the transaction itself, then each input transaction


def test_outputs_not_there_or_of_another_asset_are_refused_naming_the_fulfillment(ledger, alice):
    create, other = on_ledger(ledger, many_outputs(alice, 3), many_outputs(alice, 2))
    inputs = create.to_inputs([0]) + [Fulfillment([alice.public_key], TransactionLink(create.id, 7))]
    missing = Transaction.transfer(inputs, [([alice.public_key], 2)], create.asset.id).sign([alice.private_key])
    with pytest.raises(InputDoesNotExist, match=f"transaction {create.id} has no output 7"):
        validate_transaction(ledger, missing)
    mixed = Transaction.transfer(create.to_inputs() + other.to_inputs([0]), [([alice.public_key], 4)],
                                 create.asset.id).sign([alice.private_key])
    with pytest.raises(AssetIdMismatch, match=f"fulfillment 3 spends an output of asset {other.asset.id}, "
                                              f"not of the transaction's asset {create.asset.id}"):
        validate_transaction(ledger, mixed)


def test_an_output_spent_twice_in_one_transaction_is_refused_before_any_lookup(ledger, alice):
    (create,) = on_ledger(ledger, many_outputs(alice, 2))
    inputs = create.to_inputs([0, 1, 0])
    tx = Transaction.transfer(inputs, [([alice.public_key], 3)], create.asset.id).sign([alice.private_key])
    with pytest.raises(DoubleSpend, match=f"fulfillment 2 spends output 0 of {create.id} a second time"):
        validate_transaction(ledger, tx)
    assert not ledger.connection.calls


# -- over HTTP -------------------------------------------------------------------

CPU_BOUND = 2.0
"""CPU seconds a node may spend refusing a 1 MiB forged transfer (it spent 18 s when each
input reloaded the CREATE it spends; it spends about 0.1 s now)."""


def test_refusing_a_forged_1_mib_transfer_of_a_1_mb_create_costs_the_server_little(web_node, alice):
    create = many_outputs(alice, 3200)
    assert len(serialize(create.to_dict())) > 950_000
    write_block(web_node.ledger, [create], valid=True)
    tx = forged(spend_all(alice, [create]))
    body = serialize(tx.to_dict())
    assert 900_000 < len(body) <= web_node.config["server"]["max_body_size"]
    before = process_tree_cpu_seconds(web_node.process)
    response = requests.post(f"{web_node.api}/transactions", data=body,
                             headers={"Content-Type": "application/json"}, timeout=120)
    used = process_tree_cpu_seconds(web_node.process) - before
    assert json_error(response, 400) == "fulfillment 0 does not validate"
    assert used < CPU_BOUND, f"refusing it took {used:.1f} s of CPU"
