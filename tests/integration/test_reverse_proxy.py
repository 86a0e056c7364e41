"""A real node behind a real nginx running the documented configuration (docs/nginx.conf)."""

import json
import os

import pytest
import requests
from websockets.sync.client import connect

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from tests.helpers import wait_until
from tests.integration.node import Node
from tests.integration.streams import HEARTBEAT, SETTINGS, sse


@pytest.fixture
def proxied(tmp_path, nginx_proxy):
    """``(node, proxy)``: a node trusting one proxy, and nginx before it.

    On the embedded store only: what is tested is what passes between nginx
    and the web layer, which knows nothing of the engine."""
    node = Node(str(tmp_path), "node", {"backend": "sqlite", "path": os.path.join(str(tmp_path), "node.sqlite")},
                server={"trusted_proxies": 1}, streams=SETTINGS).start()
    yield node, nginx_proxy(node.port, streams_port=node.streams_port)
    node.stop()


def new_tx():
    owner = generate_key_pair()
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({})).sign([owner.private_key])


@pytest.mark.parametrize("prefix", ["", "/bigchaindb"])
def test_links_and_locations_name_the_proxy(proxied, prefix):
    node, proxy = proxied
    public = proxy.url + prefix
    info = requests.get(f"{public}/").json()
    assert info["public_key"] == node.public_key
    assert info["_links"]["api_v1"] == f"{public}/api/v1/"

    tx = new_tx()
    posted = requests.post(f"{public}/api/v1/transactions", json=tx.to_dict())
    assert posted.status_code == 202, posted.text
    assert posted.headers["Location"] == f"{public}/api/v1/statuses/{tx.id}"

    def redirected():
        response = requests.get(posted.headers["Location"], allow_redirects=False)
        return response.status_code == 303 and response
    wait_until(redirected, 20, f"{tx.id} did not become valid through the proxy")
    location = redirected().headers["Location"]
    assert location == f"{public}/api/v1/transactions/{tx.id}"
    assert requests.get(location).json()["id"] == tx.id


def test_the_node_refuses_what_the_proxy_lets_through_the_same_way(proxied):
    node, proxy = proxied
    too_big = b"{" + b" " * node.config["server"]["max_body_size"] + b"}"
    response = requests.post(f"{proxy.url}/api/v1/transactions", data=too_big,
                             headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["status"] == 413
    bad = requests.post(f"{proxy.url}/api/v1/transactions", data=b"[1, 2",
                        headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and "not valid JSON" in bad.json()["message"]


def test_streams_pass_through_the_proxy_under_its_prefix(proxied):
    """WebSocket upgrade and unbuffered server-sent events, with the links naming the proxy."""
    node, proxy = proxied
    public = proxy.url + "/bigchaindb"
    links = requests.get(f"{public}/api/v1/").json()["_links"]["streams"]
    assert links["valid_transactions"] == public.replace("http://", "ws://") + "/api/v1/streams/valid_transactions"
    first, second = new_tx(), new_tx()
    with connect(links["valid_transactions"]) as websocket:
        assert requests.post(f"{public}/api/v1/transactions", json=first.to_dict()).status_code == 202
        event = json.loads(websocket.recv(timeout=30))
        assert event["transaction_id"] == first.id
        # each event as it comes (nginx buffers nothing), and heartbeats keep a quiet stream open
        assert requests.post(f"{public}/api/v1/transactions", json=second.to_dict()).status_code == 202
        live = sse(f"{public}/api/v1/streams/valid_transactions?since={event['position']}", count=1)
        assert live[0]["data"]["transaction_id"] == second.id
        assert json.loads(websocket.recv(timeout=30))["transaction_id"] == second.id
    idle = requests.get(f"{public}/api/v1/streams/votes", headers={"Accept": "text/event-stream"}, stream=True,
                        timeout=HEARTBEAT * 3)
    with idle:
        lines = idle.iter_lines(decode_unicode=True)
        assert [next(lines) for _ in range(2)] == ["retry: 1000", ""]
        # the last block's votes may still arrive first; a heartbeat follows within the bound
        assert ": heartbeat" in (next(lines) for _ in range(40))
