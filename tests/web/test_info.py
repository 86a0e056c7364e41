"""GET / and GET /api/v1, and what every route shares: JSON, trailing slashes, route errors."""

import pytest
import requests

import bigchaindb
from tests.helpers import json_error

JSON = "application/json"
ASSET_ID = "6f3b2e2c-6f67-4d5c-9b2a-0d6c1f6a2b3c"
ZERO_ID = "0" * 64
# One URL per route that answers 200 on an empty ledger.
ROUTES = ["/", "/api/v1", f"/api/v1/transactions?asset_id={ASSET_ID}", f"/api/v1/blocks?tx_id={ZERO_ID}",
          f"/api/v1/votes?block_id={ZERO_ID}"]


def test_root_names_the_node_and_links_the_api(web_node):
    response = requests.get(web_node.url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON
    body = response.json()
    assert body["software"] == "BigchainDB"
    assert body["version"] == bigchaindb.__version__
    assert body["public_key"] == web_node.config["keypair"]["public"]
    assert body["keyring"] == web_node.config["keyring"]
    assert body["_links"]["api_v1"] == f"{web_node.api}/"
    assert body["_links"]["docs"].startswith("https://")


def test_api_root_links_every_resource(web_node):
    links = requests.get(web_node.api).json()["_links"]
    assert links["self"] == f"{web_node.api}/"
    for name in ("transactions", "statuses", "blocks", "votes", "outputs", "assets", "metadata"):
        assert links[name] == f"{web_node.api}/{name}/"
    assert links["docs"].startswith("https://")


def with_slash(url):
    path, _, query = url.partition("?")
    return path.rstrip("/") + "/" + (f"?{query}" if query else "")


def without_slash(url):
    path, _, query = url.partition("?")
    return path.rstrip("/") + (f"?{query}" if query else "")


@pytest.mark.parametrize("url", ROUTES)
@pytest.mark.parametrize("spell", [with_slash, without_slash])
def test_trailing_slashes_are_optional(web_node, url, spell):
    response = requests.get(web_node.url + spell(url), allow_redirects=False)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON


@pytest.mark.parametrize("path", ROUTES)
def test_a_get_with_a_json_content_type_and_no_body_is_served(web_node, path):
    # Earlier nodes answered these 400, and their users gave up on them.
    response = requests.get(web_node.url + path, headers={"Content-Type": JSON})
    assert response.status_code == 200, response.text


def test_a_get_with_a_body_is_served_and_the_body_ignored(web_node):
    response = requests.get(web_node.url, data=b"not json", headers={"Content-Type": JSON})
    assert response.status_code == 200


def test_json_whatever_the_client_accepts(web_node):
    response = requests.get(web_node.url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON


def test_head_answers_like_get_without_a_body(web_node):
    response = requests.head(web_node.api)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("path", ["/nothing", "/api/v2/transactions", f"/api/v1/transactions/{ZERO_ID}/nothing",
                                  "/api/v1/statuses", "/api/v1/statuses/"])
def test_an_unknown_route_is_a_json_404(web_node, path):
    assert path in json_error(requests.get(web_node.url + path), 404)


@pytest.mark.parametrize("method, path", [("DELETE", "/api/v1/transactions"), ("PUT", "/api/v1/transactions"),
                                          ("POST", "/api/v1/blocks"), ("POST", "/"), ("PATCH", "/api/v1/votes")])
def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(web_node, method, path):
    response = requests.request(method, web_node.url + path)
    message = json_error(response, 405)
    assert method in message and "GET" in message
    assert "GET" in response.headers["Allow"]
