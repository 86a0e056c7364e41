"""Test documents: real transactions, and blocks and votes shaped as in docs/protocol.md.

Storage tests need well-formed documents, not valid ones: block signatures
are placeholders, ids are real hashes so that round trips are meaningful.
"""

from bigchaindb.common.crypto import generate_key_pair, hash_data
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import serialize
from tests.vectors import load_vectors


def valid_vectors():
    """Every transaction the reference implementation made that must be accepted."""
    return [vector["tx"] for vector in load_vectors() if vector["expect"] == "valid"]


def create(owners_after=None, amounts=(1,), metadata=None, asset_data=None):
    """A signed CREATE by a fresh key with one output per amount, each to
    ``owners_after`` (default: the creator); returns ``(tx dict, private key)``."""
    private, public = generate_key_pair()
    recipients = [(owners_after or [public], amount) for amount in amounts]
    asset = Asset(asset_data or {"made": "by the tests"}, divisible=sum(amounts) > 1)
    tx = Transaction.create([public], recipients, asset=asset, metadata=metadata)
    return tx.sign([private]).to_dict(), private


def transfer(tx, cid, private_key, recipient=None):
    """A signed TRANSFER of output ``cid`` of ``tx`` (a dict) to ``recipient``
    (default: a fresh key)."""
    parsed = Transaction.from_dict(tx)
    recipient = recipient or generate_key_pair().public_key
    amount = tx["transaction"]["conditions"][cid]["amount"]
    spend = Transaction.transfer(parsed.to_inputs([cid]), [([recipient], amount)], parsed.asset.id)
    return spend.sign([private_key]).to_dict()


NODE = generate_key_pair().public_key
"""The key of the node that makes the blocks, unless a test says otherwise."""


def block_of(transactions, creator=NODE, voters=(NODE,), timestamp="1480000000"):
    """A block holding ``transactions``, with its real id and a placeholder signature."""
    body = {"timestamp": timestamp, "transactions": list(transactions),
            "node_pubkey": creator, "voters": list(voters)}
    return {"id": hash_data(serialize(body)), "signature": "placeholder-signature", "block": body}


def genesis_block(node=NODE):
    tx = Transaction.create([node], [([node], 1)], operation="GENESIS").to_dict()
    return block_of([tx], creator=node, voters=[node])


def header_of(block):
    """What ``get_block_header`` returns for ``block``."""
    body = {key: value for key, value in block["block"].items() if key != "transactions"}
    return {"id": block["id"], "signature": block["signature"], "block": body}


def vote(block_id, voter, previous="previous-block-id", valid=True, timestamp="1480000001",
         signature="placeholder-signature"):
    return {"node_pubkey": voter, "signature": signature,
            "vote": {"voting_for_block": block_id, "previous_block": previous,
                     "is_block_valid": valid, "invalid_reason": None if valid else "a reason",
                     "timestamp": timestamp}}


def any_vote(vote):
    """A ``counts`` test for the vote queries that takes every row for a vote."""
    return True


def unless_forged(vote):
    """A ``counts`` test that takes a row signed "forged" for no vote (core checks real signatures)."""
    return vote["signature"] != "forged"
