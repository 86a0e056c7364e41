"""Every shape rule of docs/protocol.md §2, with the message a client reads.

Each case breaks one rule of a valid vector and says which ValidationError
subclass ``Transaction.from_dict`` must raise and what its message must say.
Cases whose rule is checked after the id are re-hashed (``rehash``) so that
they fail on that rule, not on the id.
"""

import hashlib
import json

import pytest

from bigchaindb.common.exceptions import (
    AmountError,
    InvalidFulfillment,
    InvalidHash,
    NotSupported,
    OperationError,
    SchemaValidationError,
    ValidationError,
)
from bigchaindb.common.transaction import Transaction
from bigchaindb.common.utils import deserialize, serialize
from bigchaindb.common.values import MAX_NESTING

from .conftest import vector_tx

ALICE = "DJeBpu5wuH2aAtTKJ1rdYKCvzjqU9r4kCpXrgd3v3WsE"
BOB = "8YKjFUq3vWDdqnCXHopFDZtb5WP6sztRjkVmQyCwt7Y1"
TX = ("transaction",)
FF0 = TX + ("fulfillments", 0)
C0 = TX + ("conditions", 0)
ASSET = TX + ("asset",)


def rehash(tx):
    """Give ``tx`` the id docs/protocol.md §2 defines for its contents."""
    body = {"version": tx["version"], "transaction": dict(
        tx["transaction"], fulfillments=[dict(f, fulfillment=None) for f in tx["transaction"]["fulfillments"]])}
    tx["id"] = hashlib.sha3_256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    return tx


def at(tx, path):
    for part in path:
        tx = tx[part]
    return tx


def setting(path, value):
    def mutate(tx):
        at(tx, path[:-1])[path[-1]] = value
    return mutate


def deleting(path):
    def mutate(tx):
        del at(tx, path[:-1])[path[-1]]
    return mutate


def nested(depth):
    value = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def nested_owners(depth):
    """[[...[ALICE, BOB]..., BOB], BOB]: a threshold nested ``depth`` times."""
    owners = [ALICE, BOB]
    for _ in range(depth):
        owners = [owners, BOB]
    return owners


# (case id, vector, mutation, exception, regex the message must match)
CASES = [
    # unknown keys, at every level
    ("timestamp in transaction", "create_single", setting(TX + ("timestamp",), "1480000000"),
     SchemaValidationError, r"^unknown key 'timestamp' in transaction$"),
    ("unknown top-level key", "create_single", setting(("signature",), "x"),
     SchemaValidationError, r"unknown key 'signature' in the top level"),
    ("unknown fulfillment key", "create_single", setting(FF0 + ("owners_after",), [ALICE]),
     SchemaValidationError, r"unknown key 'owners_after' in transaction\.fulfillments\[0\]"),
    ("unknown condition key", "create_single", setting(C0 + ("asset",), {}),
     SchemaValidationError, r"unknown key 'asset' in transaction\.conditions\[0\]"),
    ("unknown condition body key", "create_single", setting(C0 + ("condition", "type"), "x"),
     SchemaValidationError, r"unknown key 'type' in transaction\.conditions\[0\]\.condition"),
    ("unknown asset key", "create_single", setting(ASSET + ("owner",), ALICE),
     SchemaValidationError, r"unknown key 'owner' in transaction\.asset"),
    ("unknown key in a TRANSFER's asset", "transfer_single", setting(ASSET + ("data",), {}),
     SchemaValidationError, r"unknown key 'data' in transaction\.asset"),
    ("unknown input key", "transfer_single", setting(FF0 + ("input", "amount"), 1),
     SchemaValidationError, r"unknown key 'amount' in transaction\.fulfillments\[0\]\.input"),
    ("unknown metadata key", "create_with_metadata", setting(TX + ("metadata", "owner"), ALICE),
     SchemaValidationError, r"unknown key 'owner' in transaction\.metadata"),
    # missing keys
    ("missing id", "create_single", deleting(("id",)), SchemaValidationError, r"missing key 'id' in the top level"),
    ("missing version", "create_single", deleting(("version",)),
     SchemaValidationError, r"missing key 'version' in the top level"),
    ("missing metadata", "create_single", deleting(TX + ("metadata",)),
     SchemaValidationError, r"missing key 'metadata' in transaction$"),
    ("missing input", "create_single", deleting(FF0 + ("input",)),
     SchemaValidationError, r"missing key 'input' in transaction\.fulfillments\[0\]"),
    ("missing amount", "create_single", deleting(C0 + ("amount",)),
     SchemaValidationError, r"missing key 'amount' in transaction\.conditions\[0\]"),
    ("missing details", "create_single", deleting(C0 + ("condition", "details")),
     SchemaValidationError, r"missing key 'details' in transaction\.conditions\[0\]\.condition"),
    ("missing divisible", "create_single", deleting(ASSET + ("divisible",)),
     SchemaValidationError, r"missing key 'divisible' in transaction\.asset"),
    ("missing asset id", "transfer_single", deleting(ASSET + ("id",)),
     SchemaValidationError, r"missing key 'id' in transaction\.asset"),
    # wrong types
    ("version as string", "create_single", setting(("version",), "1"),
     SchemaValidationError, r"version must be of type integer, not string"),
    ("version 2", "create_single", setting(("version",), 2), SchemaValidationError, r"version must be one of 1, not 2"),
    ("operation unknown", "create_single", setting(TX + ("operation",), "UPDATE"),
     SchemaValidationError, r'transaction\.operation must be one of "CREATE", "TRANSFER", "GENESIS", not "UPDATE"'),
    ("fulfillments as object", "create_single", setting(TX + ("fulfillments",), {}),
     SchemaValidationError, r"transaction\.fulfillments must be of type array, not object"),
    ("no fulfillments", "create_single", setting(TX + ("fulfillments",), []),
     SchemaValidationError, r"transaction\.fulfillments must have at least 1 item"),
    ("no conditions", "create_single", setting(TX + ("conditions",), []),
     SchemaValidationError, r"transaction\.conditions must have at least 1 item"),
    ("owners_before as string", "create_single", setting(FF0 + ("owners_before",), ALICE),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.owners_before must be of type array, not string"),
    ("empty owners_after", "create_single", setting(C0 + ("owners_after",), []),
     SchemaValidationError, r"transaction\.conditions\[0\]\.owners_after must have at least 1 item"),
    ("amount as string", "create_single", setting(C0 + ("amount",), "1"),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount must be of type integer, not string"),
    ("amount as boolean", "create_single", setting(C0 + ("amount",), True),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount must be of type integer, not boolean"),
    ("asset data as list", "create_single", setting(ASSET + ("data",), [1]),
     SchemaValidationError, r"transaction\.asset\.data must be of type object or null, not array"),
    ("metadata data null", "create_with_metadata", setting(TX + ("metadata", "data"), None),
     SchemaValidationError, r"transaction\.metadata\.data must be of type object, not null"),
    ("divisible as string", "create_single", setting(ASSET + ("divisible",), "false"),
     SchemaValidationError, r"transaction\.asset\.divisible must be of type boolean, not string"),
    ("id as array", "create_single", setting(("id",), []), SchemaValidationError, r"^id must be of type string, not array"),
    # floats outside asset and metadata data (where the schema names integers, or nothing),
    # integers a double cannot hold exactly
    ("amount 1.0", "create_single", setting(C0 + ("amount",), 1.0),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount is a float \(1\.0\); numbers in a transaction are integers"),
    ("version 1.0", "create_single", setting(("version",), 1.0), SchemaValidationError, r"^version is a float"),
    ("fid 0.0", "create_single", setting(FF0 + ("fid",), 0.0),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.fid is a float \(0\.0\); numbers in a transaction are integers"),
    ("cid 0.0", "create_single", setting(C0 + ("cid",), 0.0),
     SchemaValidationError, r"transaction\.conditions\[0\]\.cid is a float \(0\.0\)"),
    ("input cid 0.0", "transfer_single", setting(FF0 + ("input", "cid"), 0.0),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.input\.cid is a float \(0\.0\)"),
    ("float in condition details", "create_single", setting(C0 + ("condition", "details", "weight"), 1.5),
     SchemaValidationError, r"transaction\.conditions\[0\]\.condition\.details\.weight is a float"),
    ("float beside the data", "create_single", setting(ASSET + ("price",), 2.5),
     SchemaValidationError, r"transaction\.asset\.price is a float"),
    ("float as a TRANSFER's asset data", "transfer_single", setting(ASSET + ("data",), {"x": 2.5}),
     SchemaValidationError, r"unknown key 'data' in transaction\.asset"),
    ("infinity in asset data", "create_single", setting(ASSET + ("data",), {"x": [float("inf")]}),
     SchemaValidationError, r"transaction\.asset\.data\.x\[0\] is not a finite number \(inf\)"),
    ("NaN in metadata data", "create_with_metadata", setting(TX + ("metadata", "data"), {"x": float("nan")}),
     SchemaValidationError, r"transaction\.metadata\.data\.x is not a finite number \(nan\)"),
    ("non-JSON value", "create_single", setting(ASSET + ("data",), {"t": (1, 2)}),
     SchemaValidationError, r"transaction\.asset\.data\.t is not a JSON value \(tuple\)"),
    ("integer 2**53 in data", "create_single", setting(ASSET + ("data",), {"n": 2**53}),
     SchemaValidationError, r"transaction\.asset\.data\.n is an integer of magnitude 2\*\*53 or more"),
    ("integer -2**53 in data", "create_single", setting(ASSET + ("data",), {"n": -2**53}),
     SchemaValidationError, r"transaction\.asset\.data\.n is an integer of magnitude 2\*\*53 or more"),
    # amounts
    ("amount zero", "create_single", setting(C0 + ("amount",), 0),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount must be at least 1, not 0"),
    ("amount negative", "create_single", setting(C0 + ("amount",), -5),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount must be at least 1, not -5"),
    ("amount 2**53", "create_divisible", setting(C0 + ("amount",), 2**53),
     SchemaValidationError, r"transaction\.conditions\[0\]\.amount is an integer of magnitude 2\*\*53 or more"),
    # identifiers
    ("asset id uppercase", "create_single", setting(ASSET + ("id",), "FA3508A1-18A9-44B9-AB8B-17E91D551FD6"),
     SchemaValidationError, r"transaction\.asset\.id is not a valid lowercase uuid4"),
    ("asset id uuid1", "create_single", setting(ASSET + ("id",), "fa3508a1-18a9-14b9-ab8b-17e91d551fd6"),
     SchemaValidationError, r"transaction\.asset\.id is not a valid lowercase uuid4"),
    ("asset id with newline", "create_single", setting(ASSET + ("id",), "fa3508a1-18a9-44b9-ab8b-17e91d551fd6\n"),
     SchemaValidationError, r"transaction\.asset\.id is not a valid lowercase uuid4"),
    ("metadata id not uuid", "create_with_metadata", setting(TX + ("metadata", "id"), "1"),
     SchemaValidationError, r"transaction\.metadata\.id is not a valid lowercase uuid4"),
    ("id uppercase hex", "create_single", lambda tx: tx.update(id=tx["id"].upper()),
     SchemaValidationError, r"^id is not a valid 64-character lowercase hex id"),
    ("id too short", "create_single", lambda tx: tx.update(id=tx["id"][:63]),
     SchemaValidationError, r"^id is not a valid 64-character lowercase hex id"),
    ("input txid not hex", "transfer_single", setting(FF0 + ("input", "txid"), "z" * 64),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.input\.txid is not a valid 64-character lowercase hex id"),
    ("input cid negative", "transfer_single", setting(FF0 + ("input", "cid"), -1),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.input\.cid must be at least 0"),
    # keys
    ("owner_before with 0", "create_single", setting(FF0 + ("owners_before",), ["0" + ALICE[1:]]),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.owners_before\[0\] is not a valid base58 public key or a list"),
    ("owner_before too short", "create_single", setting(FF0 + ("owners_before",), [ALICE[:40]]),
     SchemaValidationError, r"owners_before\[0\] is not a valid base58 public key or a list"),
    ("owner_after with l", "create_single", setting(C0 + ("owners_after",), ["l" + ALICE[1:]]),
     SchemaValidationError, r"transaction\.conditions\[0\]\.owners_after\[0\] is not a valid base58 public key or a list"),
    ("owner_before not 32 bytes", "create_single", setting(FF0 + ("owners_before",), ["z" * 44]),
     InvalidFulfillment, r"fulfillment 0: owners_before: 'z{44}' is not a valid Ed25519 public key"),
    ("owner_after not 32 bytes", "create_single", setting(C0 + ("owners_after",), ["z" * 44]),
     InvalidFulfillment, r"condition 0: owners_after: 'z{44}' is not a valid Ed25519 public key"),
    # URIs
    ("condition uri not cc:", "create_single", setting(C0 + ("condition", "uri"), "cf:4:20:abc:96"),
     SchemaValidationError, r"transaction\.conditions\[0\]\.condition\.uri is not a valid cc: condition URI"),
    ("condition uri with padding", "create_single",
     setting(C0 + ("condition", "uri"), "cc:4:20:ttEp-MWCpIm_ce67-4-jJ7lxVdX2nE31Ntzq0hsn19U=:96"),
     SchemaValidationError, r"condition\.uri is not a valid cc: condition URI"),
    ("fulfillment uri not cf:", "create_single", setting(FF0 + ("fulfillment",), "cc:4:abc"),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.fulfillment is not a valid cf: fulfillment URI"),
    ("fulfillment uri with +", "create_single", setting(FF0 + ("fulfillment",), "cf:4:ab+c"),
     SchemaValidationError, r"fulfillment is not a valid cf: fulfillment URI"),
    ("condition uri of someone else", "create_single",
     setting(C0 + ("condition", "uri"), "cc:4:20:cAf9aPiThxD6bbW6Sjsb4KcKMrruUaQMMhO9_AE0apY:96"),
     InvalidFulfillment, r"condition 0: uri cc:4:20:cAf9\S+ is not the condition of its owners_after \(cc:4:20:ttEp"),
    ("details of someone else", "create_single", setting(C0 + ("condition", "details", "public_key"), BOB),
     InvalidFulfillment, r"condition 0: details do not match the uri cc:4:20:ttEp"),
    ("details signed", "create_single", setting(C0 + ("condition", "details", "signature"), "abc"),
     InvalidFulfillment, r"condition 0: details do not match the uri"),
    ("details with true for weight 1", "create_multisig",
     setting(C0 + ("condition", "details", "subfulfillments", 0, "weight"), True),
     InvalidFulfillment, r"condition 0: details do not match the uri cc:2:29:"),
    ("details of a threshold reordered", "create_multisig",
     lambda tx: at(tx, C0 + ("condition", "details", "subfulfillments")).reverse(),
     InvalidFulfillment, r"condition 0: details do not match the uri cc:2:29:"),
    # indexes
    ("fid 1 at index 0", "create_single", setting(FF0 + ("fid",), 1),
     SchemaValidationError, r"transaction\.fulfillments\[0\]\.fid must be 0"),
    ("cid 1 at index 0", "create_single", setting(C0 + ("cid",), 1),
     SchemaValidationError, r"transaction\.conditions\[0\]\.cid must be 0"),
    ("cids swapped", "create_divisible_split",
     lambda tx: [c.update(cid=1 - c["cid"]) for c in tx["transaction"]["conditions"]],
     SchemaValidationError, r"transaction\.conditions\[0\]\.cid must be 0"),
    # nesting
    ("data nested too deep", "create_single", setting(ASSET + ("data",), nested(MAX_NESTING)),
     SchemaValidationError, rf"transaction\.asset\.data(\.a)+ is nested deeper than {MAX_NESTING} levels"),
    ("owners nested too deep", "create_single", setting(C0 + ("owners_after",), nested_owners(200)),
     SchemaValidationError, r"transaction\.conditions\[0\]\.owners_after(\[0\])+ is nested deeper than"),
    ("too many owners in one threshold", "create_single", setting(C0 + ("owners_after",), [ALICE] * 9),
     NotSupported, r"condition 0: owners_after: a list of owners may hold at most 8 keys or lists, not 9"),
    # the id
    ("id of other contents", "create_single", setting(ASSET + ("data",), {"msg": "changed"}),
     InvalidHash, r"^transaction id e8c2ad94\w+ does not match its contents \(expected \w{64}\)$"),
]

# rules checked after the id: the case is re-hashed so only the rule is broken
REHASHED = [
    ("updatable", "create_single", setting(ASSET + ("updatable",), True),
     NotSupported, r"^updatable assets are not supported$"),
    ("refillable", "create_single", setting(ASSET + ("refillable",), True),
     NotSupported, r"^refillable assets are not supported$"),
    ("non-divisible total 2", "create_single", setting(C0 + ("amount",), 2),
     AmountError, r"^a non-divisible asset must have a total amount of 1, not 2$"),
    ("non-divisible split", "create_divisible_split", setting(ASSET + ("divisible",), False),
     AmountError, r"^a non-divisible asset must have a total amount of 1, not 10$"),
    ("divisible total 1", "create_single", setting(ASSET + ("divisible",), True),
     AmountError, r"^a divisible asset must have a total amount of at least 2, not 1$"),
    ("CREATE with an input", "create_single",
     setting(FF0 + ("input",), {"txid": "e8c2ad948ec2516d5e98b780aad48152fdcd98c3f3ca51125e923ac5b83adebd", "cid": 0}),
     OperationError, r"^fulfillment 0 of a CREATE must have input null$"),
    ("TRANSFER without input", "transfer_single", setting(FF0 + ("input",), None),
     OperationError, r"^fulfillment 0 of a TRANSFER has no input$"),
]


@pytest.mark.parametrize("vector, mutate, error, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_is_enforced_with_a_readable_message(vector, mutate, error, words):
    tx = vector_tx(vector)
    mutate(tx)
    with pytest.raises(error, match=words):
        Transaction.from_dict(tx)


@pytest.mark.parametrize("vector, mutate, error, words", [c[1:] for c in REHASHED], ids=[c[0] for c in REHASHED])
def test_rule_checked_after_the_id_is_enforced(vector, mutate, error, words):
    tx = vector_tx(vector)
    mutate(tx)
    with pytest.raises(error, match=words):
        Transaction.from_dict(rehash(tx))


@pytest.mark.parametrize("case", CASES + REHASHED, ids=[c[0] for c in CASES + REHASHED])
def test_every_rule_raises_a_validation_error(case):
    """The web layer turns ValidationError into a 400: no rule may raise anything else."""
    assert issubclass(case[3], ValidationError)


@pytest.mark.parametrize("value", [None, [], "tx", 1, True])
def test_a_non_object_is_refused(value):
    with pytest.raises(SchemaValidationError, match=r"the top level must be of type object"):
        Transaction.from_dict(value)


def test_an_amount_beyond_64_bits_in_raw_json_is_refused():
    """orjson parses it as a float; the message still says what is allowed."""
    raw = serialize(vector_tx("create_divisible")).replace(b'"amount":10', b'"amount":18446744073709551616')
    with pytest.raises(SchemaValidationError, match=r"amount is a float \(1\.8\d+e\+19\); numbers in a transaction "
                                                      r"are integers of magnitude below 2\*\*53"):
        Transaction.from_dict(deserialize(raw))


def test_a_lone_surrogate_is_refused_not_crashed_on():
    tx = vector_tx("create_single")
    tx["transaction"]["asset"]["data"] = {"s": "\ud800"}
    with pytest.raises(SchemaValidationError, match="cannot be written as canonical JSON"):
        Transaction.from_dict(tx)


def test_a_non_string_key_is_refused_not_crashed_on():
    tx = vector_tx("create_single")
    tx["transaction"]["asset"]["data"] = {1: "one"}
    with pytest.raises(SchemaValidationError, match="cannot be written as canonical JSON"):
        Transaction.from_dict(tx)


def test_data_just_within_the_nesting_limit_is_accepted():
    tx = vector_tx("create_single")
    tx["transaction"]["asset"]["data"] = nested(MAX_NESTING - 4)
    assert Transaction.from_dict(rehash(tx)).asset.data == nested(MAX_NESTING - 4)


def test_largest_amount_is_accepted():
    tx = vector_tx("create_divisible")
    tx["transaction"]["conditions"][0]["amount"] = 2**53 - 1
    assert Transaction.from_dict(rehash(tx)).conditions[0].amount == 2**53 - 1
