"""Floats in asset and metadata data, written and hashed as the reference did.

* every one of the reference's 4,000 texts of doubles (floats.jsonl) is
  reproduced byte for byte, and any double's text reads back as that double;
* the reference's transactions with floats are accepted, keep their ids and
  validate;
* a float and an integer of the same value are different data with
  different ids; the parsed value is what is hashed (12.50 is 12.5);
* a client's flow of the 0.8 era (time.time() in asset data, float metadata
  on the TRANSFER) builds, signs and validates.
"""

import json
import math
import struct
import time

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bigchaindb.common.exceptions import InvalidHash
from bigchaindb.common.floats import reference_text
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import deserialize, holds_float, serialize
from tests.vectors import load_float_texts, load_float_vectors

from .conftest import VECTOR_KEYS, spent_condition_uris

FLOAT_TEXTS = load_float_texts()
FLOAT_VECTORS = load_float_vectors()
ALICE, BOB = VECTOR_KEYS["alice"], VECTOR_KEYS["bob"]


def test_every_reference_text_is_reproduced_byte_for_byte():
    assert len(FLOAT_TEXTS) == 4000
    wrong = [(value, text, reference_text(value)) for value, text in FLOAT_TEXTS if reference_text(value) != text]
    assert not wrong, f"{len(wrong)} differ, the first: {wrong[:5]}"


@pytest.mark.parametrize("value, text", [
    (0.0, "0.0"), (-0.0, "-0.0"), (1.0, "1.0"), (100.0, "100.0"), (1e20, "100000000000000000000.0"),
    (1e21, "1e21"), (1e-6, "0.000001"), (1e-7, "1e-7"), (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e308"), (1795997816.9628924, "1795997816.9628924"),
])
def test_the_notation_switches(value, text):
    assert reference_text(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_has_no_text_for_nan_and_infinities(value):
    with pytest.raises(ValueError, match="is not a finite number"):
        reference_text(value)


def bits_to_double(bits):
    return struct.unpack("<d", struct.pack("<Q", bits))[0]


any_double = st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 2**64 - 1).map(
    bits_to_double).filter(math.isfinite)


@settings(max_examples=3000, deadline=None)
@given(any_double)
def test_the_text_reads_back_as_the_same_double(value):
    text = reference_text(value)
    for parsed in (float(text), orjson.loads(text), json.loads(text)):
        assert parsed == value and math.copysign(1.0, parsed) == math.copysign(1.0, value), text
    assert isinstance(orjson.loads(text), float)  # never written like an integer


@pytest.mark.parametrize("vector", FLOAT_VECTORS, ids=[v["name"] for v in FLOAT_VECTORS])
def test_the_reference_transactions_with_floats_are_accepted(vector):
    tx_dict = vector["tx"]
    assert vector["expect"] == "valid" and holds_float(tx_dict["transaction"]["metadata"])
    tx = Transaction.from_dict(deserialize(json.dumps(tx_dict)))
    assert tx.id == tx_dict["id"]
    spent = {v["tx"]["id"]: v["tx"] for v in FLOAT_VECTORS}
    uris = [spent[f.tx_input.txid]["transaction"]["conditions"][f.tx_input.cid]["condition"]["uri"]
            for f in tx.fulfillments] if tx.operation == "TRANSFER" else tx.input_condition_uris()
    tx.validate_fulfillments(uris)
    assert tx.to_dict() == tx_dict


def test_a_float_and_an_integer_are_different_data():
    as_float = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)], asset=Asset({"n": 1.0}))
    as_int = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)],
                                asset=Asset({"n": 1}, asset_id=as_float.asset.id))
    assert b'"data":{"n":1.0}' in serialize(as_float.to_dict())
    assert b'"data":{"n":1}' in serialize(as_int.to_dict())
    assert as_float.id != as_int.id
    for tx in (as_float, as_int):
        tx.sign([ALICE.private_key])
        raw = orjson.dumps(tx.to_dict())
        parsed = Transaction.from_dict(deserialize(raw))
        assert parsed.id == tx.id and type(parsed.asset.data["n"]) is type(tx.asset.data["n"])


def test_the_parsed_value_is_hashed_not_the_posted_text():
    """A client posting 12.50 gets the id of 12.5, as with the reference."""
    tx = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)], asset=Asset({"price": 12.5}))
    tx.sign([ALICE.private_key])
    raw = serialize(tx.to_dict())
    assert b'"price":12.5,' in raw or b'"price":12.5}' in raw
    posted = Transaction.from_dict(deserialize(raw.replace(b'"price":12.5', b'"price":12.50')))
    assert posted.id == tx.id
    posted.validate_fulfillments(posted.input_condition_uris())
    # and the id of the same transaction with the integer 12 is another
    other = json.loads(raw.replace(b'"price":12.5', b'"price":12'))
    with pytest.raises(InvalidHash):
        Transaction.from_dict(other)


def test_the_reference_notation_is_what_is_hashed():
    """1e22 (orjson and Python write 1e+22) and a value where Grisu2's digits are not the shortest."""
    tx = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)],
                            asset=Asset({"big": 1e22, "t": 1795997816.9628924, "small": 1e-7}))
    raw = serialize(tx.to_dict())
    for text in (b'"big":1e22', b'"t":1795997816.9628924', b'"small":1e-7'):
        assert text in raw
    assert repr(1795997816.9628924) == "1795997816.9628923"  # what Python would have hashed


def test_a_driver_flow_with_floats_validates():
    """An asset holding time.time(), then a TRANSFER with float metadata, as 0.8 clients wrote them."""
    create = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)],
                                asset=Asset({"created": time.time(), "reading": -12.75}))
    create.sign([ALICE.private_key])
    transfer = Transaction.transfer(create.to_inputs(), [([BOB.public_key], 1)], create.asset.id,
                                    metadata={"paid": 1795997816.9628924, "fee": [0.1, 1e-7]})
    transfer.sign([ALICE.private_key])
    for tx, uris in ((create, create.input_condition_uris()), (transfer, [create.conditions[0].uri])):
        parsed = Transaction.from_dict(deserialize(orjson.dumps(tx.to_dict())))
        assert parsed.id == tx.id and parsed.holds_floats()
        parsed.validate_fulfillments(uris)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=4), st.floats(allow_nan=False, allow_infinity=False)
                       | st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=3), max_size=5))
def test_any_float_data_round_trips_through_json_with_its_id(data):
    tx = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)], asset=Asset(data), metadata=data)
    tx.sign([ALICE.private_key])
    parsed = Transaction.from_dict(deserialize(orjson.dumps(tx.to_dict())))
    assert parsed.id == tx.id
    parsed.validate_fulfillments(spent_condition_uris(parsed))


def test_without_floats_the_canonical_form_is_unchanged():
    data = {"b": [1, "x", None, True], "a": {"c": -3}}
    assert not holds_float(data)
    assert serialize(data) == serialize(data, floats=True) == b'{"a":{"c":-3},"b":[1,"x",null,true]}'
