"""Slow and idle clients on the open port do not keep the node from answering others.

Each test opens 500 connections from raw sockets that send nothing, or a
request whose headers or body trickle in a byte at a time, then times a
normal GET / and POST of a valid transaction while they stay open: they must
be answered in under 1 s and 2 s.  Before the server's gevent workers, 32
such connections stalled every other client for minutes (issue 9, point 3).
A connection that never sends a whole request is closed after a timeout,
by the API and by the streams server alike.
"""

import socket
import threading
import time

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.streams.server import REQUEST_TIMEOUT
from bigchaindb.web.server import HEADER_TIMEOUT
from tests.engines import ENGINES, fresh_store
from tests.helpers import create_tx
from tests.integration.node import Node

CONNECTIONS = 500
GET_WITHIN = 1.0  # seconds
POST_WITHIN = 2.0
DRIP_EVERY = 0.2  # seconds between the bytes each slow connection sends

# what each kind of connection sends at once; the slow ones then send one more byte every DRIP_EVERY
OPENINGS = {
    "idle": b"",
    "slow headers": b"GET / HTTP/1.1\r\nHost: node\r\nX-Slow: ",
    "slow body": (b"POST /api/v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{"),
}


@pytest.fixture(scope="module", params=ENGINES)
def hostile_target(request, tmp_path_factory):
    """A started node on each engine, for the whole module (a node per test would cost more than the tests)."""
    directory = tmp_path_factory.mktemp("slow_clients")
    with fresh_store(request.param, directory, request) as store:
        node = Node(str(directory), "node", store).start()
        yield node
        node.stop()


class Hostile:
    """``count`` open connections sending ``opening``, then (unless idle) a byte every DRIP_EVERY seconds."""

    def __init__(self, node, opening, count=CONNECTIONS):
        self.sockets = [socket.create_connection(("127.0.0.1", node.port)) for _ in range(count)]
        for sock in self.sockets:
            sock.sendall(opening)
        self.stopped = threading.Event()
        self.dripper = threading.Thread(target=self._drip, daemon=True)
        if opening:
            self.dripper.start()

    def _drip(self):
        while not self.stopped.wait(DRIP_EVERY):
            for sock in self.sockets:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # closed by the server: what it may do to a slow client

    def close(self):
        self.stopped.set()
        if self.dripper.is_alive():
            self.dripper.join()
        for sock in self.sockets:
            sock.close()


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.parametrize("kind", OPENINGS)
def test_a_node_answers_at_once_with_500_slow_or_idle_connections_open(hostile_target, kind):
    node = hostile_target
    hostile = Hostile(node, OPENINGS[kind])
    try:
        time.sleep(0.3)  # the server has taken them all in
        got, get_time = timed(lambda: requests.get(node.url, timeout=30))
        tx = create_tx(generate_key_pair()).to_dict()
        posted, post_time = timed(lambda: node.post(tx))
        assert got.status_code == 200 and get_time < GET_WITHIN, (got.status_code, get_time)
        assert posted.status_code == 202 and post_time < POST_WITHIN, (posted.status_code, post_time)
    finally:
        hostile.close()


@pytest.mark.parametrize("hostile_target", ["sqlite"], indirect=True)  # the servers alone: engine-blind
@pytest.mark.parametrize(("server", "opening", "timeout"), [
    ("api", b"GET / HTTP/1.1\r\n", HEADER_TIMEOUT),
    ("streams", b"GET /api/v1/streams/votes HTTP/1.1\r\nUpgrade: websocket\r\n", REQUEST_TIMEOUT),
])
def test_a_connection_that_sends_no_whole_request_is_closed_after_a_timeout(hostile_target, server, opening, timeout):
    port = hostile_target.port if server == "api" else hostile_target.streams_port
    with socket.create_connection(("127.0.0.1", port), timeout=timeout + 10) as sock:
        started = time.monotonic()
        sock.sendall(opening)  # and never the rest
        assert sock.recv(1) == b""
        assert timeout - 1 < time.monotonic() - started < timeout + 5
