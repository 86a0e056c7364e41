"""Property tests: what holds for every transaction, not just the examples.

* build -> sign -> serialize -> parse round-trips and validates, for random
  owners (nested too), amounts, assets and metadata;
* changing any single byte of a signed transaction's canonical JSON makes it
  unparseable or invalid, never valid;
* orjson's canonical form equals the json module's for all protocol data;
* whatever dict a client sends, the only exceptions are ValidationErrors.
"""

import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Asset, Metadata, Transaction
from bigchaindb.common.utils import deserialize, serialize

from .conftest import VECTOR_KEYS, VECTORS, spent_condition_uris, vector_tx

KEYS = list(VECTOR_KEYS.values())
PRIVATE_KEYS = [k.private_key for k in KEYS]
PUBLIC_KEYS = [k.public_key for k in KEYS]
SAFE_INT = st.integers(min_value=-(2**53 - 1), max_value=2**53 - 1)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)  # any unicode but lone surrogates

FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | SAFE_INT | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)
json_objects = st.dictionaries(TEXT, json_values, max_size=4)

# an owner is a key or a pair of keys (a nested 2-of-2: cryptoconditions 0.5 can encode no larger nested group)
key = st.sampled_from(PUBLIC_KEYS)
owner = key | st.lists(key, min_size=2, max_size=2, unique=True)
owners = st.lists(owner, min_size=1, max_size=3)


@st.composite
def recipients(draw, total=None):
    """(owners, amount) pairs; amounts sum to ``total`` when it is given."""
    count = draw(st.integers(1, 3))
    if total is None:
        amounts = draw(st.lists(st.integers(1, 2**51), min_size=count, max_size=count))
    else:
        cuts = sorted(draw(st.lists(st.integers(1, total - 1), max_size=count - 1, unique=True))) if total > 1 else []
        amounts = [b - a for a, b in zip([0] + cuts, cuts + [total])]
    return [(draw(owners), amount) for amount in amounts]


@st.composite
def creates(draw):
    """A signed CREATE of a divisible or non-divisible asset."""
    divisible = draw(st.booleans())
    outputs = draw(recipients()) if divisible else [(draw(owners), 1)]
    assume(not divisible or sum(a for _, a in outputs) >= 2)
    asset = Asset(draw(st.none() | json_objects), divisible=divisible)
    metadata = draw(st.none() | json_objects.map(Metadata))
    return Transaction.create(draw(owners), outputs, asset=asset, metadata=metadata).sign(PRIVATE_KEYS)


@st.composite
def transfers(draw):
    """A signed CREATE and a signed TRANSFER of all its outputs."""
    create = draw(creates())
    total = sum(c.amount for c in create.conditions)
    outputs = draw(recipients(total)) if create.asset.divisible else [(draw(owners), 1)]
    metadata = draw(st.none() | json_objects.map(Metadata))
    transfer = Transaction.transfer(create.to_inputs(), outputs, create.asset.id, metadata).sign(PRIVATE_KEYS)
    return create, transfer


def round_trip(tx, spent_uris):
    raw = serialize(tx.to_dict())
    assert raw == json.dumps(tx.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    parsed = Transaction.from_dict(deserialize(raw))
    parsed.validate_fulfillments(spent_uris)
    assert parsed.to_dict() == tx.to_dict()
    assert serialize(parsed.to_dict()) == raw


@FEW
@given(creates())
def test_create_round_trips_and_validates(create):
    round_trip(create, create.input_condition_uris())


@FEW
@given(transfers())
def test_transfer_round_trips_and_validates(pair):
    create, transfer = pair
    round_trip(transfer, [c.uri for c in create.conditions])


def accepts(raw, spent_uris):
    """True if the node would accept ``raw``; False if it refuses it with a ValidationError.

    Any other exception propagates and fails the test: it would be a 500.
    """
    try:
        tx = Transaction.from_dict(deserialize(raw))
        tx.validate_fulfillments(spent_uris)
    except ValidationError:
        return False
    return True


@st.composite
def single_byte_changes(draw, signed):
    tx, spent_uris = draw(signed)
    raw = bytearray(serialize(tx.to_dict()))
    position = draw(st.integers(0, len(raw) - 1))
    raw[position] ^= draw(st.integers(1, 255))
    return bytes(raw), spent_uris


signed_creates = creates().map(lambda c: (c, c.input_condition_uris()))
signed_transfers = transfers().map(lambda pair: (pair[1], [c.uri for c in pair[0].conditions]))


@MANY
@given(single_byte_changes(signed_creates))
def test_changing_any_byte_of_a_create_invalidates_it(change):
    assert not accepts(*change)


@MANY
@given(single_byte_changes(signed_transfers))
def test_changing_any_byte_of_a_transfer_invalidates_it(change):
    assert not accepts(*change)


@MANY
@given(json_values)
def test_orjson_canonical_form_equals_json_dumps(value):
    assert serialize(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- fuzzing from_dict -----------------------------------------------------

@MANY
@given(json_values)
def test_any_json_value_is_refused_with_a_validation_error(value):
    assert not accepts(serialize(value), [])


@st.composite
def damaged_vectors(draw):
    """A vector with one subtree replaced, deleted or given an extra key."""
    name = draw(st.sampled_from(sorted(VECTORS)))
    tx = vector_tx(name)
    parent, key = None, None
    node = tx
    while isinstance(node, (dict, list)) and node and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        parent, node = node, node[key]
    action = draw(st.sampled_from(["replace", "delete", "add"] if parent is not None else ["add"]))
    if action == "replace":
        parent[key] = draw(json_values)
    elif action == "delete":
        del parent[key]
    elif isinstance(node, dict):
        node[draw(TEXT)] = draw(json_values)
    elif isinstance(node, list):
        node.append(draw(json_values))
    return name, tx


@MANY
@given(damaged_vectors())
def test_a_damaged_vector_never_crashes_the_checks(damaged):
    name, tx = damaged
    try:
        parsed = Transaction.from_dict(tx)
        parsed.validate_fulfillments(spent_condition_uris(parsed))
    except ValidationError as exc:
        assert str(exc)  # a message for the client


def test_every_single_byte_change_of_the_vectors_is_refused():
    """Exhaustively, for a 2-input TRANSFER and a threshold-signed CREATE: each byte, two kinds of change."""
    for name in ("transfer_two_inputs", "create_two_signers"):
        tx = Transaction.from_dict(vector_tx(name))
        spent_uris = spent_condition_uris(tx)
        raw = serialize(tx.to_dict())
        assert accepts(raw, spent_uris)
        for position in range(len(raw)):
            for flip in (0x01, 0x20):
                changed = bytearray(raw)
                changed[position] ^= flip
                assert not accepts(bytes(changed), spent_uris), (name, position, flip)
