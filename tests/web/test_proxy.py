"""Behind a reverse proxy: links and Location headers name the public URL, if the proxy is trusted
or ``server.public_url`` says what it is."""

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import WebNode, create_tx

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "example.com", "X-Forwarded-Port": "443",
             "X-Forwarded-Prefix": "/bigchaindb", "X-Forwarded-For": "203.0.113.7"}
PUBLIC = "https://example.com/bigchaindb"
CONFIGURED = "https://ledger.example.org:8443/api-gateway/bigchaindb"


@pytest.fixture(scope="module", params=[(1, None), (0, None), (1, CONFIGURED + "/")],
                ids=["trusted", "untrusted", "public_url"])
def proxied(request, tmp_path_factory):
    """A node trusting one proxy, one trusting none, one with a public URL configured (which wins
    over the proxy's headers); and the URL its links should use.

    On the embedded store only: what is tested is how the web layer reads
    request headers, which knows nothing of the engine."""
    proxies, public_url = request.param
    node = WebNode(str(tmp_path_factory.mktemp("proxied")),
                   server={"trusted_proxies": proxies, "public_url": public_url}).start()
    yield node, CONFIGURED if public_url else PUBLIC if proxies else node.url
    node.stop()


def test_the_location_of_a_posted_transaction(proxied):
    node, public = proxied
    tx = create_tx(generate_key_pair())
    response = requests.post(f"{node.api}/transactions", json=tx.to_dict(), headers=FORWARDED)
    assert response.status_code == 202
    assert response.headers["Location"] == f"{public}/api/v1/statuses/{tx.id}"


def test_the_links_of_the_entry_points(proxied):
    node, public = proxied
    assert requests.get(node.url, headers=FORWARDED).json()["_links"]["api_v1"] == f"{public}/api/v1/"
    links = requests.get(node.api, headers=FORWARDED).json()["_links"]
    assert links["self"] == f"{public}/api/v1/"
    assert links["transactions"] == f"{public}/api/v1/transactions/"


def test_the_location_of_a_status_redirect(proxied):
    node, public = proxied
    genesis = node.ledger.connection.get_genesis_block()["id"]
    response = requests.get(f"{node.api}/statuses/{genesis}", headers=FORWARDED, allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{public}/api/v1/blocks/{genesis}"


def test_a_trusted_proxy_on_another_port_keeps_the_port(proxied):
    node, public = proxied
    headers = dict(FORWARDED, **{"X-Forwarded-Proto": "http", "X-Forwarded-Port": "8080"})
    expected = "http://example.com:8080/bigchaindb" if public == PUBLIC else public
    assert requests.get(node.url, headers=headers).json()["_links"]["api_v1"] == f"{expected}/api/v1/"


def test_the_host_header_is_echoed_only_without_a_public_url(proxied):
    node, public = proxied
    tx = create_tx(generate_key_pair())
    posted = requests.post(f"{node.api}/transactions", json=tx.to_dict(), headers={"Host": "evil.example"})
    root = requests.get(node.url, headers={"Host": "evil.example"}).json()["_links"]["api_v1"]
    if public == CONFIGURED:
        assert posted.headers["Location"] == f"{CONFIGURED}/api/v1/statuses/{tx.id}"
        assert root == f"{CONFIGURED}/api/v1/"
    else:  # what any client can do to links without a public URL: docs/reverse-proxy.md says so
        assert posted.headers["Location"] == f"http://evil.example/api/v1/statuses/{tx.id}"
        assert root == "http://evil.example/api/v1/"



ADDRESSES = [  # (scheme, Host header, SCRIPT_NAME) as a client or a trusted proxy may set them
    ("http", "127.0.0.1:9984", ""), ("http", "Node.Example.COM:80", ""), ("https", "example.com:443", "/bdb"),
    ("https", "example.com:443", ""), ("http", "example.com:443", "/bdb"), ("https", "[::1]:8443", "/a b/ü"),
    ("ftp", "xn--n3h.net", "/p%20q"), ("http", "☃.net", "/x?y#z"),
    ("http", None, ""),  # no Host header: SERVER_NAME and SERVER_PORT
]


def test_urls_of_ids_are_the_ones_url_for_builds(tmp_path):
    """``views.id_url`` builds each address's prefix once: the same URL as ``url_for``, the first
    time and after, for every address, and after so many addresses that it forgets them."""
    from flask import url_for

    from bigchaindb.web.app import create_app
    from bigchaindb.web.views import id_url
    from tests.helpers import node_config

    app = create_app(node_config(str(tmp_path)))

    def both(scheme, host, prefix, endpoint, name, hash_id):
        environ = {"wsgi.url_scheme": scheme, "SCRIPT_NAME": prefix, "SERVER_NAME": "10.0.0.1", "SERVER_PORT": "81"}
        if host is not None:
            environ["HTTP_HOST"] = host
        with app.test_request_context("/api/v1/transactions", method="POST", environ_overrides=environ):
            return id_url(endpoint, **{name: hash_id}), url_for(endpoint, **{name: hash_id}, _external=True)

    routes = [("statuses.status", "resource_id"), ("transactions.transaction", "tx_id")]
    for hash_id in ["0" * 64, "ab" * 32, "f" * 64]:
        for address in ADDRESSES:
            for route in routes:
                ours, theirs = both(*address, *route, hash_id)
                assert ours == theirs and ours.endswith(hash_id)
    for n in range(100):
        both("http", f"host{n}.example", "", *routes[0], "0" * 64)
    ours, theirs = both(*ADDRESSES[0], *routes[0], "1" * 64)
    assert ours == theirs
