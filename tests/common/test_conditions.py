"""Crypto-conditions: owners to conditions, limits, and the form of fulfillments."""

import base64
import time

import cryptoconditions as cc
import pytest
from cryptoconditions.crypto import Ed25519SigningKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigchaindb.common import thresholds
from bigchaindb.common.conditions import MAX_THRESHOLD_SIZE, check_fulfillment, condition_uri_for
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import InvalidFulfillment, InvalidSignature, NotSupported, ValidationError
from bigchaindb.common.transaction import Asset, Transaction

from .conftest import spent_condition_uris, vector_tx

KEYS = [generate_key_pair() for _ in range(32)]
PUBLIC = [k.public_key for k in KEYS]
PRIVATE = [k.private_key for k in KEYS]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_create(owners_before, owners_after=None):
    tx = Transaction.create(owners_before, [(owners_after or [PUBLIC[0]], 1)])
    return tx.sign(PRIVATE)


def with_fulfillment(tx, uri):
    """``tx`` as posted with fulfillment 0 replaced by ``uri`` (the id ignores fulfillments)."""
    tx_dict = tx.to_dict()
    tx_dict["transaction"]["fulfillments"][0]["fulfillment"] = uri
    return Transaction.from_dict(tx_dict)


def wide_threshold_uri(count):
    """A cf:2 1-of-``count`` fulfillment: one signed key, ``count - 1`` bare conditions."""
    threshold = cc.ThresholdSha256Fulfillment(threshold=1)
    signed = cc.Ed25519Fulfillment(public_key=PUBLIC[0])
    signed.sign(b"anything", Ed25519SigningKey(PRIVATE[0]))
    threshold.add_subfulfillment(signed)
    for public_key in PUBLIC[1:count]:
        threshold.add_subcondition(cc.Ed25519Fulfillment(public_key=public_key).condition)
    return threshold.serialize_uri()


# -- owners and their conditions --------------------------------------------

def test_one_key_is_an_ed25519_condition_and_a_list_of_one_is_the_same():
    assert condition_uri_for(PUBLIC[0]) == condition_uri_for([PUBLIC[0]]) == condition_uri_for([[PUBLIC[0]]])
    assert condition_uri_for([PUBLIC[0]]).startswith("cc:4:20:")


def test_several_keys_are_an_n_of_n_threshold_whatever_their_order():
    uri = condition_uri_for(PUBLIC[:3])
    assert uri.startswith("cc:2:29:")
    assert condition_uri_for(PUBLIC[:3][::-1]) == uri  # subconditions are sorted
    assert condition_uri_for(PUBLIC[:2]) != uri


def test_a_threshold_of_the_maximum_size_is_built_signed_and_checked():
    tx = signed_create(PUBLIC[:MAX_THRESHOLD_SIZE], PUBLIC[:MAX_THRESHOLD_SIZE])
    parsed = Transaction.from_dict(tx.to_dict())
    parsed.validate_fulfillments(parsed.input_condition_uris())


@pytest.mark.parametrize("owners", [PUBLIC[:MAX_THRESHOLD_SIZE + 1], [PUBLIC[0], PUBLIC[1:MAX_THRESHOLD_SIZE + 2]]])
def test_a_larger_threshold_is_not_supported(owners):
    with pytest.raises(NotSupported, match=f"at most {MAX_THRESHOLD_SIZE} keys or lists, not {MAX_THRESHOLD_SIZE + 1}"):
        condition_uri_for(owners)
    with pytest.raises(NotSupported):
        Transaction.create([PUBLIC[0]], [(owners, 1)])


def test_nested_pairs_are_spendable_with_nested_owners_before():
    owners = [[PUBLIC[0], PUBLIC[1]], PUBLIC[2], [PUBLIC[3], PUBLIC[4]]]
    create = signed_create([PUBLIC[0]], owners)
    transfer = Transaction.transfer(create.to_inputs(), [([PUBLIC[5]], 1)], create.asset.id).sign(PRIVATE)
    parsed = Transaction.from_dict(transfer.to_dict())
    assert parsed.fulfillments[0].owners_before == owners
    parsed.validate_fulfillments([create.conditions[0].uri])


@pytest.mark.parametrize("owners", [
    [PUBLIC[0], [PUBLIC[1], PUBLIC[2], PUBLIC[3]]],
    [PUBLIC[0], [PUBLIC[1], [PUBLIC[2], PUBLIC[3]]]],
])
def test_nested_groups_the_package_cannot_encode_are_refused(owners):
    with pytest.raises(NotSupported, match="a nested list of owners may hold only two keys"):
        Transaction.create([PUBLIC[0]], [(owners, 1)])
    posted = vector_tx("create_single")
    posted["transaction"]["conditions"][0]["owners_after"] = owners
    with pytest.raises(NotSupported, match="condition 0: owners_after: these owners cannot be encoded"):
        Transaction.from_dict(posted)
    posted = vector_tx("create_single")
    posted["transaction"]["fulfillments"][0]["owners_before"] = owners
    with pytest.raises(NotSupported, match="fulfillment 0: owners_before: these owners cannot be encoded"):
        Transaction.from_dict(posted)


# -- fulfillments: size and cost ------------------------------------------------

def test_a_fulfillment_far_longer_than_its_condition_is_refused_before_parsing():
    tx = with_fulfillment(signed_create([PUBLIC[0]]), wide_threshold_uri(20))
    with pytest.raises(InvalidSignature, match=r"fulfillment 0 is far longer than the condition it spends allows \(96"):
        tx.validate_fulfillments(tx.input_condition_uris())


def test_a_wide_threshold_fulfillment_is_refused_quickly():
    """Sizing 30 subconditions the package's way takes 2**30 steps; the check must not get there."""
    tx = with_fulfillment(signed_create(PUBLIC[:MAX_THRESHOLD_SIZE]), wide_threshold_uri(30))
    start = time.perf_counter()
    with pytest.raises(NotSupported, match=f"threshold of 30 subconditions; at most {MAX_THRESHOLD_SIZE}"):
        tx.validate_fulfillments(tx.input_condition_uris())
    assert time.perf_counter() - start < 1


def test_a_one_of_n_fulfillment_does_not_meet_an_n_of_n_condition():
    tx = with_fulfillment(signed_create(PUBLIC[:3]), wide_threshold_uri(3))
    with pytest.raises(InvalidSignature, match="does not meet the condition it spends"):
        tx.validate_fulfillments(tx.input_condition_uris())


# -- fulfillments: one spelling each ----------------------------------------------

def test_ed25519_fulfillment_with_trailing_bytes_is_refused():
    tx = Transaction.from_dict(vector_tx("create_single"))
    payload = unb64(tx.fulfillments[0].uri[5:])
    for uri in ("cf:4:" + b64(payload + b"\0\0\0"), tx.fulfillments[0].uri + "A", tx.fulfillments[0].uri[:-1]):
        with pytest.raises(InvalidFulfillment, match=r"fulfillment 0 is not a valid cf:4 \(Ed25519\) URI"):
            with_fulfillment(tx, uri).validate_fulfillments(tx.input_condition_uris())


def test_threshold_fulfillment_with_trailing_bytes_is_refused():
    tx = Transaction.from_dict(vector_tx("create_two_signers"))
    payload = unb64(tx.fulfillments[0].uri[5:])
    changed = with_fulfillment(tx, "cf:2:" + b64(payload + b"\0"))
    with pytest.raises(InvalidFulfillment, match="fulfillment 0 is not in canonical form"):
        changed.validate_fulfillments(changed.input_condition_uris())


@pytest.mark.parametrize("uri", ["cf:4:", "cf:2:", "cf:2:AAAA", "cf:0:", "cf:ffff:AAAA", "cf:3:" + "A" * 40])
def test_malformed_fulfillments_are_validation_errors(uri):
    tx = Transaction.from_dict(vector_tx("create_single"))
    with pytest.raises(ValidationError, match="fulfillment 0"):
        with_fulfillment(tx, uri).validate_fulfillments(tx.input_condition_uris())


def test_a_preimage_fulfillment_does_not_meet_a_signature_condition():
    preimage = cc.PreimageSha256Fulfillment(b"secret").serialize_uri()
    tx = Transaction.from_dict(vector_tx("create_single"))
    with pytest.raises(InvalidSignature, match="does not meet the condition it spends"):
        with_fulfillment(tx, preimage).validate_fulfillments(tx.input_condition_uris())


def test_the_fast_ed25519_check_agrees_with_the_package():
    """Same verdicts as cryptoconditions for a valid, a wrong-message and a wrong-condition case."""
    tx = Transaction.from_dict(vector_tx("transfer_single"))
    uri = tx.fulfillments[0].uri
    condition = spent_condition_uris(tx)[0]
    package = cc.Fulfillment.from_uri(uri)
    message = b"not the message"
    assert not package.validate(message)
    with pytest.raises(InvalidSignature, match="does not validate"):
        check_fulfillment(uri, condition, message, "fulfillment 0")
    assert package.condition_uri == condition
    with pytest.raises(InvalidSignature, match="does not meet"):
        check_fulfillment(uri, condition_uri_for(PUBLIC[0]), message, "fulfillment 0")
    tx.validate_fulfillments([condition])


def test_divisible_asset_with_many_outputs_round_trips():
    create = Transaction.create([PUBLIC[0]], [([k], 2) for k in PUBLIC[:5]], asset=Asset(divisible=True))
    create.sign(PRIVATE)
    parsed = Transaction.from_dict(create.to_dict())
    parsed.validate_fulfillments(parsed.input_condition_uris())
    assert [c.amount for c in parsed.conditions] == [2] * 5


# -- threshold fulfillments of owners, checked without the package ---------------------

def package_accepts(uri, expected_uri, message):
    """The package's verdict alone: canonical, meets ``expected_uri``, validates ``message``."""
    try:
        parsed = cc.Fulfillment.from_uri(uri)
        return parsed.serialize_uri() == uri and parsed.condition_uri == expected_uri and parsed.validate(message)
    except Exception:
        return False


def our_verdict(uri, expected_uri, message):
    try:
        check_fulfillment(uri, expected_uri, message, "fulfillment 0")
    except ValidationError:
        return False
    return True


def package_signed(owners, message):
    """The package's fulfillment of n-of-n ``owners`` (keys, or pairs of keys), signed over ``message``."""
    threshold = cc.ThresholdSha256Fulfillment(threshold=len(owners))
    for owner in owners:
        if isinstance(owner, list):
            threshold.add_subfulfillment(cc.Fulfillment.from_uri(package_signed(owner, message)))
        else:
            leaf = cc.Ed25519Fulfillment(public_key=owner)
            leaf.sign(message, Ed25519SigningKey(PRIVATE[PUBLIC.index(owner)]))
            threshold.add_subfulfillment(leaf)
    return threshold.serialize_uri()


MESSAGE = b"what the fulfillment signs"
pair = st.lists(st.sampled_from(PUBLIC[:12]), min_size=2, max_size=2, unique=True)
threshold_owners = st.lists(st.sampled_from(PUBLIC[12:]) | pair, min_size=2, max_size=MAX_THRESHOLD_SIZE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(owners=threshold_owners, position=st.integers(0, 10_000), flip=st.integers(1, 255))
def test_threshold_fulfillments_of_owners_get_the_package_s_verdict(owners, position, flip):
    """Read directly (``thresholds``), a signed threshold of owners is accepted as by the package,
    refused for another message; with one byte changed both refuse it, or both accept it."""
    expected = condition_uri_for(owners)
    uri = package_signed(owners, MESSAGE)
    payload = unb64(uri[5:])
    assert thresholds.read(payload) is not None and thresholds.write(thresholds.read(payload)) == payload
    assert our_verdict(uri, expected, MESSAGE) and package_accepts(uri, expected, MESSAGE)
    assert not our_verdict(uri, expected, b"another") and not package_accepts(uri, expected, b"another")
    changed = bytearray(payload)
    changed[position % len(changed)] ^= flip
    changed_uri = "cf:2:" + b64(bytes(changed))
    assert our_verdict(changed_uri, expected, MESSAGE) == package_accepts(changed_uri, expected, MESSAGE)


def test_a_threshold_of_owners_is_checked_without_the_package(monkeypatch):
    owners = [[PUBLIC[2 * i], PUBLIC[2 * i + 1]] for i in range(MAX_THRESHOLD_SIZE)]
    uri = package_signed(owners, MESSAGE)

    def unused(*args, **kwargs):
        raise AssertionError("the package was asked")
    monkeypatch.setattr(cc.Fulfillment, "from_uri", unused)
    check_fulfillment(uri, condition_uri_for(owners), MESSAGE, "fulfillment 0")
    with pytest.raises(InvalidSignature, match="fulfillment 0 does not validate"):
        check_fulfillment(uri, condition_uri_for(owners), b"another", "fulfillment 0")
    with pytest.raises(InvalidSignature, match="does not meet the condition it spends"):
        check_fulfillment(uri, condition_uri_for(owners[::-1][:-1]), MESSAGE, "fulfillment 0")
