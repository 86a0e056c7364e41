"""The node's operations on the ledger: the one place where rules meet storage.

``Bigchain`` answers what the web layer and the pipelines ask (accept a
transaction, its status, blocks and votes) and what the validation rules in
``models`` need to know about the ledger (is this input valid, who spent
that output).  It holds a storage connection and the node's keys.
"""

import logging
import random
import time

from bigchaindb.common.exceptions import DoubleSpend, DuplicateTransaction, InputDoesNotExist, InputNotValid
from bigchaindb.common.transaction import CREATE, GENESIS, Asset, Transaction
from bigchaindb.consensus import UNDECIDED, VALID, block_election_status
from bigchaindb.models import Block, make_vote, validate_transaction

logger = logging.getLogger(__name__)

# transaction statuses, as the statuses endpoint names them
TX_VALID, TX_UNDECIDED, TX_BACKLOG, TX_INVALID = "valid", "undecided", "backlog", "invalid"
LIVE = (VALID, UNDECIDED)
_DECIDED_CACHE_SIZE = 100_000


class Bigchain:
    """One federation node's view of the ledger."""

    def __init__(self, connection, public_key, private_key=None, keyring=(), backlog_reassign_delay=120):
        self.connection = connection
        self.me = public_key
        self.me_private = private_key
        self.keyring = list(keyring)
        self.backlog_reassign_delay = backlog_reassign_delay
        # a decided block never changes status, so each process remembers it
        self._decided = {}
        self._genesis_id = None

    @classmethod
    def from_config(cls, config, connection):
        return cls(connection, config["keypair"]["public"], config["keypair"]["private"],
                   config["keyring"], config["backlog_reassign_delay"])

    @property
    def federation(self):
        """Every node's key: the keyring followed by this node's own (a block's voters)."""
        return self.keyring + [self.me]

    # -- accepting transactions -----------------------------------------

    def accept_transaction(self, tx_dict):
        """Validate a posted transaction dict and store it in the backlog.

        Returns the parsed Transaction.  The very transaction the node already
        holds (in the backlog or a VALID/UNDECIDED block) is accepted again
        without a second copy, so a client may safely retry a post; the same
        id with other fulfillments is refused.  Raises a ValidationError
        naming the broken rule.
        """
        tx = Transaction.from_dict(tx_dict)
        held = self.get_held_copy(tx.id)
        if held is not None:
            if held == tx_dict:
                return tx
            raise DuplicateTransaction(f"transaction {tx.id} is already known to this node with other "
                                       "fulfillments")
        validate_transaction(self, tx)
        conflict = self.connection.write_backlog(tx_dict, random.choice(self.federation), time.time())
        if conflict:
            raise DoubleSpend(f"an input of {tx.id} is already spent by backlog transaction {conflict}")
        return tx

    def get_held_copy(self, tx_id):
        """The stored transaction ``tx_id`` from a VALID/UNDECIDED block or the backlog, or None."""
        found = self.get_transaction(tx_id)
        if found is None:
            in_backlog = self.connection.get_backlog_transaction(tx_id)
            if in_backlog is not None:
                return in_backlog
            found = self.get_transaction(tx_id)  # it may have left the backlog for a block meanwhile
        return None if found is None else found[0]

    # -- what validation asks of the ledger -----------------------------

    def get_spent_outputs(self, tx_id, cids):
        """``{cid: (condition uri, amount, asset id)}`` of the outputs ``cids`` of ``tx_id`` that
        exist, from the VALID block holding it: only those outputs are read, not the whole
        transaction (which may hold thousands).  InputNotValid or InputDoesNotExist when no
        VALID block holds ``tx_id``."""
        undecided = False
        for block_id in self.connection.blocks_with_transaction(tx_id):
            status = self.block_status(block_id)
            if status == VALID:
                return {cid: (uri, amount, asset_id)
                        for cid, uri, amount, asset_id in self.connection.get_outputs(tx_id, block_id, cids)}
            undecided = undecided or status == UNDECIDED
        if undecided:
            raise InputNotValid(f"input transaction {tx_id} is not yet in a VALID block")
        raise InputDoesNotExist(f"input transaction {tx_id} does not exist")

    def get_spender(self, link, tx_id, block_id=None, check_backlog=True):
        """Id of a transaction other than ``tx_id`` (in ``block_id``) spending ``link``, or None.

        Spenders count in VALID or UNDECIDED blocks, and with ``check_backlog``
        in the backlog too.
        """
        for spender, holder in self.connection.spenders(link.txid, link.cid):
            if (spender, holder) == (tx_id, block_id):
                continue
            if self.block_status(holder) in LIVE:
                return spender
        if check_backlog:
            for spender in self.connection.backlog_spenders(link.txid, link.cid):
                if spender != tx_id:
                    return spender
        return None

    def block_holding(self, tx_id, except_block=None):
        """A VALID or UNDECIDED block other than ``except_block`` holding ``tx_id``, or None."""
        for block_id in self.connection.blocks_with_transaction(tx_id):
            if block_id != except_block and self.block_status(block_id) in LIVE:
                return block_id
        return None

    def asset_is_divisible(self, asset_id):
        for tx, _ in self.connection.transactions_by_asset(asset_id, CREATE):
            return tx["transaction"]["asset"]["divisible"]
        return False

    # -- statuses --------------------------------------------------------

    def block_status(self, block_id):
        """VALID, UNDECIDED or INVALID for a stored block; None for an unknown one."""
        status = self._decided.get(block_id)
        if status:
            return status
        header = self.connection.get_block_header(block_id)
        if header is None:
            return None
        if block_id == self.genesis_id:
            status = VALID
        else:
            status = block_election_status(block_id, header["block"]["voters"],
                                           self.connection.votes_for(block_id))
        if status != UNDECIDED:
            if len(self._decided) >= _DECIDED_CACHE_SIZE:
                self._decided.clear()
            self._decided[block_id] = status
        return status

    def get_transaction_status(self, tx_id):
        """valid, undecided, backlog or invalid (see PROTOCOL.md §7); None if unknown."""
        status = self._status_in_blocks(tx_id)
        if status in (TX_VALID, TX_UNDECIDED):
            return status
        if self.connection.get_backlog_transaction(tx_id) is not None:
            return TX_BACKLOG
        # The block stage writes a block before it deletes the block's transactions
        # from the backlog: one that left the backlog since the first look is in a block.
        return self._status_in_blocks(tx_id)

    def _status_in_blocks(self, tx_id):
        statuses = {self.block_status(b) for b in self.connection.blocks_with_transaction(tx_id)}
        if VALID in statuses:
            return TX_VALID
        if UNDECIDED in statuses:
            return TX_UNDECIDED
        return TX_INVALID if statuses else None

    def get_transaction(self, tx_id):
        """``(tx, block)`` for ``tx_id`` in a VALID block, else an UNDECIDED one; None if neither.

        ``block`` is the holding block's header (it carries the timestamp).
        """
        found = None
        for block_id in self.connection.blocks_with_transaction(tx_id):
            status = self.block_status(block_id)
            if status == VALID or (status == UNDECIDED and found is None):
                found = block_id
                if status == VALID:
                    break
        if found is None:
            return None
        return self.connection.get_transaction_in_block(tx_id, found), self.connection.get_block_header(found)

    def get_blocks_with_transaction(self, tx_id, status=None):
        """Full blocks holding ``tx_id``, optionally only those whose status is ``status``."""
        blocks = []
        for block_id in self.connection.blocks_with_transaction(tx_id):
            if status is None or self.block_status(block_id) == status:
                blocks.append(self.connection.get_block(block_id))
        return blocks

    def get_block(self, block_id, status=VALID):
        """The block ``block_id`` if its status is ``status``, else None."""
        if self.block_status(block_id) != status:
            return None
        return self.connection.get_block(block_id)

    def get_votes(self, block_id, voter=None):
        votes = self.connection.votes_for(block_id)
        return [v for v in votes if voter is None or v.get("node_pubkey") == voter]

    def _live_transactions(self, pairs):
        """The transactions of ``(tx, block id)`` pairs in VALID or UNDECIDED blocks, once each."""
        found = {}
        for tx, block_id in pairs:
            if tx["id"] not in found and self.block_status(block_id) in LIVE:
                found[tx["id"]] = tx
        return list(found.values())

    def get_transactions_by_asset(self, asset_id, operation=None):
        return self._live_transactions(self.connection.transactions_by_asset(asset_id, operation))

    def get_transactions_by_metadata(self, metadata_id):
        return self._live_transactions(self.connection.transactions_by_metadata(metadata_id))

    def get_transactions_by_owner(self, owner, fulfilled=None):
        """Transactions with an output of ``owner`` in a VALID or UNDECIDED block.

        ``fulfilled=False`` keeps only those with an output of ``owner`` not yet
        spent, ``True`` only those with one spent; None keeps all.
        """
        result = {}
        for tx_id, cid, block_id in self.connection.outputs_of(owner):
            if tx_id in result or self.block_status(block_id) not in LIVE:
                continue
            if fulfilled is not None:
                spent = any(self.block_status(b) in LIVE for _, b in self.connection.spenders(tx_id, cid))
                if spent != fulfilled:
                    continue
            result[tx_id] = self.connection.get_transaction_in_block(tx_id, block_id)
        return list(result.values())

    # -- blocks and votes ------------------------------------------------

    @property
    def genesis_id(self):
        """The genesis block's id (it is never voted on and counts as VALID)."""
        if self._genesis_id is None:
            genesis = self.connection.get_genesis_block()
            self._genesis_id = genesis["id"] if genesis else None
        return self._genesis_id

    def create_block(self, transactions):
        """A signed block of transaction dicts, voted on by the whole federation."""
        return Block(transactions, self.me, self.federation).sign(self.me_private)

    def write_block(self, block):
        self.connection.write_block(block.to_dict())
        logger.info("wrote block %s with %d transactions", block.id, len(block.transactions))

    def create_genesis_block(self):
        """Write the genesis block (once, at init): one GENESIS transaction to this node."""
        genesis = Transaction.create([self.me], [([self.me], 1)], Asset(), operation=GENESIS)
        genesis.sign([self.me_private])
        block = self.create_block([genesis.to_dict()])
        self.connection.write_block(block.to_dict())
        return block

    def vote(self, block_id, is_valid, invalid_reason=None):
        """This node's signed vote on ``block_id``, chained to the block it voted on before."""
        last = self.connection.last_vote_by(self.me)
        if last is not None:
            previous = last["vote"]["voting_for_block"]
        else:
            previous = self.genesis_id
        return make_vote(block_id, previous, is_valid, invalid_reason, self.me_private, self.me)

    def requeue(self, block):
        """Put an INVALID block's transactions back in the backlog, once.

        Transactions already live elsewhere or in the backlog are skipped;
        the block pipeline re-validates the rest.
        """
        if self.connection.was_requeued(block["id"]):
            return
        for tx in block["block"]["transactions"]:
            if self.block_holding(tx["id"], block["id"]) is None:
                self.connection.write_backlog(tx, random.choice(self.federation), time.time())
        if self.connection.mark_requeued(block["id"]):
            logger.info("block %s is INVALID: its %d transactions went back to the backlog",
                        block["id"], len(block["block"]["transactions"]))
