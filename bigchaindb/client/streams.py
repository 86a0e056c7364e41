"""Following a node's stream of valid transactions, as server-sent events over ``requests``.

The node links its streams from ``GET /api/v1/`` (``_links.streams``, as
``ws://`` URLs); the same URL over HTTP with ``Accept: text/event-stream``
answers server-sent events, which need nothing but ``requests``.  Each event
carries its ``position``; when the connection drops, or the node cuts off a
client that fell behind, the stream is asked again from the last position
seen, so no event is lost or repeated (see docs/api.md, "Event streams").
"""

import json
import time

import requests

from bigchaindb.client.exceptions import ConnectionError, error_for

READ_TIMEOUT = 60
"""Seconds without a byte before the connection counts as dead (the node sends a heartbeat every 20)."""

RECONNECT_DELAY = 0.5


class StreamsEndpoint:
    def __init__(self, transport):
        self.transport = transport

    def url(self, name):
        """The HTTP URL of stream ``name`` (``valid_transactions``, ``blocks``, ``votes``), from the API root."""
        links = self.transport.request("GET", "/api/v1/")["_links"].get("streams")
        if not links or name not in links:
            raise ConnectionError(f"the node links no {name} stream")
        return "http" + links[name][len("ws"):] if links[name].startswith("ws") else links[name]

    def valid_transactions(self, since=None, **filters):
        """Events ``{"transaction_id", "asset_id", "block_id", "position"}`` of every transaction
        decided VALID, in the ledger's order, for as long as the caller iterates.

        ``since`` is a position (``"0"``: from the start of the ledger; None:
        from now); ``filters`` are the node's (``public_key``, ``asset_id``,
        ``operation``).  Reconnects by itself after the last position seen.
        """
        url = self.url("valid_transactions")
        position = since
        while True:
            try:
                for event in _events(url, dict(filters, **({"since": position} if position is not None else {}))):
                    position = event["position"]
                    yield event
            except requests.RequestException:
                pass
            time.sleep(RECONNECT_DELAY)


def _events(url, params):
    """The events of one connection to a server-sent events stream, until it ends or is cut off."""
    with requests.get(url, params=params, headers={"Accept": "text/event-stream"}, stream=True,
                      timeout=(10, READ_TIMEOUT)) as response:
        if response.status_code >= 400:
            body = response.json() if response.headers.get("Content-Type") == "application/json" else None
            raise error_for(response.status_code, (body or {}).get("message", response.reason), url, body)
        fields = {}
        for line in response.iter_lines(decode_unicode=True):
            if line:
                if not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                continue
            if fields.get("event") == "cut-off":
                return  # fell behind: the caller reconnects from its last position
            if "data" in fields:
                yield json.loads(fields["data"])
            fields = {}
