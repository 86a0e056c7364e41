"""Malformed requests: each is a 4xx JSON error naming the problem, and the node serves on.

docs/protocol.md §4: never a 500 for anything a client sent.
"""

import copy
import json
import socket
import time

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import GENESIS, Asset, Transaction
from tests import openapi_check
from tests.helpers import create_tx, json_error, transfer_tx

OWNER = generate_key_pair()
PUBLIC_KEY = OWNER.public_key
VALID = create_tx(OWNER, data={"msg": "valid"}).to_dict()
ZERO_ID = "0" * 64
ASSET_ID = "6f3b2e2c-6f67-4d5c-9b2a-0d6c1f6a2b3c"


def changed(change):
    """A copy of the valid transaction dict after ``change(tx)``, as JSON bytes."""
    tx = copy.deepcopy(VALID)
    change(tx)
    return json.dumps(tx).encode()


def signed(tx):
    return json.dumps(tx.sign([OWNER.private_key]).to_dict()).encode()


def set_path(path, value):
    """A change setting the key at ``path`` (keys and list indexes) to ``value``."""
    def change(tx):
        *parents, last = path
        for key in parents:
            tx = tx[key]
        tx[last] = value
    return change


def delete_path(*path):
    def change(tx):
        *parents, last = path
        for key in parents:
            tx = tx[key]
        del tx[last]
    return change


CONDITION = ("transaction", "conditions", 0)
FULFILLMENT = ("transaction", "fulfillments", 0)

# (body bytes, status, words the message must contain)
BODIES = {
    "truncated JSON": (json.dumps(VALID).encode()[:100], 400, ["JSON"]),
    "non-UTF-8 bytes": (b'{"id": "\xff\xfe"}', 400, ["UTF-8"]),
    "empty body": (b"", 400, ["JSON", "empty"]),
    "JSON array": (b"[1, 2]", 400, ["object", "array"]),
    "JSON string": (b'"a transaction"', 400, ["object", "string"]),
    "JSON number": (b"42", 400, ["object", "number"]),
    "JSON null": (b"null", 400, ["object", "null"]),
    "JSON true": (b"true", 400, ["object", "boolean"]),
    "NaN literal": (b'{"id": NaN}', 400, ["JSON"]),
    "100000 open brackets": (b"[" * 100_000, 400, ["JSON", "depth"]),
    "2000 nested arrays": (b"[" * 2000 + b"]" * 2000, 400, ["JSON", "depth"]),
    "deep metadata": (changed(set_path(("transaction", "metadata"),
                                       {"id": ASSET_ID, "data": json.loads('{"a":' * 200 + "1" + "}" * 200)})),
                      400, ["nested"]),
    "empty object": (b"{}", 400, ["missing"]),
    "missing transaction": (changed(delete_path("transaction")), 400, ["missing", "transaction"]),
    "missing conditions": (changed(delete_path("transaction", "conditions")), 400, ["missing", "conditions"]),
    "extra top-level key": (changed(set_path(("timestamp",), "1480000000")), 400, ["unknown", "timestamp"]),
    "extra key in a condition": (changed(set_path((*CONDITION, "extra"), 1)), 400, ["unknown", "extra"]),
    "version as a string": (changed(set_path(("version",), "1")), 400, ["version"]),
    "fulfillments not a list": (changed(set_path(("transaction", "fulfillments"), {})), 400, ["fulfillments"]),
    "operation in lower case": (changed(set_path(("transaction", "operation"), "create")), 400, ["operation"]),
    "float amount": (changed(set_path((*CONDITION, "amount"), 1.0)), 400, ["amount", "float"]),
    "amount of 2**70": (json.dumps(VALID).replace('"amount": 1', f'"amount": {2 ** 70}').encode(), 400, ["amount"]),
    "negative amount": (changed(set_path((*CONDITION, "amount"), -1)), 400, ["amount"]),
    "zero amount": (changed(set_path((*CONDITION, "amount"), 0)), 400, ["amount"]),
    "amount as a string": (changed(set_path((*CONDITION, "amount"), "1")), 400, ["amount"]),
    "bad base58 key": (changed(set_path((*CONDITION, "owners_after"), ["0OIl" * 11])), 400, ["owners_after"]),
    "bad cc: URI": (changed(set_path((*CONDITION, "condition", "uri"), "cc:zz:not-a-condition")), 400, ["uri"]),
    "bad cf: URI": (changed(set_path((*FULFILLMENT, "fulfillment"), "cf:4:not-base64!")), 400, ["fulfillment"]),
    "cf: URI of garbage": (changed(set_path((*FULFILLMENT, "fulfillment"), "cf:4:AAAA")), 400, ["fulfillment"]),
    "tampered id": (changed(set_path(("id",), "f" * 64)), 400, ["id", "does not match"]),
    "id not hex": (changed(set_path(("id",), "not hex")), 400, ["id"]),
    # well formed and signed, but breaking a rule
    "updatable asset": (signed(Transaction.create([PUBLIC_KEY], [([PUBLIC_KEY], 1)], asset=Asset(updatable=True))),
                        400, ["updatable"]),
    "GENESIS posted": (signed(Transaction.create([PUBLIC_KEY], [([PUBLIC_KEY], 1)], operation=GENESIS)),
                       400, ["GENESIS"]),
    "TRANSFER of an unknown output": (signed(transfer_tx(create_tx(OWNER), OWNER, PUBLIC_KEY)), 400,
                                      ["does not exist"]),
}


def assert_serves_normally(node):
    assert requests.get(node.url).status_code == 200
    fresh = create_tx(OWNER).to_dict()
    assert requests.post(f"{node.api}/transactions", json=fresh).status_code == 202


@pytest.mark.parametrize("name", BODIES)
def test_a_malformed_body_is_a_4xx_naming_the_problem(web_node, name):
    body, status, words = BODIES[name]
    response = requests.post(f"{web_node.api}/transactions", data=body, headers={"Content-Type": "application/json"})
    message = json_error(response, status)
    for word in words:
        assert word.lower() in message.lower(), (name, message)
    assert_serves_normally(web_node)


@pytest.mark.parametrize("content_type, named", [
    ("text/plain", "text/plain"),
    ("multipart/form-data; boundary=xyz", "multipart/form-data"),
    ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
    ("application/xml", "application/xml"),
    ("application/json; charset=latin-1", "latin-1"),
])
def test_a_body_of_another_content_type_is_415_naming_it(web_node, content_type, named):
    response = requests.post(f"{web_node.api}/transactions", data=json.dumps(VALID),
                             headers={"Content-Type": content_type})
    assert named in json_error(response, 415)
    assert_serves_normally(web_node)


def test_a_compressed_body_is_415(web_node):
    response = requests.post(f"{web_node.api}/transactions", data=json.dumps(VALID),
                             headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert "gzip" in json_error(response, 415)


@pytest.mark.parametrize("coding", ["identity", "Identity", "IDENTITY "])
def test_a_body_sent_as_is_may_say_so_in_any_case(web_node, coding):
    # content codings are case-insensitive (RFC 9110 8.4.1); "IDENTITY" was a 415
    response = requests.post(f"{web_node.api}/transactions", data=json.dumps(VALID),
                             headers={"Content-Type": "application/json", "Content-Encoding": coding})
    assert response.status_code == 202, response.text


def test_a_2_mb_body_is_413(web_node):
    body = json.dumps({"padding": "x" * 2_000_000}).encode()
    response = requests.post(f"{web_node.api}/transactions", data=body, headers={"Content-Type": "application/json"})
    assert str(web_node.config["server"]["max_body_size"]) in json_error(response, 413)
    assert_serves_normally(web_node)


# (path and query, words the message must contain)
QUERIES = {
    "unknown parameter on a transaction": (f"/transactions/{ZERO_ID}?pretty=1", ["pretty"]),
    "unknown parameter on the root": ("/?verbose=true", ["verbose"]),
    "unknown parameter on a query": (f"/transactions?asset_id={ASSET_ID}&offset=10", ["offset"]),
    "limit out of range": (f"/transactions?asset_id={ASSET_ID}&limit=1001", ["limit", "1001"]),
    "limit not a number": (f"/outputs?public_key={PUBLIC_KEY}&limit=ten", ["limit", "ten"]),
    "cursor not base64": (f"/votes?block_id={ZERO_ID}&cursor=%25%25", ["cursor"]),
    "cursor of another list": (f"/transactions?asset_id={ASSET_ID}&cursor=WzEsMiwzXQ", ["cursor"]),
    "unknown parameter on votes": (f"/votes?block_id={ZERO_ID}&voter_key=x", ["voter_key"]),
    "repeated parameter": (f"/blocks?tx_id={ZERO_ID}&status=VALID&status=INVALID", ["status", "more than once"]),
    "bad block status": (f"/blocks/{ZERO_ID}?status=DONE", ["status", "DONE"]),
    "bad block list status": (f"/blocks?tx_id={ZERO_ID}&status=valid-ish", ["status"]),
    "non-hex block id": ("/blocks/not-a-block-id", ["block_id"]),
    "non-hex tx_id": ("/blocks?tx_id=xyz", ["tx_id"]),
    "short transaction id": (f"/transactions/{'a' * 63}", ["tx_id"]),
    "non-hex status id": ("/statuses/zz", ["id", "hex"]),
    "non-hex transaction status id": ("/transactions/zz/status", ["tx_id"]),
    "bad owners_after": ("/transactions?owners_after=0OIl&fulfilled=false", ["owners_after"]),
    "bad fulfilled": (f"/transactions?owners_after={PUBLIC_KEY}&fulfilled=maybe", ["fulfilled", "maybe"]),
    "bad asset_id": ("/transactions?asset_id=not-a-uuid", ["asset_id"]),
    "bad operation": (f"/transactions?asset_id={ASSET_ID}&operation=BURN", ["operation", "BURN"]),
    "bad metadata_id": ("/transactions?metadata_id=12", ["metadata_id"]),
    "non-hex block_id for votes": ("/votes?block_id=12", ["block_id"]),
    "bad voter": (f"/votes?block_id={ZERO_ID}&voter=nobody", ["voter"]),
}


@pytest.mark.parametrize("name", QUERIES)
def test_a_malformed_query_or_id_is_400_naming_it(web_node, name):
    path, words = QUERIES[name]
    url = web_node.url + (path if path.startswith("/?") else "/api/v1" + path)
    message = json_error(requests.get(url), 400)
    for word in words:
        assert word in message, (name, message)
    assert_serves_normally(web_node)


def chunked(body, size=65536):
    """``body`` as a generator, which requests sends chunked, without a Content-Length."""
    return (body[start:start + size] for start in range(0, len(body), size))


@pytest.mark.parametrize("send", [bytes, chunked], ids=["content-length", "chunked"])
def test_the_body_size_limit_is_exact(web_node, send):
    limit = web_node.config["server"]["max_body_size"]
    at_limit = b" " * (limit - 2) + b"[]"
    url = f"{web_node.api}/transactions"
    assert "array" in json_error(requests.post(url, data=send(at_limit)), 400)
    assert "limit" in json_error(requests.post(url, data=send(at_limit + b" ")), 413)
    assert_serves_normally(web_node)


def raw_request(node, head, then_end=False):
    """Send ``head`` (request line and headers, and any body) alone; the bytes of the final response.

    ``then_end``: end the sending side, as a client that sent all it had.
    Reading stops once a response with a body of its Content-Length has
    arrived (a 100 Continue comes before it), or when the server closes.
    """
    host, port = node.config["server"]["bind"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        if then_end:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while not _complete_response(received) and (chunk := sock.recv(65536)):
            received += chunk
    return received


def _complete_response(data):
    head, separator, body = data.rpartition(b"\r\n\r\n")
    if not separator or head.startswith(b"HTTP/1.1 100") and b"\r\n\r\n" not in head:
        return False
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


@pytest.mark.parametrize("expect", [b"", b"Expect: 100-continue\r\n"])
def test_a_content_length_over_the_limit_is_413_at_once_without_waiting_for_the_body(web_node, expect):
    # The body is never sent: a worker waiting for it would hang until its timeout.
    head = (b"POST /api/v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
            b"Content-Length: 10000000000\r\n" + expect + b"\r\n")
    started = time.monotonic()
    for _ in range(2 * web_node.config["server"]["workers"]):
        response = raw_request(web_node, head)
        assert b" 413 " in response.split(b"\r\n\r\n")[-2]
        # closed, not kept alive: the client's next request would be read as the rest of this body
        assert b"\r\nConnection: close\r\n" in response.split(b"\r\n\r\n")[-2]
        assert json.loads(response.split(b"\r\n\r\n")[-1])["status"] == 413
    assert time.monotonic() - started < 5
    assert_serves_normally(web_node)


@pytest.mark.parametrize("head, status, named", [
    (b"GET /api/v1/transactions/" + b"a" * 8000 + b" HTTP/1.1\r\nHost: node\r\n\r\n", 414, "too large"),
    (b"GET / HTTP/1.1\r\nHost: node\r\nX-Big: " + b"b" * 10000 + b"\r\n\r\n", 431, "headers"),
    (b"NOT HTTP AT ALL\r\n\r\n", 400, "Invalid"),
    (b"GET / HTTP/9.9\r\nHost: node\r\n\r\n", 400, "HTTP Version"),
])
def test_a_request_the_http_server_cannot_parse_is_a_json_error_too(web_node, head, status, named):
    response = raw_request(web_node, head)
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 %d " % status), response
    assert b"Content-Type: application/json" in rest
    header_lines, raw_body = rest.split(b"\r\n\r\n", 1)
    body = json.loads(raw_body)
    assert body["status"] == status and named.lower() in body["message"].lower(), body
    if head.startswith(b"GET /"):  # a request line the document can name: the answer is as it describes
        # (the 414 a long cursor makes was not described, found by tests/web/test_post_fuzz.py)
        headers = dict(line.decode().split(": ", 1) for line in header_lines.split(b"\r\n"))
        path = head.split(b" ")[1].decode()
        assert openapi_check.mismatch("GET", path, status, headers, raw_body) is None
    assert_serves_normally(web_node)


def json_answer(response):
    """``(status, body)`` of the raw bytes of a JSON response."""
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head, response
    return int(head.split(b" ", 2)[1]), json.loads(body)


POST_HEAD = b"POST /api/v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
CHUNKED = POST_HEAD + b"Transfer-Encoding: chunked\r\n\r\n"

# (request bytes, whether the client then ends its side, words the 400's message must contain)
FRAMINGS = {
    "chunk size not hex": (CHUNKED + b"zz\r\n{}\r\n0\r\n\r\n", False, ["chunk size", "zz"]),
    "chunk longer than its size": (CHUNKED + b"2\r\n{}}}\r\n0\r\n\r\n", False, ["chunk terminator"]),
    "chunk size line with no end": (CHUNKED + b"2" * 10000, False, ["chunk size", "no terminator"]),
    "bad chunk extension": (CHUNKED + b"2;\x01\r\n{}\r\n0\r\n\r\n", False, ["chunk extension"]),
    "trailer line without a colon": (CHUNKED + b"2\r\n{}\r\n0\r\nno colon\r\n\r\n", False, ["no colon"]),
    "trailer cut short": (CHUNKED + b"2\r\n{}\r\n0\r\nxx", True, ["chunk terminator"]),
    "connection ends inside a chunk": (CHUNKED + b"10\r\n{}", True, ["before the last chunk"]),
    "body shorter than its Content-Length": (POST_HEAD + b"Content-Length: 10\r\n\r\n{}", True,
                                             ["2 of the 10 bytes", "Content-Length"]),
    "bad chunk size on a GET": (b"GET / HTTP/1.1\r\nHost: node\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                False, ["chunk size"]),
}


@pytest.mark.parametrize("name", FRAMINGS)
def test_a_body_that_breaks_http_framing_is_a_400_naming_the_problem(web_node, name):
    request, then_end, words = FRAMINGS[name]
    status, body = json_answer(raw_request(web_node, request, then_end))
    assert status == body["status"] == 400, body
    for word in words:
        assert word in body["message"], (name, body)
    assert_serves_normally(web_node)


def test_a_body_past_a_content_length_is_read_as_the_next_request(web_node):
    # The framing a proxy in front would see too: the extra bytes are a request of their own, refused.
    host, port = web_node.config["server"]["bind"].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(POST_HEAD + b"Content-Length: 2\r\n\r\n{}GARBAGE\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        response = sock.makefile("rb").read()  # both answers, until the server closes
    first, _, second = response.partition(b"HTTP/1.1 400 Bad Request\r\nConnection: close")
    assert json_answer(first)[1]["status"] == 400  # {} is no transaction
    assert b'"status":400' in second and b"GARBAGE" in second
    assert_serves_normally(web_node)


@pytest.mark.parametrize("codings", [b"gzip, chunked", b"deflate, chunked", b"compress, chunked",
                                     b"x-custom, chunked", b"gzip", b"chunked, chunked"])
def test_a_transfer_coding_the_node_does_not_decode_is_refused(web_node, codings):
    request = POST_HEAD + b"Transfer-Encoding: " + codings + b"\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    status, body = json_answer(raw_request(web_node, request))
    assert status == body["status"] == 400, body
    assert "Transfer-Encoding" in body["message"] or "TRANSFER-ENCODING" in body["message"] \
        or "transfer coding" in body["message"], body
    if codings.endswith(b", chunked") and not codings.startswith(b"chunked"):  # the coding is named
        assert codings.split(b",")[0].decode() in body["message"], body
    assert_serves_normally(web_node)


@pytest.mark.parametrize("body, key", [
    (b'{"id": "a", "id": "b"}', "id"),
    (b'{"transaction": {"conditions": [{"amount": 1, "amount": 2}]}}', "amount"),
    (json.dumps(VALID).encode()[:-1] + b', "version": 1}', "version"),  # the same value twice, still refused
])
def test_a_key_repeated_in_one_object_is_a_400_naming_it(web_node, body, key):
    response = requests.post(f"{web_node.api}/transactions", data=body, headers={"Content-Type": "application/json"})
    message = json_error(response, 400)
    assert f"repeats the key '{key}'" in message
    assert_serves_normally(web_node)


@pytest.mark.parametrize("path, allowed", [
    ("/", "GET, HEAD, OPTIONS"),
    ("/api/v1/transactions", "GET, HEAD, OPTIONS, POST"),
    (f"/api/v1/transactions/{ZERO_ID}", "GET, HEAD, OPTIONS"),
    (f"/api/v1/statuses/{ZERO_ID}", "GET, HEAD, OPTIONS"),
])
def test_options_answers_json_with_the_allowed_methods(web_node, path, allowed):
    response = requests.options(web_node.url + path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Allow"] == allowed
    assert response.json() == {"allow": allowed.split(", ")}
