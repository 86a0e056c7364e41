"""A client for BigchainDB 0.8 nodes, in the shape bigchaindb-driver 0.1.x users know.

    from bigchaindb.client import BigchainDB
    from bigchaindb.common.crypto import generate_key_pair

    bdb = BigchainDB("http://localhost:9984")
    alice = generate_key_pair()
    tx = bdb.transactions.prepare(operation="CREATE", owners_before=alice.public_key,
                                  asset={"data": {"msg": "Hello"}})
    signed = bdb.transactions.fulfill(tx, private_keys=alice.private_key)
    bdb.transactions.send(signed)
    bdb.transactions.status(signed["id"])     # {"status": "backlog"}, then "valid"

``bdb.streams.valid_transactions(since=..., public_key=...)`` follows the
node's stream of valid transactions instead of polling.  Several node URLs spread the requests over the nodes and carry on when one
is down (see ``transport``).  Errors are the classes in ``exceptions``.
"""

from bigchaindb.client.endpoints import (BlocksEndpoint, DataEndpoint, OutputsEndpoint, TransactionsEndpoint,
                                         VotesEndpoint)
from bigchaindb.client.exceptions import (
    BadRequest,
    BigchaindbException,
    ConnectionError,
    MissingPrivateKeyError,
    NotFoundError,
    PayloadTooLarge,
    ServerError,
    TransportError,
)
from bigchaindb.client.streams import StreamsEndpoint
from bigchaindb.client.transport import DEFAULT_TIMEOUT, Transport

DEFAULT_NODE = "http://localhost:9984"


class BigchainDB:
    """A connection to one or several nodes of a federation."""

    def __init__(self, *nodes, timeout=DEFAULT_TIMEOUT, headers=None, retries=None):
        self.nodes = nodes or (DEFAULT_NODE,)
        self.transport = Transport(self.nodes, timeout=timeout, headers=headers, retries=retries)
        self.transactions = TransactionsEndpoint(self.transport)
        self.outputs = OutputsEndpoint(self.transport)
        self.blocks = BlocksEndpoint(self.transport)
        self.votes = VotesEndpoint(self.transport)
        self.assets = DataEndpoint(self.transport, "assets")
        self.metadata = DataEndpoint(self.transport, "metadata")
        self.streams = StreamsEndpoint(self.transport)

    def info(self):
        """The answer of ``GET /`` (the node's version, public key and keyring)."""
        return self.transport.request("GET", "/")

    def close(self):
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


__all__ = ["BigchainDB", "BadRequest", "BigchaindbException", "ConnectionError", "MissingPrivateKeyError",
           "NotFoundError", "PayloadTooLarge", "ServerError", "TransportError"]
