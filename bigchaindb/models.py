"""Blocks, votes, and the rules a transaction must meet against the ledger.

``Block`` and ``make_vote`` build and check the signed documents of
PROTOCOL.md §5-6.  ``validate_transaction`` applies §4 items 5-6: the rules
that need to know what is already on the ledger, asked through a ``ledger``
object (``bigchaindb.core.Bigchain``) so that this module does no I/O.
"""

import time

from bigchaindb.common import crypto
from bigchaindb.common.exceptions import (
    AmountError,
    AssetIdMismatch,
    DoubleSpend,
    DuplicateTransaction,
    InputDoesNotExist,
    InvalidBlock,
    OperationError,
)
from bigchaindb.common.transaction import CREATE, GENESIS
from bigchaindb.common.utils import serialize

BLOCK_KEYS = {"id", "signature", "block"}
BLOCK_BODY_KEYS = {"timestamp", "transactions", "node_pubkey", "voters"}


def timestamp():
    """Unix seconds as a string, the protocol's timestamp format."""
    return str(int(time.time()))


class Block:
    """A signed batch of transactions, put up for the federation's vote."""

    def __init__(self, transactions, node_pubkey, voters, block_timestamp=None, signature=None):
        self.transactions = transactions  # transaction dicts, as signed
        self.node_pubkey = node_pubkey
        self.voters = voters
        self.timestamp = block_timestamp or timestamp()
        self.signature = signature
        self._serialized = None
        self._id = None

    def body(self):
        return {"timestamp": self.timestamp, "transactions": self.transactions,
                "node_pubkey": self.node_pubkey, "voters": self.voters}

    def serialized(self):
        """The canonical bytes of the body, which the id hashes and the creator signs
        (worked out once: a block is not changed once made)."""
        if self._serialized is None:
            self._serialized = serialize(self.body())
        return self._serialized

    @property
    def id(self):
        if self._id is None:
            self._id = crypto.hash_data(self.serialized())
        return self._id

    def sign(self, private_key):
        self.signature = crypto.sign(private_key, self.serialized())
        return self

    def to_dict(self):
        return {"id": self.id, "signature": self.signature, "block": self.body()}

    @classmethod
    def from_dict(cls, block):
        """Parse a stored or received block, checking its shape, id and signature."""
        if not isinstance(block, dict) or set(block) != BLOCK_KEYS:
            raise InvalidBlock("a block has exactly the keys id, signature and block")
        body = block["block"]
        if not isinstance(body, dict) or set(body) != BLOCK_BODY_KEYS:
            raise InvalidBlock("a block body has exactly the keys timestamp, transactions, node_pubkey, voters")
        if not isinstance(body["transactions"], list) or not isinstance(body["voters"], list):
            raise InvalidBlock("block transactions and voters must be lists")
        made = cls(body["transactions"], body["node_pubkey"], body["voters"], body["timestamp"], block["signature"])
        if made.id != block["id"]:
            raise InvalidBlock(f"block id {block['id']} does not match its contents")
        if not isinstance(made.signature, str) or not crypto.verify(made.node_pubkey, made.signature,
                                                                    made.serialized()):
            raise InvalidBlock(f"block {made.id} is not signed by its creator {made.node_pubkey}")
        return made


def make_vote(block_id, previous_block_id, is_valid, invalid_reason, private_key, public_key,
              vote_timestamp=None):
    """A signed vote on ``block_id`` (PROTOCOL.md §6)."""
    body = {
        "voting_for_block": block_id,
        "previous_block": previous_block_id,
        "is_block_valid": is_valid,
        "invalid_reason": invalid_reason,
        "timestamp": vote_timestamp or timestamp(),
    }
    return {"node_pubkey": public_key, "signature": crypto.sign(private_key, serialize(body)), "vote": body}


def validate_transaction(ledger, tx, block_id=None, check_backlog=True, check_signatures=True):
    """Check a parsed Transaction against the ledger; raise a ValidationError if it fails.

    ``block_id`` is the block being made or voted on, whose own copy of the
    transaction is not a conflict.  ``check_backlog`` also refuses inputs that
    another backlog transaction spends (the first one wins).
    ``check_signatures=False`` skips the fulfillments, for a caller that has
    verified them on this node already (they cannot change; the ledger can).
    """
    if tx.operation == GENESIS:
        raise OperationError("GENESIS transactions are made by nodes, never accepted from clients")
    holder = ledger.block_holding(tx.id, block_id)
    if holder:
        raise DuplicateTransaction(f"transaction {tx.id} is already in block {holder}")
    if tx.operation == CREATE:
        if check_signatures:
            tx.validate_fulfillments(tx.input_condition_uris())
        return
    condition_uris, input_total, asset_ids, seen = [], 0, set(), set()
    for index, link in enumerate(tx.spent_outputs()):
        if link in seen:
            raise DoubleSpend(f"fulfillment {index} spends output {link.cid} of {link.txid} a second time")
        seen.add(link)
        input_tx = ledger.get_valid_transaction(link.txid)
        conditions = input_tx["transaction"]["conditions"]
        if link.cid >= len(conditions):
            raise InputDoesNotExist(f"transaction {link.txid} has no output {link.cid}")
        spender = ledger.get_spender(link, tx.id, block_id, check_backlog)
        if spender:
            raise DoubleSpend(f"output {link.cid} of {link.txid} is already spent by transaction {spender}")
        condition_uris.append(conditions[link.cid]["condition"]["uri"])
        input_total += conditions[link.cid]["amount"]
        asset_ids.add(input_tx["transaction"]["asset"]["id"])
    if len(asset_ids) > 1:
        raise AssetIdMismatch(f"the inputs are of different assets: {', '.join(sorted(asset_ids))}")
    (asset_id,) = asset_ids
    if tx.asset.id != asset_id:
        raise AssetIdMismatch(f"asset id {tx.asset.id} differs from the inputs' asset {asset_id}")
    output_total = sum(cond.amount for cond in tx.conditions)
    if output_total != input_total:
        raise AmountError(f"the outputs add up to {output_total} but the inputs to {input_total}")
    if not ledger.asset_is_divisible(asset_id) and output_total != 1:
        raise AmountError(f"a non-divisible asset must have a total amount of 1, not {output_total}")
    if check_signatures:
        tx.validate_fulfillments(condition_uris)
