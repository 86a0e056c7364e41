"""The reference implementation's vectors, judged as far as no ledger is needed.

Ledger-free vectors must be accepted or rejected here outright.  For the
ledger-dependent ones (double spend, missing input, amount mismatch) this
layer must pass shape, id and signatures, leaving the verdict to the ledger
checks; "wrong key" is caught here by the condition check.
"""

import json

import pytest

from bigchaindb.common.exceptions import InvalidHash, InvalidSignature
from bigchaindb.common.transaction import Transaction
from bigchaindb.common.utils import deserialize, serialize

from .conftest import VECTORS, spent_condition_uris, vector_tx

VALID = sorted(name for name, v in VECTORS.items() if v.expect == "valid")

# invalid vectors this layer rejects: name -> (exception, stage, words in the message)
REJECTED_HERE = {
    "invalid_tampered_id": (InvalidHash, "from_dict", "does not match its contents"),
    "invalid_tampered_metadata_stale_id": (InvalidHash, "from_dict", "does not match its contents"),
    "invalid_tampered_signature": (InvalidSignature, "fulfillments", "fulfillment 0 does not validate"),
    "invalid_transfer_wrong_key": (InvalidSignature, "fulfillments", "does not meet the condition it spends"),
}

# invalid vectors only the ledger can reject: this layer must let them through
LEDGER_REJECTS = ["invalid_double_spend", "invalid_transfer_missing_input", "invalid_transfer_amount_mismatch"]


def check(tx_dict):
    """What the node does before looking at the ledger; returns the Transaction."""
    tx = Transaction.from_dict(tx_dict)
    tx.validate_fulfillments(spent_condition_uris(tx))
    return tx


def test_every_vector_is_classified():
    invalid = {name for name, v in VECTORS.items() if v.expect == "invalid"}
    assert invalid == set(REJECTED_HERE) | set(LEDGER_REJECTS)
    assert len(VALID) + len(invalid) == len(VECTORS) >= 21


@pytest.mark.parametrize("name", VALID)
def test_valid_vector_is_accepted_and_round_trips(name):
    tx_dict = vector_tx(name)
    tx = check(tx_dict)
    assert tx.id == tx_dict["id"]
    assert tx.to_dict() == tx_dict
    assert Transaction.from_dict(deserialize(serialize(tx.to_dict()))).to_dict() == tx_dict


@pytest.mark.parametrize("name", VALID)
def test_valid_vector_canonical_bytes_equal_json_dumps(name):
    tx_dict = vector_tx(name)
    expected = json.dumps(tx_dict, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert serialize(Transaction.from_dict(tx_dict).to_dict()) == expected


@pytest.mark.parametrize("name", sorted(REJECTED_HERE))
def test_invalid_vector_is_rejected_with_the_right_error(name):
    error, stage, words = REJECTED_HERE[name]
    tx_dict = vector_tx(name)
    if stage == "from_dict":
        with pytest.raises(error, match=words):
            Transaction.from_dict(tx_dict)
        return
    tx = Transaction.from_dict(tx_dict)
    with pytest.raises(error, match=words):
        tx.validate_fulfillments(spent_condition_uris(tx))


@pytest.mark.parametrize("name", LEDGER_REJECTS)
def test_ledger_dependent_vector_passes_this_layer(name):
    tx = check(vector_tx(name))
    assert tx.operation == "TRANSFER"


def test_wrong_key_signature_itself_verifies_but_condition_differs():
    """The wrong-key fulfillment is a good Ed25519 signature by carol: only the condition check catches it."""
    tx = Transaction.from_dict(vector_tx("invalid_transfer_wrong_key"))
    carol_uri = tx.fulfillments[0].parse(0).condition_uri
    tx.validate_fulfillments([carol_uri])  # valid for carol's condition ...
    with pytest.raises(InvalidSignature, match="does not meet the condition"):
        tx.validate_fulfillments(spent_condition_uris(tx))  # ... not for alice's output


def test_double_spend_vector_spends_the_same_output_as_transfer_single():
    spent = Transaction.from_dict(vector_tx("invalid_double_spend")).spent_outputs()
    assert spent == Transaction.from_dict(vector_tx("transfer_single")).spent_outputs()


def test_amount_mismatch_vector_outputs_differ_from_its_input():
    tx = Transaction.from_dict(vector_tx("invalid_transfer_amount_mismatch"))
    source = VECTORS["create_for_amount"].tx["transaction"]["conditions"]
    assert sum(c.amount for c in tx.conditions) != sum(c["amount"] for c in source)


@pytest.mark.parametrize("name", VALID)
def test_fulfillments_are_checked_against_the_right_condition(name):
    """Every valid vector fails when any fulfillment is checked against another owner's condition."""
    tx = Transaction.from_dict(vector_tx(name))
    uris = spent_condition_uris(tx)
    stranger = "cc:4:20:zq12L5bxajKiesajS1amWX_2dT1SZuIXtO-wuj2BpXY:96"  # carol
    for index in range(len(uris)):
        if uris[index] == stranger:
            continue
        with pytest.raises(InvalidSignature, match=f"fulfillment {index}"):
            tx.validate_fulfillments(uris[:index] + [stranger] + uris[index + 1:])


def test_validate_fulfillments_wants_one_condition_per_fulfillment():
    tx = Transaction.from_dict(vector_tx("transfer_two_inputs"))
    with pytest.raises(ValueError):
        tx.validate_fulfillments(spent_condition_uris(tx)[:1])
