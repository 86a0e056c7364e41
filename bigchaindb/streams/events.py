"""What the streams carry, read from the store in the ledger's order.

Two *sources* walk the store from a position on, each returning the items
that are ready, in order:

- ``BlockSource`` walks the blocks in the order they were written
  (``blocks_after``) and hands out a block once it is decided, VALID or
  INVALID, or UNDECIDED for good (every member voted: ``consensus.STUCK``,
  its event says UNDECIDED).  It stops at the first block still undecided,
  so a block decided early waits for the ones written before it: the order
  of events is the ledger's
  order, the same for every client and every replay.  A decided block is
  one ``Item``: its event on the ``blocks`` stream and, when VALID, one
  event per transaction on ``valid_transactions``.
- ``VoteSource`` walks the votes in the order they were written
  (``votes_after``); a vote is ready at once.  Only the votes that count
  (signed by their voter, a member of this node's federation) are events.

An event's position is its item's position as the engine names it
(``position_token``): a block's, or a vote's.  A transaction's is its
block's followed by ``:`` and its place in the block.  Positions come from
the store, so they stay valid across restarts of the node, and a client
that hands one back (``since``) resumes exactly after that event.

Each event's message is serialised once, here, and shared by every
subscriber.  Sources do blocking I/O: they run on threads.
"""

import struct
from typing import NamedTuple

from bigchaindb.common.utils import dumps, flatten
from bigchaindb.consensus import INVALID, UNDECIDED, VALID, status_of, vote_is_authentic
from bigchaindb.models import transactions_of

VALID_TRANSACTIONS, BLOCKS, VOTES = "valid_transactions", "blocks", "votes"
STREAMS = (VALID_TRANSACTIONS, BLOCKS, VOTES)
READ_BATCH = 20
"""Blocks (or votes, times 50) read per query: bounds memory, as a block holds up to 1,000 transactions."""


class Event:
    """One message of one stream: its position ``token``, its JSON ``message``
    (bytes), and what filters match on (``asset_id``, ``operation``, ``keys``)."""

    __slots__ = ("token", "message", "asset_id", "operation", "keys", "_sse", "_frame")

    def __init__(self, token, message, asset_id=None, operation=None, keys=frozenset()):
        self.token = token
        # A copy, sized to fit: orjson's answer keeps the buffer it wrote into (4 KiB
        # at least, whatever the length), and the ring keeps 50,000 events.
        self.message = bytes(memoryview(dumps({**message, "position": token})))
        self.asset_id, self.operation, self.keys = asset_id, operation, keys
        self._sse = self._frame = None

    def sse(self):
        """The event as server-sent events frame it, made once."""
        if self._sse is None:
            self._sse = b"id: " + self.token.encode() + b"\ndata: " + self.message + b"\n\n"
        return self._sse

    def frame(self):
        """The event as one WebSocket text frame from a server (unmasked: the same
        bytes for every client), made once."""
        if self._frame is None:
            size = len(self.message)
            if size < 126:
                head = struct.pack("!BB", 0x81, size)
            elif size < 65536:
                head = struct.pack("!BBH", 0x81, 126, size)
            else:
                head = struct.pack("!BBQ", 0x81, 127, size)
            self._frame = head + self.message
        return self._frame


class Batch(list):
    """Events sent to a client together (a list): their WebSocket frames are
    joined once (``frames``), for every client that takes all of them."""

    __slots__ = ("_frames",)

    def frames(self):
        """The frames of the events, one after the other, as one ``bytes``, made once."""
        try:
            return self._frames
        except AttributeError:
            self._frames = b"".join(event.frame() for event in self)
            return self._frames


class Item(NamedTuple):
    """Something that happened in the ledger, at ``position`` (named ``token`` to
    clients), with the events it means to each stream; ``key`` tells items apart."""

    position: object
    token: str
    key: str
    events: dict


class Since(NamedTuple):
    """Where a client resumes: after the item at ``position``, skipping the first
    ``skip`` events of that very item (a block's transactions) if ``skip`` is set."""

    position: object
    token: str
    skip: int | None = None


def parse_since(connection, stream, token):
    """The ``Since`` a client's position ``token`` names on ``stream``; ValueError saying why not."""
    head, colon, place = token.partition(":")
    if colon and (stream != VALID_TRANSACTIONS or not (place.isascii() and place.isdigit()) or len(place) > 6):
        raise ValueError("not a position of this stream" if stream != VALID_TRANSACTIONS else
                         "not a position: a block's position, then : and the transaction's place in it")
    position = connection.position_from_token(head)
    return Since(position, head, int(place) + 1 if colon else None)


def block_events(block, block_id, token, status):
    """The events of a decided block (any stored row: one that is no block is INVALID):
    on ``blocks``, and on ``valid_transactions`` when VALID."""
    transactions = transactions_of(block)
    decided = Event(token, {"block_id": block_id, "status": status,
                            "transactions": [tx["id"] for tx in transactions]})
    valid = []
    if status == VALID:
        for place, tx in enumerate(transactions):
            body = tx["transaction"]
            keys = {key for condition in body["conditions"] for key in flatten(condition["owners_after"])}
            keys.update(key for fulfillment in body["fulfillments"] for key in fulfillment["owners_before"])
            asset_id = body["asset"]["id"]
            valid.append(Event(f"{token}:{place}",
                               {"transaction_id": tx["id"], "asset_id": asset_id, "block_id": block_id},
                               asset_id, body["operation"], frozenset(keys)))
    return {BLOCKS: [decided], VALID_TRANSACTIONS: valid}


class BlockSource:
    """Decided blocks in the order written, from a position on (see the module docstring).

    Keeps the first undecided block it read, so that waiting for its votes
    re-reads only them, not the block.
    """

    def __init__(self, bigchain, position=None):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.position = position
        self._waiting = []  # (position, block) read but not yet handed out

    def read(self):
        """The items ready after the last one handed out (maybe none), in order."""
        if not self._waiting:
            self._waiting = self.connection.blocks_after(self.position, READ_BATCH)
        ready = []
        while self._waiting:
            position, block = self._waiting[0]
            block_id = block.get("id") if isinstance(block, dict) else None
            status = self.bigchain.block_outcome(block_id) if isinstance(block_id, str) else INVALID
            if status in (UNDECIDED, None):
                break
            self._waiting.pop(0)
            token = self.connection.position_token(position)
            ready.append(Item(position, token, block_id, block_events(block, block_id, token, status_of(status))))
            self.position = position
        return ready


class VoteSource:
    """Votes in the order written, from a position on; those that count are events."""

    def __init__(self, bigchain, position=None):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.position = position
        self.federation = set(bigchain.federation)

    def read(self):
        ready = []
        for position, vote in self.connection.votes_after(self.position, READ_BATCH * 50):
            token = self.connection.position_token(position)
            counts = (isinstance(vote, dict) and vote.get("node_pubkey") in self.federation
                      and vote_is_authentic(vote))
            events = [Event(token, {"vote": vote})] if counts else []
            ready.append(Item(position, token, token, {VOTES: events}))
            self.position = position
        return ready


def source_for(stream):
    """The source class whose items carry ``stream``'s events."""
    return VoteSource if stream == VOTES else BlockSource


def start_position(stream, connection, back):
    """Where a hub of ``stream`` starts reading: ``back`` items before the end of the store."""
    return connection.position_before_last("votes" if stream == VOTES else "blocks", back)
