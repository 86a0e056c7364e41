"""The OpenAPI document (bigchaindb/web/openapi): complete, valid, served, and
the checker that holds every response of the suite to it."""

import collections
import re

import pytest
import requests
from openapi_spec_validator import validate

from bigchaindb.common.schema import TX_SCHEMA
from bigchaindb.streams import events
from bigchaindb.streams import server as streams_server
from bigchaindb.web.app import create_app
from bigchaindb.web.openapi import METHODS, document
from tests.helpers import node_config
from tests.openapi_check import find_path, mismatch

JSON = {"Content-Type": "application/json", "X-Request-ID": "a-request"}
AUTOMATIC = {"HEAD", "OPTIONS"}  # Flask answers both on every rule (HEAD as GET)


def described_routes(server=None):
    """{path template: methods} of the operations ``x-served-by`` ``server`` (None: the
    API's Flask app), without what Flask answers on every path."""
    routes = collections.defaultdict(set)
    for path, item in document()["paths"].items():
        for method, operation in item.items():
            if method in METHODS and operation.get("x-served-by", server if method == "options" else None) == server:
                routes[path].add(method.upper())
    return {path: methods - AUTOMATIC for path, methods in routes.items() if methods - AUTOMATIC}


def flask_routes(tmp_path):
    routes = collections.defaultdict(set)
    for rule in create_app(node_config(str(tmp_path))).url_map.iter_rules():
        template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes[template] |= rule.methods - AUTOMATIC
    return dict(routes)


def test_every_route_of_the_app_is_described_and_nothing_else(tmp_path):
    assert flask_routes(tmp_path) == described_routes(), \
        "describe each route in bigchaindb/web/openapi/<its view module>.yaml (see base.yaml)"


def test_every_stream_route_is_described_and_nothing_else():
    assert described_routes("streams") == {streams_server.PATH: {"GET"}}
    stream = document()["paths"][streams_server.PATH]["get"]["parameters"][0]
    assert tuple(stream["schema"]["enum"]) == events.STREAMS


def test_every_path_answers_options_as_described(tmp_path):
    assert all("options" in item for item in document()["paths"].values())


def test_the_document_is_valid_openapi_3_1():
    validate(document())
    assert document()["openapi"].startswith("3.1.")


def test_the_transaction_schema_is_the_nodes_own():
    schemas = document()["components"]["schemas"]
    transaction = schemas["Transaction"]
    assert transaction["properties"]["id"] == {"$ref": "#/components/schemas/sha3_hexdigest"}
    assert transaction["required"] == TX_SCHEMA["required"]
    for name, definition in TX_SCHEMA["definitions"].items():
        assert schemas[name].get("pattern") == definition.get("pattern"), name


def test_every_operation_describes_a_bad_request_and_its_errors_as_json():
    for path, item in document()["paths"].items():
        for method in METHODS & item.keys():
            responses = item[method]["responses"]
            operation = item[method]
            if method != "options":
                assert "400" in responses, f"{method} {path}: unknown query parameters are a 400"
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert "$ref" in response or "application/json" in response["content"], (method, path, status)


def test_the_document_is_served_and_linked_from_the_api_root(web_node):
    link = requests.get(web_node.api).json()["_links"]["openapi"]
    assert link == f"{web_node.api}/openapi.json"
    response = requests.get(link)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    served = response.json()
    assert served["servers"] == [{"url": web_node.url, "description": "This node."}]
    assert served["paths"] == document()["paths"]


def test_the_example_transaction_is_accepted(web_node):
    example = document()["paths"]["/api/v1/transactions"]["post"]["requestBody"]["content"]["application/json"]
    response = requests.post(f"{web_node.api}/transactions", json=example["example"])
    assert response.status_code == 202, response.text


def test_the_served_servers_url_is_the_one_the_client_used_behind_a_proxy(tmp_path):
    app = create_app(node_config(str(tmp_path), server={"public_url": "https://ledger.example/bigchaindb"}))
    served = app.test_client().get("/api/v1/openapi.json").get_json()
    assert served["servers"][0]["url"] == "https://ledger.example/bigchaindb"


# The checker (tests/openapi_check.py): what it would let through, and what not.

ERROR_404 = b'{"status": 404, "message": "no such thing"}'


@pytest.mark.parametrize("method, path, status, headers, body", [
    ("GET", "/api/v1/transactions/" + "a" * 64, 404, JSON, ERROR_404),
    ("GET", "/api/v1/transactions/" + "a" * 64 + "/", 404, JSON, ERROR_404),
    ("HEAD", "/api/v1/", 200, JSON, b""),
    ("GET", "/nowhere", 404, JSON, ERROR_404),
    ("DELETE", "/api/v1/votes", 405, {**JSON, "Allow": "GET, HEAD, OPTIONS"},
     b'{"status": 405, "message": "not allowed"}'),
    ("OPTIONS", "/api/v1/votes", 200, {**JSON, "Allow": "GET, HEAD, OPTIONS"}, b'{"allow": ["GET", "HEAD", "OPTIONS"]}'),
    ("GET", "/api/v1/statuses/" + "a" * 64, 303, {**JSON, "Location": "http://node/api/v1/transactions/x"},
     b'{"status": "valid"}'),
])
def test_the_checker_passes_what_the_document_describes(method, path, status, headers, body):
    assert mismatch(method, path, status, headers, body) is None


@pytest.mark.parametrize("method, path, status, headers, body, named", [
    ("GET", "/api/v1/undescribed", 200, JSON, b"{}", "describes no path"),
    ("GET", "/nowhere", 404, {**JSON, "Content-Type": "text/html"}, b"<p>", "not JSON"),
    ("PUT", "/api/v1/votes", 200, JSON, b"{}", "no PUT"),
    ("DELETE", "/api/v1/votes", 405, JSON, b'{"status": 405, "message": "x"}', "Allow"),
    ("GET", "/api/v1/votes", 500, JSON, b'{"status": 500, "message": "bug"}', "status 500"),
    ("GET", "/api/v1/votes", 200, {**JSON, "Content-Type": "text/plain"}, b"[]", "Content-Type"),
    ("GET", "/api/v1/votes", 200, {"Content-Type": "application/json"}, b"[]", "X-Request-ID"),
    ("GET", "/api/v1/votes", 200, JSON, b'[{"vote": {}}]', "required"),
    ("GET", "/api/v1/votes", 400, JSON, b'{"status": 404, "message": "x"}', "400"),
    ("GET", "/api/v1/votes", 400, JSON, b'{"status": 400, "message": "x", "more": 1}', "additional"),
    ("GET", "/api/v1/statuses/" + "a" * 64, 303, JSON, b'{"status": "valid"}', "Location"),
    ("GET", "/api/v1/transactions/" + "a" * 64, 200, JSON, b'{"id": "x"}', "X-BigchainDB-Timestamp"),
    ("GET", "/api/v1/transactions/" + "a" * 64, 200, {**JSON, "X-BigchainDB-Timestamp": "1"}, b'{"id": "x"}',
     "body"),
])
def test_the_checker_names_what_the_document_does_not_describe(method, path, status, headers, body, named):
    assert named in mismatch(method, path, status, headers, body)


def test_a_path_without_parameters_is_matched_before_a_template():
    assert find_path("/api/v1/openapi.json")[0] == "/api/v1/openapi.json"
    assert find_path("/api/v1/transactions/" + "a" * 64 + "/status")[0] == "/api/v1/transactions/{tx_id}/status"
