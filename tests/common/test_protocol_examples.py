"""docs/protocol.md §3 and §8: the worked examples, reproduced byte for byte,
and the page shows exactly these."""

from pathlib import Path

from bigchaindb.common.transaction import Asset, Metadata, Transaction, condition_uri_for
from bigchaindb.common.utils import deserialize, serialize

from .conftest import U1, U2

V1_CANONICAL = (
    '{"id":"ba97b029ccce7680423999c407017db37b5793533090fb70ea10612488298fa6","transaction":{"asset":'
    '{"data":{"msg":"Hello BigchainDB!"},"divisible":false,"id":"dc568f27-a113-46b4-9bd4-43015859e3e3",'
    '"refillable":false,"updatable":false},"conditions":[{"amount":1,"cid":0,"condition":{"details":'
    '{"bitmask":32,"public_key":"JEAkEJqLbbgDRAtMm8YAjGp759Aq2qTn9eaEHUj2XePE","signature":null,'
    '"type":"fulfillment","type_id":4},"uri":"cc:4:20:__Y_Um6H73iwPe6ejWXEw930SQhqVGjtAHTXilPp0P0:96"},'
    '"owners_after":["JEAkEJqLbbgDRAtMm8YAjGp759Aq2qTn9eaEHUj2XePE"]}],"fulfillments":[{"fid":0,'
    '"fulfillment":"cf:4:__Y_Um6H73iwPe6ejWXEw930SQhqVGjtAHTXilPp0P2a2mB_inEt0-kbhD54f_4WalaU6zD8HPhM2Y'
    'iZSMkq6WikqYkICh3gCeOFvakavMQDn3wy2l6F4xxtziLZp7cJ","input":null,"owners_before":'
    '["JEAkEJqLbbgDRAtMm8YAjGp759Aq2qTn9eaEHUj2XePE"]}],"metadata":{"data":{"planet":"earth"},'
    '"id":"3f5f2d3e-5a8c-4b8e-9d3a-1c2b3a4d5e6f"},"operation":"CREATE"},"version":1}'
)
V1_ID = "ba97b029ccce7680423999c407017db37b5793533090fb70ea10612488298fa6"
V2_ID = "2cbefb32615e6c6528593145a494ca8da7233df303a31712d3438bd91575928d"


def make_v1():
    asset = Asset({"msg": "Hello BigchainDB!"}, asset_id="dc568f27-a113-46b4-9bd4-43015859e3e3")
    metadata = Metadata({"planet": "earth"}, "3f5f2d3e-5a8c-4b8e-9d3a-1c2b3a4d5e6f")
    return Transaction.create([U1.public_key], [([U1.public_key], 1)], asset=asset, metadata=metadata).sign(
        [U1.private_key])


def make_v2():
    v1 = make_v1()
    return Transaction.transfer(v1.to_inputs([0]), [([U2.public_key], 1)], v1.asset.id).sign([U1.private_key])


def test_condition_uri_of_u1():
    assert condition_uri_for([U1.public_key]) == "cc:4:20:__Y_Um6H73iwPe6ejWXEw930SQhqVGjtAHTXilPp0P0:96"


def test_condition_uri_of_u1_and_u2():
    assert condition_uri_for([U1.public_key, U2.public_key]) == \
        "cc:2:29:fQl8oRQZxJLbiA-4Rfo-oHwhclQBh0TQh_gHbfFtH6c:206"


def test_v1_is_reproduced_byte_for_byte():
    v1 = make_v1()
    assert v1.id == V1_ID
    assert serialize(v1.to_dict()) == V1_CANONICAL.encode()


def test_v1_canonical_string_parses_and_validates():
    v1 = Transaction.from_dict(deserialize(V1_CANONICAL))
    v1.validate_fulfillments(v1.input_condition_uris())
    assert serialize(v1.to_dict()) == V1_CANONICAL.encode()


def test_v2_id_and_signature():
    v2 = make_v2()
    assert v2.id == V2_ID
    parsed = Transaction.from_dict(v2.to_dict())
    parsed.validate_fulfillments([make_v1().conditions[0].uri])
    assert parsed.to_dict()["transaction"]["asset"] == {"id": "dc568f27-a113-46b4-9bd4-43015859e3e3"}
    assert parsed.fulfillments[0].tx_input.to_dict() == {"txid": V1_ID, "cid": 0}


def test_the_protocol_page_shows_these_examples():
    page = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
    for shown in (V1_CANONICAL, V1_ID, V2_ID, condition_uri_for([U1.public_key]),
                  condition_uri_for([U1.public_key, U2.public_key]), U1.private_key, U2.public_key):
        assert shown in page
