"""What each fulfillment signs (docs/protocol.md §2), checked against an independent reading of the spec.

``spec_message`` below is written from the protocol text with the standard
library only, so a change in the library's message construction that the
reference clients would not follow fails here.
"""

import base64
import copy
import hashlib
import json

import nacl.exceptions
import nacl.signing
import pytest

from bigchaindb.common.exceptions import InvalidSignature, KeypairNotFound, NotSupported, SchemaValidationError
from bigchaindb.common.transaction import MAX_SIGNED_BYTES, Asset, Transaction, signed_bytes
from bigchaindb.common.utils import serialize

from .conftest import spent_condition_uris, vector_tx


def spec_canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def spec_message(tx_dict, index):
    """The bytes fulfillment ``index`` signs, straight from docs/protocol.md §2."""
    body = copy.deepcopy(tx_dict["transaction"])
    only = dict(body["fulfillments"][index], fid=0, fulfillment=None)
    partial = {"version": tx_dict["version"], "transaction": dict(body, fulfillments=[only])}
    partial["id"] = hashlib.sha3_256(spec_canonical(partial)).hexdigest()
    return spec_canonical(partial)


def ed25519_parts(fulfillment_uri):
    payload = base64.urlsafe_b64decode(fulfillment_uri[len("cf:4:"):])
    return payload[:32], payload[32:]


def verifies(fulfillment_uri, message):
    public_key, signature = ed25519_parts(fulfillment_uri)
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def test_two_input_transfer_signs_a_different_message_per_input():
    """Vector 11: each input signs the partial transaction holding only itself."""
    tx_dict = vector_tx("transfer_two_inputs")
    uris = [f["fulfillment"] for f in tx_dict["transaction"]["fulfillments"]]
    messages = [spec_message(tx_dict, 0), spec_message(tx_dict, 1)]
    assert messages[0] != messages[1]
    assert verifies(uris[0], messages[0]) and verifies(uris[1], messages[1])
    assert not verifies(uris[0], messages[1]) and not verifies(uris[1], messages[0])
    whole = dict(tx_dict, transaction=dict(tx_dict["transaction"], fulfillments=[
        dict(f, fulfillment=None) for f in tx_dict["transaction"]["fulfillments"]]))
    assert not verifies(uris[0], spec_canonical(whole))  # not the whole transaction


def test_two_input_transfer_rejects_swapped_signatures():
    tx_dict = vector_tx("transfer_two_inputs")
    fulfillments = tx_dict["transaction"]["fulfillments"]
    tx = Transaction.from_dict(tx_dict)
    uris = spent_condition_uris(tx)
    tx.validate_fulfillments(uris)
    fulfillments[0]["fulfillment"], fulfillments[1]["fulfillment"] = \
        fulfillments[1]["fulfillment"], fulfillments[0]["fulfillment"]
    swapped = Transaction.from_dict(tx_dict)  # the id ignores fulfillments
    with pytest.raises(InvalidSignature, match="fulfillment 0"):
        swapped.validate_fulfillments(uris)
    with pytest.raises(InvalidSignature, match="fulfillment 0"):
        swapped.validate_fulfillments(uris[::-1])


def test_library_signs_what_the_spec_says(alice, bob, carol):
    """A 3-input TRANSFER built here: each fulfillment verifies against the spec's message."""
    create = Transaction.create([alice.public_key], [([alice.public_key], 5), ([bob.public_key], 3),
                                                    ([carol.public_key], 2)], asset=Asset(divisible=True))
    create.sign([alice.private_key])
    transfer = Transaction.transfer(create.to_inputs(), [([alice.public_key], 10)], create.asset.id)
    transfer.sign([alice.private_key, bob.private_key, carol.private_key])
    tx_dict = transfer.to_dict()
    for index, ffill in enumerate(tx_dict["transaction"]["fulfillments"]):
        assert verifies(ffill["fulfillment"], spec_message(tx_dict, index))
    Transaction.from_dict(tx_dict).validate_fulfillments([c.uri for c in create.conditions])


def test_one_input_message_is_the_transaction_with_its_own_id(alice):
    tx = Transaction.create([alice.public_key], [([alice.public_key], 1)]).sign([alice.private_key])
    tx_dict = tx.to_dict()
    nulled = copy.deepcopy(tx_dict)
    nulled["transaction"]["fulfillments"][0]["fulfillment"] = None
    assert spec_message(tx_dict, 0) == spec_canonical(nulled)
    assert verifies(tx_dict["transaction"]["fulfillments"][0]["fulfillment"], spec_canonical(nulled))


def test_threshold_signers_all_sign_the_same_message(alice, bob):
    """Vector 3's cf:2 fulfillment: each Ed25519 leaf signs the one message of fulfillment 0."""
    tx_dict = vector_tx("create_two_signers")
    tx = Transaction.from_dict(tx_dict)
    leaves = [sub["body"] for sub in tx.fulfillments[0].parse(0).subconditions]
    message = spec_message(tx_dict, 0)
    keys = {leaf.public_key.encode(encoding="base58").decode() for leaf in leaves}
    assert keys == {alice.public_key, bob.public_key}
    assert all(leaf.validate(message) for leaf in leaves)
    tx.validate_fulfillments(tx.input_condition_uris())


def test_multisig_threshold_needs_every_signer(alice, bob):
    create = Transaction.create([alice.public_key, bob.public_key], [([alice.public_key], 1)])
    with pytest.raises(KeypairNotFound, match=bob.public_key):
        create.sign([alice.private_key])
    create.sign([alice.private_key, bob.private_key])
    parsed = Transaction.from_dict(create.to_dict())
    parsed.validate_fulfillments(parsed.input_condition_uris())
    assert create.fulfillments[0].uri.startswith("cf:2:")


def test_multisig_output_is_spent_by_both_owners(alice, bob, carol):
    create = Transaction.create([alice.public_key], [([alice.public_key, bob.public_key], 1)])
    create.sign([alice.private_key])
    assert create.conditions[0].uri.startswith("cc:2:29:")
    transfer = Transaction.transfer(create.to_inputs(), [([carol.public_key], 1)], create.asset.id)
    transfer.sign([alice.private_key, bob.private_key])
    Transaction.from_dict(transfer.to_dict()).validate_fulfillments([create.conditions[0].uri])


def test_threshold_fulfillment_signed_by_one_owner_only_is_refused(alice, bob):
    """Replace bob's signed leaf in a 2-of-2 by a signature over another message: it must not validate."""
    create = Transaction.create([alice.public_key, bob.public_key], [([alice.public_key], 1)])
    create.sign([alice.private_key, bob.private_key])
    other = Transaction.create([alice.public_key, bob.public_key], [([bob.public_key], 1)])
    other.sign([alice.private_key, bob.private_key])
    forged = copy.deepcopy(create.to_dict())
    forged["transaction"]["fulfillments"][0]["fulfillment"] = other.fulfillments[0].uri
    tx = Transaction.from_dict(forged)
    with pytest.raises(InvalidSignature, match="fulfillment 0 does not validate"):
        tx.validate_fulfillments(tx.input_condition_uris())


def test_unsigned_fulfillment_is_refused(alice):
    tx = Transaction.create([alice.public_key], [([alice.public_key], 1)])
    with pytest.raises(InvalidSignature, match="fulfillment 0 is not signed"):
        tx.validate_fulfillments(tx.input_condition_uris())
    with pytest.raises(SchemaValidationError, match=r"fulfillments\[0\]\.fulfillment must be of type string, not null"):
        Transaction.from_dict(tx.to_dict())


def test_signing_changes_no_part_of_the_id(alice):
    tx = Transaction.create([alice.public_key], [([alice.public_key], 1)])
    before = tx.id
    tx.sign([alice.private_key])
    assert tx.id == before
    assert serialize(tx.to_dict())  # and it serialises


# -- what checking the signatures costs (MAX_SIGNED_BYTES) ----------------------------

def spec_signed_bytes(tx_dict, signatures):
    """Every message's length times the signatures over it (``signatures[i]`` in fulfillment i)."""
    return sum(len(spec_message(tx_dict, index)) * count for index, count in enumerate(signatures))


def nulled_length(tx_dict):
    body = copy.deepcopy(tx_dict["transaction"])
    body["fulfillments"] = [dict(f, fulfillment=None) for f in body["fulfillments"]]
    return len(spec_canonical({"version": tx_dict["version"], "transaction": body}))


def many_fulfillments(keypair, count, metadata_size):
    tx = Transaction.create([keypair.public_key], [([keypair.public_key], 1)],
                            metadata={"notes": "x" * metadata_size})
    tx.fulfillments = tx.fulfillments * count
    return tx.sign([keypair.private_key])


@pytest.mark.parametrize("name, signatures", [
    ("create_single", [1]), ("transfer_two_inputs", [1, 1]), ("create_two_signers", [2]),
    ("transfer_multisig", [2])])
def test_the_signing_work_counted_is_every_message_times_its_signatures(name, signatures):
    tx_dict = vector_tx(name)
    counted = signed_bytes(nulled_length(tx_dict), tx_dict["transaction"]["fulfillments"])
    assert counted == spec_signed_bytes(tx_dict, signatures)


def test_the_signing_work_counts_fids_of_several_digits_as_written(alice):
    tx_dict = many_fulfillments(alice, 12, 10).to_dict()
    counted = signed_bytes(nulled_length(tx_dict), tx_dict["transaction"]["fulfillments"])
    assert counted == spec_signed_bytes(tx_dict, [1] * 12)


def test_a_transaction_whose_signatures_cover_too_much_is_refused_before_any_is_checked(alice):
    allowed = many_fulfillments(alice, 150, 100_000).to_dict()  # 150 signatures of 100 kB: 15 MB
    parsed = Transaction.from_dict(allowed)
    parsed.validate_fulfillments(parsed.input_condition_uris())
    refused = many_fulfillments(alice, 200, 100_000).to_dict()  # 20 MB
    assert spec_signed_bytes(refused, [1] * 200) > MAX_SIGNED_BYTES
    with pytest.raises(NotSupported, match=f"the transaction is too costly to verify: its 200 fulfillments would "
                                           f"have {spec_signed_bytes(refused, [1] * 200):,} bytes checked"):
        Transaction.from_dict(refused)
