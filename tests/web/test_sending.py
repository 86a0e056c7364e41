"""Headers and body in one send (``web.sending``), on gunicorn's own classes.

Each exchange runs a request parsed by gunicorn from a socket through the
response class ``wsgi.create`` picks, as a worker does, and records every
``sendall``.  If gunicorn stops building HTTP/1.1 responses from its
module's ``Response``, or changes how its ``write`` sends, these fail.
"""

import socket

import pytest
from gunicorn import http, util
from gunicorn.config import Config
from gunicorn.http import wsgi

from bigchaindb.web.sending import OneSendResponse, use_one_send
from bigchaindb.web.server import create_server
from tests.helpers import node_config

GUNICORN_RESPONSE = wsgi.Response
BODY = b'{"status": "valid"}'


class Recording:
    """A connected socket's stand-in that records what is sent."""

    def __init__(self):
        self.sends = []

    def sendall(self, data):
        self.sends.append(bytes(data))


def exchange(response_class, method, app_answer, version="1.1"):
    """The sends of one request answered by ``app_answer(start_response)`` (the
    body's pieces) through ``response_class``, as gunicorn's worker makes them."""
    cfg = Config()
    client, server = socket.socketpair()
    with client, server:
        client.sendall(f"{method} /x HTTP/{version}\r\nHost: node\r\n\r\n".encode())
        request = next(http.get_parser(cfg, server, ("127.0.0.1", 1)))
    recording = Recording()
    original = wsgi.Response
    wsgi.Response = response_class
    try:
        response, _ = wsgi.create(request, recording, ("127.0.0.1", 1), "127.0.0.1:2", cfg)
    finally:
        wsgi.Response = original
    assert type(response) is response_class
    try:
        for piece in app_answer(response.start_response):
            response.write(piece)
        response.close()
    except TypeError:
        pass
    return recording.sends


def whole(start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def streamed(start_response):
    start_response("200 OK", [("Content-Type", "text/event-stream")])
    return [b"", b"data: 1\n\n", b"data: 2\n\n"]


def not_bytes(start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return ["no"]


@pytest.fixture(autouse=True)
def same_date(monkeypatch):
    monkeypatch.setattr(util, "http_date", lambda *args: "Sat, 05 Dec 2026 23:00:00 GMT")


def test_the_node_server_answers_with_the_one_send_response(tmp_path):
    create_server(node_config(str(tmp_path)))
    assert wsgi.Response is OneSendResponse
    use_one_send()  # idempotent
    assert wsgi.Response is OneSendResponse


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_answer_goes_out_in_one_send_with_the_bytes_gunicorn_writes(method):
    ours = exchange(OneSendResponse, method, whole)
    theirs = exchange(GUNICORN_RESPONSE, method, whole)
    assert len(theirs) == 2 and len(ours) == 1
    assert ours[0] == b"".join(theirs)
    assert ours[0].startswith(b"HTTP/1.1 200 OK\r\n") and ours[0].endswith(b"\r\n\r\n" + BODY)


@pytest.mark.parametrize("method, answer, version", [
    ("HEAD", whole, "1.1"),  # a HEAD request's body is not sent: the headers go alone
    ("GET", streamed, "1.1"),  # chunked: gunicorn's sends, the headers first
    ("GET", streamed, "1.0"),  # no length and not chunked: the connection's end ends the body
    ("GET", not_bytes, "1.1"),  # a body that is not bytes: gunicorn refuses it after the headers
])
def test_other_answers_are_sent_as_gunicorn_sends_them(method, answer, version):
    ours = exchange(OneSendResponse, method, answer, version)
    theirs = exchange(GUNICORN_RESPONSE, method, answer, version)
    assert b"".join(ours) == b"".join(theirs)
    assert ours[0] == theirs[0] or ours[0] == theirs[0] + theirs[1]
