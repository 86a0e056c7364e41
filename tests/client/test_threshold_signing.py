"""The client signs m-of-n and shared outputs with each party's key on its own side:
``sign_partially`` on one, ``fulfill`` with the signatures handed over on the other."""

import pytest

from bigchaindb.client import MissingPrivateKeyError
from bigchaindb.client.offchain import (
    fulfill_transaction,
    inputs_of,
    merge_signatures,
    prepare_transaction,
    sign_partially,
)
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Transaction

BUYER, VENDOR, MODERATOR, MINT = (generate_key_pair() for _ in range(4))


def funded(owners_after):
    return fulfill_transaction(prepare_transaction(
        operation="CREATE", owners_before=MINT.public_key, owners_after=owners_after,
        asset={"data": {"currency": "TST"}, "divisible": True}), MINT.private_key)


def payout(escrow):
    return prepare_transaction(operation="TRANSFER", inputs=inputs_of(escrow, [0]),
                               asset=escrow["transaction"]["asset"], owners_after=[([VENDOR.public_key], 7)])


def check(signed, spent):
    parsed = Transaction.from_dict(signed)
    parsed.validate_fulfillments([spent["transaction"]["conditions"][0]["condition"]["uri"]])


def test_a_two_of_three_escrow_is_spent_by_two_parties_each_signing_on_its_side():
    escrow = funded([([BUYER.public_key, VENDOR.public_key, MODERATOR.public_key], 7, 2),
                     ([MINT.public_key], 3)])
    assert escrow["transaction"]["conditions"][0]["condition"]["details"]["threshold"] == 2
    unsigned = payout(escrow)
    handed = sign_partially(unsigned, VENDOR.private_key)  # on the vendor's side, sent as JSON
    assert list(handed[0]) == [VENDOR.public_key]
    signed = fulfill_transaction(unsigned, BUYER.private_key, signatures=handed, spent=[escrow])
    check(signed, escrow)
    with pytest.raises(MissingPrivateKeyError, match="2 of 3 owners must sign and only 1 can"):
        fulfill_transaction(unsigned, BUYER.private_key, spent=[escrow])


def test_an_n_of_n_output_is_signed_by_parties_apart_and_signatures_merge():
    shared = funded([([BUYER.public_key, VENDOR.public_key, MODERATOR.public_key], 7), ([MINT.public_key], 3)])
    unsigned = payout(shared)
    handed = merge_signatures(sign_partially(unsigned, VENDOR.private_key),
                              sign_partially(unsigned, [MODERATOR.private_key]))
    check(fulfill_transaction(unsigned, BUYER.private_key, signatures=handed), shared)
    with pytest.raises(MissingPrivateKeyError, match=f"no private key given for {MODERATOR.public_key}"):
        fulfill_transaction(unsigned, BUYER.private_key, signatures=sign_partially(unsigned, VENDOR.private_key))


def test_a_chosen_metadata_id_threads_transactions_together_and_an_asset_id_may_be_chosen():
    thread = "6b1f7a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"
    made = prepare_transaction(operation="CREATE", owners_before=MINT.public_key, metadata={"step": 1},
                               metadata_id=thread, asset={"id": thread, "data": None})
    assert made["transaction"]["metadata"] == {"id": thread, "data": {"step": 1}}
    assert made["transaction"]["asset"]["id"] == thread
    Transaction.from_dict(fulfill_transaction(made, MINT.private_key))  # its id covers the chosen metadata id
