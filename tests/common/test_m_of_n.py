"""m-of-n outputs (such as a 2-of-3 escrow): made, posted, and spent with signatures
that different parties make apart (docs/protocol.md §3)."""

import base64

import cryptoconditions as cc
import pytest
from cryptoconditions.crypto import Ed25519SigningKey

from bigchaindb.common.conditions import condition_uri_for
from bigchaindb.common.crypto import generate_key_pair, sign
from bigchaindb.common.exceptions import InvalidFulfillment, InvalidSignature, KeypairNotFound
from bigchaindb.common.transaction import Asset, Transaction

BUYER, VENDOR, MODERATOR, MINT = (generate_key_pair() for _ in range(4))
PARTIES = [BUYER.public_key, VENDOR.public_key, MODERATOR.public_key]


def escrow():
    """A CREATE whose one output any 2 of the three parties can spend."""
    return Transaction.create([MINT.public_key], [(PARTIES, 5, 2)], asset=Asset(divisible=True)).sign(
        [MINT.private_key])


def spend(create, metadata=None):
    return Transaction.transfer(create.to_inputs(), [([VENDOR.public_key], 5)], create.asset.id, metadata)


def posted(tx):
    return Transaction.from_dict(tx.to_dict())


def test_a_two_of_three_output_names_every_party_and_states_its_threshold():
    made = posted(escrow()).conditions[0]
    assert made.owners_after == PARTIES
    assert made.details["threshold"] == 2 and len(made.details["subfulfillments"]) == 3
    assert made.uri == condition_uri_for(PARTIES, 2) != condition_uri_for(PARTIES)


@pytest.mark.parametrize("threshold", [0, 3, 4, "2", True, None])
def test_details_stating_another_threshold_than_the_uri_are_refused(threshold):
    tx = escrow().to_dict()
    tx["transaction"]["conditions"][0]["condition"]["details"]["threshold"] = threshold
    with pytest.raises(InvalidFulfillment, match="condition 0: uri cc:2:.* is not the condition of its owners_after"):
        Transaction.from_dict(tx)


@pytest.mark.parametrize("signers", [(BUYER, VENDOR), (VENDOR, MODERATOR), (BUYER, MODERATOR), (BUYER, VENDOR, MODERATOR)])
def test_any_two_parties_spend_it_each_signing_apart(signers):
    create = escrow()
    first, *others = signers
    tx = spend(create)
    handed = {key.public_key: sign(key.private_key, tx.fulfillment_message(0)) for key in others}
    signed = posted(tx.sign([first.private_key], {0: handed}, {0: 2}))
    signed.validate_fulfillments([create.conditions[0].uri])


def test_one_party_alone_cannot_sign_it():
    with pytest.raises(KeypairNotFound, match="2 of 3 owners must sign and only 1 can"):
        spend(escrow()).sign([BUYER.private_key], thresholds={0: 2})


def test_a_signature_handed_over_for_another_transaction_is_refused():
    create = escrow()
    other = spend(create, {"another": "payout"})
    stale = {VENDOR.public_key: sign(VENDOR.private_key, other.fulfillment_message(0))}
    with pytest.raises(InvalidSignature, match=f"the signature given for {VENDOR.public_key} is not"):
        spend(create).sign([BUYER.private_key], {0: stale}, {0: 2})


def one_signature_uri(message, threshold=2):
    """A cf:2 fulfillment of the 2-of-3 with the buyer's signature alone: the package
    will not write one, so its 1-of-3 is written and its threshold byte set to 2."""
    made = cc.ThresholdSha256Fulfillment(threshold=1)
    signed = cc.Ed25519Fulfillment(public_key=BUYER.public_key)
    signed.sign(message, Ed25519SigningKey(BUYER.private_key))
    made.add_subfulfillment(signed)
    for key in (VENDOR, MODERATOR):
        made.add_subcondition(cc.Ed25519Fulfillment(public_key=key.public_key).condition)
    payload = bytearray(made.serialize_payload())
    assert payload[:2] == b"\x01\x01"
    payload[1] = threshold
    return "cf:2:" + base64.urlsafe_b64encode(bytes(payload)).rstrip(b"=").decode()


@pytest.mark.parametrize("forge", ["threshold 2, one signature", "threshold 1", "the buyer's key alone"])
def test_a_one_signature_spend_is_refused(forge):
    create = escrow()
    tx = posted(spend(create).sign([BUYER.private_key, VENDOR.private_key], thresholds={0: 2}))
    message = tx.fulfillment_message(0)
    tx.fulfillments[0].uri = {"threshold 2, one signature": lambda: one_signature_uri(message),
                              "threshold 1": lambda: one_signature_uri(message, 1),
                              "the buyer's key alone": lambda: ed25519_uri(message)}[forge]()
    refusal = ("is not a valid cf: URI" if forge == "threshold 2, one signature"  # the package cannot write it
               else "does not meet the condition it spends")
    with pytest.raises((InvalidSignature, InvalidFulfillment), match=f"fulfillment 0 {refusal}"):
        posted(tx).validate_fulfillments([create.conditions[0].uri])


def ed25519_uri(message):
    made = cc.Ed25519Fulfillment(public_key=BUYER.public_key)
    made.sign(message, Ed25519SigningKey(BUYER.private_key))
    return made.serialize_uri()
