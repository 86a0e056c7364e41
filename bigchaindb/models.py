"""Blocks, votes, and the rules a transaction must meet against the ledger.

``Block`` and ``make_vote`` build and check the signed documents of
docs/protocol.md §5-6.  ``validate_transaction`` applies §4 items 5-6: the rules
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


def header_is_readable(block_id, header):
    """True when a stored block header (``Connection.get_block_header``) is
    shaped as docs/protocol.md §5 says, and is stored under its own id.

    Anyone who can write to the store can write a row that is not: such a
    block can never be shown valid, whatever votes it gets.
    """
    if not isinstance(header, dict) or header.get("id") != block_id or not isinstance(block_id, str):
        return False
    body = header.get("block")
    return (isinstance(header.get("signature"), str) and isinstance(body, dict)
            and isinstance(body.get("node_pubkey"), str) and isinstance(body.get("timestamp"), str)
            and isinstance(body.get("voters"), list))


def looks_like_transaction(tx):
    """True for a stored document that may be a transaction: an object with a string id."""
    return isinstance(tx, dict) and isinstance(tx.get("id"), str)


def transactions_of(block):
    """The transactions of a stored block that look like transactions, or
    none when the block is not shaped as one."""
    body = block.get("block") if isinstance(block, dict) else None
    transactions = body.get("transactions") if isinstance(body, dict) else None
    if not isinstance(transactions, list):
        return []
    return [tx for tx in transactions if looks_like_transaction(tx)]


def make_vote(block_id, previous_block_id, is_valid, invalid_reason, private_key, public_key,
              vote_timestamp=None):
    """A signed vote on ``block_id`` (docs/protocol.md §6)."""
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

    What refusing costs is bounded by the transaction's own size, whatever it
    spends: the checks that need no ledger come first; each input transaction
    is looked up once, for the outputs spent and nothing else of it, and
    their spenders once; and each fulfillment is checked as soon as the
    condition it must meet is known, so a forged one is refused after one
    lookup.
    """
    if tx.operation == GENESIS:
        raise OperationError("GENESIS transactions are made by nodes, never accepted from clients")
    spent = _spent_by_input_transaction(tx)
    if check_signatures:
        tx.check_fulfillment_forms()
    holder = ledger.block_holding(tx.id, block_id)
    if holder:
        raise DuplicateTransaction(f"transaction {tx.id} is already in block {holder}")
    if tx.operation == CREATE:
        if check_signatures:
            tx.validate_fulfillments(tx.input_condition_uris())
        return
    input_total = 0
    for txid, indexes in spent.items():
        cids = [tx.fulfillments[index].tx_input.cid for index in indexes]
        outputs = ledger.get_spent_outputs(txid, cids)
        for index, cid in zip(indexes, cids):
            if cid not in outputs:
                raise InputDoesNotExist(f"transaction {txid} has no output {cid}")
            uri, amount, asset_id = outputs[cid]
            if asset_id != tx.asset.id:
                raise AssetIdMismatch(f"fulfillment {index} spends an output of asset {asset_id}, "
                                      f"not of the transaction's asset {tx.asset.id}")
            if check_signatures:
                tx.validate_fulfillment(index, uri)
            input_total += amount
        spenders = ledger.get_spenders(txid, cids, tx.id, block_id, check_backlog)
        for cid in cids:
            if cid in spenders:
                raise DoubleSpend(f"output {cid} of {txid} is already spent by transaction {spenders[cid]}")
    output_total = sum(cond.amount for cond in tx.conditions)
    if output_total != input_total:
        raise AmountError(f"the outputs add up to {output_total} but the inputs to {input_total}")
    if output_total != 1 and not ledger.asset_is_divisible(tx.asset.id):
        raise AmountError(f"a non-divisible asset must have a total amount of 1, not {output_total}")


def _spent_by_input_transaction(tx):
    """``{input txid: [index of each fulfillment spending one of its outputs]}``, in the order of
    first appearance; DoubleSpend when one output is spent twice."""
    spent, seen = {}, set()
    for index, link in enumerate(tx.spent_outputs()):
        if link in seen:
            raise DoubleSpend(f"fulfillment {index} spends output {link.cid} of {link.txid} a second time")
        seen.add(link)
        spent.setdefault(link.txid, []).append(index)
    return spent
