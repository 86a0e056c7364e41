"""Clients of the event streams for the tests: server-sent events, WebSocket, and a raw WebSocket.

The raw one speaks the handshake and the frames itself, over a socket the
test controls, so a test can see the server's pings and close frames and can
be a client that stops reading.
"""

import base64
import json
import os
import socket
import struct
import time
from urllib.parse import urlsplit

import requests

HEARTBEAT = 2.0
BUFFER = 10
SETTINGS = {"heartbeat": HEARTBEAT, "buffer": BUFFER}
"""Stream settings of the tests' nodes: quick heartbeats, small buffers."""


def http_url(url):
    return url.replace("ws://", "http://", 1)


def sse(url, count=None, timeout=30, headers=None):
    """The events of the server-sent events stream at ``url`` (``{"id", "data"}``,
    data parsed), until ``count`` of them or, without a count, until the stream
    is idle (its first heartbeat)."""
    response = requests.get(http_url(url), headers={"Accept": "text/event-stream", **(headers or {})},
                            stream=True, timeout=timeout)
    with response:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "text/event-stream"
        found, fields = [], {}
        deadline = time.monotonic() + timeout
        for line in response.iter_lines(decode_unicode=True):
            assert time.monotonic() < deadline, f"{len(found)} events, then nothing for {timeout} s"
            if line.startswith(":"):
                if count is None:
                    return found
            elif line:
                name, _, value = line.partition(": ")
                fields[name] = value
            elif "data" in fields:
                found.append({"id": fields.get("id"), "data": json.loads(fields["data"])})
                fields = {}
                if count is not None and len(found) == count:
                    return found
            else:
                fields = {}
    raise AssertionError(f"the stream ended after {len(found)} events")


class RawWebSocket:
    """A WebSocket client over a plain socket (``receive_buffer`` bytes of kernel buffer, if given)."""

    def __init__(self, url, receive_buffer=None, timeout=30):
        parts = urlsplit(url)
        self.sock = socket.socket()
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((parts.hostname, parts.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {parts.path}?{parts.query} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        self.reader = self.sock.makefile("rb")
        status = self.reader.readline()
        assert b" 101 " in status, status
        while self.reader.readline() not in (b"\r\n", b""):
            pass

    def frame(self, pong=True):
        """``(opcode, payload)`` of the next frame from the server; a ping is
        answered and skipped (unless ``pong`` is False: it is then returned)."""
        while True:
            opcode, payload = self._frame()
            if opcode != PING or not pong:
                return opcode, payload
            mask = os.urandom(4)
            self.sock.sendall(bytes([0x80 | PONG, 0x80 | len(payload)]) + mask
                              + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _frame(self):
        head = self._read(2)
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        return opcode, self._read(length)

    def _read(self, size):
        data = self.reader.read(size)
        if len(data) < size:
            raise ConnectionError("the server closed the connection")
        return data

    def close(self):
        self.reader.close()
        self.sock.close()


PING, PONG, CLOSE, TEXT = 0x9, 0xA, 0x8, 0x1
