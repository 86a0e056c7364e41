"""Hostile bodies for POST /api/v1/transactions and hostile list queries, against a real node.

tests/web/test_openapi_fuzz.py has schemathesis draw requests from the
OpenAPI document, bodies of POST /transactions too; but a body drawn from
the transaction schema takes seconds to generate (nested, recursive
owners, if/then/else) and is never a transaction (its id and signatures
are hashes of the rest), so it stops at the first check.  Here
Hypothesis starts from transactions that are valid (the reference
vectors, on a ledger holding their inputs) and breaks them as a hostile
client would: a field dropped, replaced or retyped at any
depth, ids, signatures and amounts changed (huge, negative, floats,
booleans), deep nesting, odd unicode, a fulfillment or condition repeated;
half of them sealed again (a new id, and signatures by the vectors' keys)
so that they pass the id and signature checks and reach the ledger's
rules.  Then the bytes: repeated keys, non-UTF-8 bytes, truncated JSON,
enormous number literals, and each Content-Type a client may send.

For every body, over real HTTP on a real store (each engine):
- never a 5xx, and the answer is as the OpenAPI document describes
  (``tests.openapi_check``, checked per request so that Hypothesis shrinks
  to the request that broke it);
- the status is exactly what the node's own validation run in this
  process says (``expected_status``): a 202 for a body it holds valid
  (and the status of a 202's transaction is then known to the node), a
  400 for one it refuses, a 415 for a Content-Type other than JSON;
- afterwards the node still answers a plain GET.

The list routes get forged cursors (base64 of any JSON, a real cursor of
another list, a real one with a character changed or cut short) and any
``limit``: a 200 or a 400, and a 400 whenever the cursor is not one the
node could have written or the limit is out of range.

The numbers: 200 bodies and 200 queries per engine, 12 s of requests and
5 s of set-up (both engines, measured on 2 cores at load average 10), well
inside the ~30 s a new test may add to the suite; derandomized (the same
requests every run, so that a CI failure reproduces) and without
Hypothesis's example database.  Runs of 3,000 bodies and 3,000 queries per
engine found nothing more than this one does.
"""

import base64
import copy
import json

import orjson
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Metadata, Transaction, hash_body
from bigchaindb.common.utils import deserialize_unique
from bigchaindb.models import validate_transaction
from tests import openapi_check
from tests.engines import ENGINES, fresh_store
from tests.helpers import WebNode, create_tx, transfer_tx, write_block
from tests.vectors import load_meta, load_vectors

BODIES = 200
QUERIES = 200
FUZZ = settings(max_examples=BODIES, derandomize=True, database=None, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

VECTORS = load_vectors()
PRIVATE_KEYS = [keypair["private"] for keypair in load_meta()["keys"].values()]
CREATES = [vector["tx"] for vector in VECTORS
           if vector["expect"] == "valid" and vector["tx"]["transaction"]["operation"] == "CREATE"]
"""In a VALID block of the fuzzed node: the valid TRANSFERs are then valid to
post (once: then they spend)."""
BASES = [vector["tx"] for vector in VECTORS]
"""The bodies mutated: every vector."""

# Content-Types a client may send, and whether the node reads the body as JSON.
CONTENT_TYPES = {
    None: True,
    "application/json": True,
    "application/json; charset=utf-8": True,
    "Application/JSON; charset=UTF8": True,
    "text/plain": False,
    "application/json; charset=latin-1": False,
    "application/x-www-form-urlencoded": False,
    "multipart/form-data; boundary=x": False,
    "application/jsonp": False,
}


def content_types():
    """Mostly one the node reads as JSON, so that the body is what is tested."""
    json_types = [name for name, read in CONTENT_TYPES.items() if read]
    return st.one_of(st.sampled_from(json_types), st.sampled_from(json_types), st.sampled_from(json_types),
                     st.sampled_from(list(CONTENT_TYPES)))


NASTY_NUMBERS = [0, -1, 1, 2, 2**53 - 1, 2**53, -(2**53), 2**63, 2**64 + 1, 10**30, 0.5, -0.0, 1e308, 1.0,
                 True, False]
NASTY_STRINGS = ["", " ", "\x00", "\u202e", "\ud800", "💥" * 50, "a" * 5000, "0" * 64, "F" * 64,
                 "cf:4:" + "A" * 86, "cc:4:20:" + "A" * 43 + ":96", "../../etc/passwd", "null", "NaN"]


@pytest.fixture(scope="module", params=ENGINES)
def fuzzed_node(request, tmp_path_factory):
    """A node whose ledger holds the valid CREATE vectors in a VALID block, and a
    session to it (keep-alive: one connection for all the requests).

    The node closes a connection idle for 5 s (``web.server.HEADER_TIMEOUT``);
    a request sent as it closes gets no answer (seen once in 6,000 queries on a
    loaded machine), so the session sends a request again once when the
    connection drops unanswered.  A body that made the node drop it would drop
    the second too, and fail; sending a body again is safe, as the node
    accepts the very transaction it holds again."""
    directory = tmp_path_factory.mktemp("fuzzed_posts")
    with fresh_store(request.param, directory, request) as database:
        node = WebNode(str(directory), database=database).start()
        block = write_block(node.ledger, [Transaction.from_dict(tx) for tx in CREATES], valid=True)
        node.lists = listed_ledger(node.ledger, block.id)
        with requests.Session() as session:
            session.mount("http://", HTTPAdapter(max_retries=Retry(total=1, status=0, allowed_methods=None)))
            yield node, session
        node.stop()


# -- mutations of a transaction dict ------------------------------------------

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=20), st.sampled_from(NASTY_NUMBERS), st.sampled_from(NASTY_STRINGS))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def paths(value, prefix=()):
    """Every path (keys and indexes) to a value inside ``value``, the top level excluded."""
    found = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found.append((*prefix, key))
        found += paths(item, (*prefix, key))
    return found


def parent_of(tx, path):
    for key in path[:-1]:
        tx = tx[key]
    return tx


def nested(value, depth):
    for _ in range(depth):
        value = [value]
    return value


@st.composite
def changed_value(draw, old):
    """What a field becomes: anything, a nasty number or string, the old value retyped or nested deeper."""
    return draw(st.one_of(
        json_values,
        st.sampled_from(NASTY_NUMBERS),
        st.sampled_from(NASTY_STRINGS),
        st.just(str(old)),
        st.just([old]),
        st.just({"value": old}),
        st.integers(1, 100).map(lambda depth: nested(old, depth)),
    ))


@st.composite
def mutated(draw, tx):
    """``tx`` (a copy) after one to three changes at any depth."""
    tx = copy.deepcopy(tx)
    for _ in range(draw(st.integers(1, 3))):
        places = paths(tx)
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, key = parent_of(tx, path), path[-1]
        action = draw(st.sampled_from(["drop", "replace", "replace", "add key", "repeat", "data"]))
        if action == "data":  # new data: a new transaction, valid once sealed again
            part = draw(st.sampled_from(["asset", "metadata"]))
            body = tx.get("transaction")
            if isinstance(body, dict) and isinstance(body.get(part), dict):
                body[part]["data"] = draw(json_values)
            elif isinstance(body, dict) and part == "metadata":
                body[part] = {"id": str(draw(st.uuids(version=4))), "data": draw(json_values)}
        elif action == "drop":
            del parent[key]
        elif action == "replace":
            parent[key] = draw(changed_value(parent[key]))
        elif action == "add key" and isinstance(parent[key], dict):
            parent[key][draw(st.sampled_from(["extra", "id", "", "\u00e9", "$where"]))] = draw(json_values)
        elif action == "repeat" and isinstance(parent[key], list) and parent[key]:
            parent[key].append(copy.deepcopy(parent[key][draw(st.integers(0, len(parent[key]) - 1))]))
    return tx


def sealed(tx):
    """``tx`` with its id made again from its contents and, where the vectors'
    keys can sign every fulfillment, signed again; as it is when neither works."""
    try:
        tx = dict(tx, id=hash_body(_nulled(tx)))
        return Transaction.from_dict(tx).sign(PRIVATE_KEYS).to_dict()
    except (ValidationError, TypeError, KeyError, AttributeError, ValueError, IndexError):
        return tx


def _nulled(tx):
    body = copy.deepcopy({key: value for key, value in tx.items() if key != "id"})
    for fulfillment in body["transaction"]["fulfillments"]:
        fulfillment["fulfillment"] = None
    return body


# -- the bytes sent ------------------------------------------------------------

def encode(tx, ascii_only):
    """JSON text of ``tx``, with lone surrogates as escapes (orjson cannot write them)."""
    return json.dumps(tx, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


@st.composite
def body_bytes(draw):
    """(bytes, the transaction dict they were made from)."""
    tx = draw(st.sampled_from(BASES))
    tx = draw(st.one_of(st.just(tx), mutated(tx)))
    if draw(st.booleans()):
        tx = sealed(tx)
    raw = encode(tx, draw(st.booleans()))
    damage = draw(st.sampled_from(["none"] * 6 + ["repeat a key", "truncate", "non-UTF-8", "huge number",
                                                   "BOM", "whitespace"]))
    if damage == "repeat a key":
        key = draw(st.sampled_from(["id", "version", "transaction"]))
        raw = b'{"' + key.encode() + b'": ' + encode(tx.get(key), True) + b", " + raw[1:]
    elif damage == "truncate":
        raw = raw[:draw(st.integers(0, max(len(raw) - 1, 0)))]
    elif damage == "non-UTF-8":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80"])) + raw[at:]
    elif damage == "huge number":
        literal = draw(st.sampled_from([b"1" + b"0" * 400, b"1e999", b"-1e-999", b"123456789012345678901234567890"]))
        raw = raw.replace(b'"amount": 1', b'"amount": ' + literal, 1).replace(b'"version": 1', b'"version": '
                                                                               + literal, 1)
    elif damage == "BOM":
        raw = b"\xef\xbb\xbf" + raw
    elif damage == "whitespace":
        raw = b" \n\t" + raw + b"\r\n "
    return raw, tx


# -- what the node must answer ----------------------------------------------

def valid_here(ledger, raw):
    """Whether the node's own validation, run in this process on the same store,
    accepts the body ``raw``: what ``core.Bigchain.accept_transaction`` checks,
    without writing."""
    try:
        body = deserialize_unique(raw)
        if not isinstance(body, dict):
            return False
        tx = Transaction.from_dict(body)
        view = ledger.prefetched([tx])
        held = view.get_held_copy(tx.id)
        if held is not None:
            return held == body
        validate_transaction(view, tx)
    except ValidationError:
        return False
    return True


def expected_status(ledger, raw, content_type):
    if not CONTENT_TYPES[content_type]:
        return 415
    return 202 if valid_here(ledger, raw) else 400


def post(session, node, raw, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    return session.post(f"{node.api}/transactions", data=raw, headers=headers, timeout=30)


def as_documented(response):
    assert response.status_code < 500, response.text
    mismatches = openapi_check.take_mismatches()
    assert not mismatches, mismatches


@pytest.mark.undocumented_responses("none: each request's answer is checked against the document in the test")
def test_a_mangled_transaction_is_answered_as_the_node_validates_it(fuzzed_node):
    node, session = fuzzed_node
    accepted = []

    @FUZZ
    @given(body=body_bytes(), content_type=content_types())
    def posting(body, content_type):
        raw, tx = body
        expected = expected_status(node.ledger, raw, content_type)
        response = post(session, node, raw, content_type)
        as_documented(response)
        assert response.status_code == expected, (expected, response.text[:500])
        if expected == 202:
            assert response.content == raw
            status = session.get(f"{node.api}/transactions/{tx['id']}/status", timeout=10)
            assert status.status_code == 200 and status.json()["status"] in ("backlog", "undecided", "valid")
            accepted.append(tx["id"])

    posting()
    # the valid bodies among them, some made by sealing mangled ones, were accepted
    assert accepted
    assert session.get(f"{node.api}/", timeout=10).status_code == 200


# -- list queries ---------------------------------------------------------------

def listed_ledger(ledger, block_id):
    """Path and query of each paginated list, after writing what makes most of
    them longer than a page of one (so that they have real cursors to forge
    from): three CREATEs to one key, with words to search, a TRANSFER of the
    first, and that CREATE in an INVALID block as well."""
    owner = generate_key_pair()
    creates = [create_tx(owner, data={"words": f"fuzzed list {n}"}, metadata=Metadata({"words": f"fuzzed {n}"}))
               for n in range(3)]
    write_block(ledger, creates, valid=True)
    write_block(ledger, [transfer_tx(creates[0], owner, owner.public_key)], valid=True)
    write_block(ledger, creates[:1], valid=False)
    return [
        ("/transactions", {"owners_after": owner.public_key}),
        ("/transactions", {"asset_id": creates[0].asset.id}),
        ("/transactions", {"metadata_id": creates[0].metadata.id}),
        ("/outputs", {"public_key": owner.public_key}),
        ("/blocks", {"tx_id": creates[0].id}),
        ("/votes", {"block_id": block_id}),
        ("/assets", {"search": "fuzzed list"}),
        ("/metadata", {"search": "fuzzed"}),
    ]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def position_like():
    """JSON values shaped like the positions cursors hold, and near misses."""
    parts = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=70),
                      st.booleans(), st.none(), st.sampled_from([2**63 - 1, 2**63, -1, 0]))
    return st.one_of(st.lists(parts, max_size=5), st.lists(st.lists(parts, max_size=4), max_size=3), json_values)


def cursors(real):
    """(cursor text, whether it decodes as a cursor at all) from real cursors of ``real``."""
    decodable = st.one_of(
        position_like().map(lambda value: b64(encode(value, False))),
        st.sampled_from(real),
    )
    garbled = st.one_of(
        st.text(min_size=1, max_size=40),
        st.sampled_from(real).flatmap(lambda text: st.integers(1, len(text)).map(lambda cut: text[:-cut] + "!")),
        st.sampled_from(real).map(lambda text: text + "$"),
        st.just("%ZZ"),
    )
    return st.one_of(decodable.map(lambda text: (text, True)), garbled.map(lambda text: (text, None)))


def limits():
    """(limit text, whether it is in range)."""
    good = st.integers(1, 1000).map(lambda n: (str(n), True))
    bad = st.one_of(st.sampled_from(["0", "-1", "1001", "1e3", " 5", "５", "1.0", "0x10", "", "10" * 200]),
                    st.text(max_size=10).filter(lambda text: not (text.isascii() and text.isdigit())))
    return st.one_of(good, bad.map(lambda text: (text, False)))


def decodes(text):
    try:
        orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        return False
    return True


@pytest.mark.undocumented_responses("none: each request's answer is checked against the document in the test")
def test_forged_cursors_and_limits_are_400_never_a_500(fuzzed_node):
    node, session = fuzzed_node
    routes = node.lists
    real = []
    for path, query in routes:
        response = session.get(f"{node.api}{path}", params=dict(query, limit=1), timeout=10)
        assert response.status_code == 200, (path, response.text)
        if "Link" in response.headers:
            real.append(response.links["next"]["url"].split("cursor=")[1].split("&")[0])
    assert len(set(real)) >= 3, real  # cursors of several shapes to forge from

    @settings(FUZZ, max_examples=QUERIES)
    @given(route=st.sampled_from(routes), cursor=cursors(real), limit=st.one_of(st.none(), limits()))
    def listing(route, cursor, limit):
        path, query = route
        (text, _), params = cursor, dict(query, cursor=cursor[0])
        if limit is not None:
            params["limit"] = limit[0]
        response = session.get(f"{node.api}{path}", params=params, timeout=10)
        as_documented(response)
        if response.status_code == 414:  # refused unread by the HTTP server, as documented
            assert len(response.request.path_url) > 4000
            return
        assert response.status_code in (200, 400), response.text
        if not decodes(text) or (limit is not None and not limit[1]):
            assert response.status_code == 400, response.text

    listing()
    assert session.get(f"{node.api}/", timeout=10).status_code == 200


def test_sealing_a_vector_again_gives_the_same_transaction():
    """The fuzzer's sealing makes valid transactions: unchanged vectors come back as they were."""
    for tx in BASES[:12]:
        assert sealed(tx) == tx

