"""The node's operations on the ledger: the one place where rules meet storage.

``Bigchain`` answers what the web layer and the pipelines ask (accept a
transaction, its status, blocks and votes) and what the validation rules in
``models`` need to know about the ledger (is this input valid, who spent
that output).  It holds a storage connection and the node's keys.
"""

import copy
import logging
import random
import time

from bigchaindb.common.exceptions import DoubleSpend, DuplicateTransaction, InputDoesNotExist, InputNotValid
from bigchaindb.common.transaction import CREATE, GENESIS, TRANSFER, Asset, Transaction
from bigchaindb.consensus import UNDECIDED, VALID, block_election_status
from bigchaindb.models import Block, make_vote, validate_transaction

logger = logging.getLogger(__name__)

# transaction statuses, as the statuses endpoint names them
TX_VALID, TX_UNDECIDED, TX_BACKLOG, TX_INVALID = "valid", "undecided", "backlog", "invalid"
LIVE = (VALID, UNDECIDED)
_CACHE_SIZE = 100_000


def remember(cache, key, value):
    """``cache[key] = value``, emptying the cache first when it holds ``_CACHE_SIZE`` entries; ``value``."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


class Bigchain:
    """One federation node's view of the ledger."""

    def __init__(self, connection, public_key, private_key=None, keyring=(), backlog_reassign_delay=120):
        self.connection = connection
        self.me = public_key
        self.me_private = private_key
        self.keyring = list(keyring)
        self.backlog_reassign_delay = backlog_reassign_delay
        # a decided block never changes status, nor a block its voters, so each
        # process remembers them (and reads only the votes of an undecided block)
        self._decided = {}
        self._voters = {}
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
        view = self.prefetched([tx])
        held = view.get_held_copy(tx.id)
        if held is not None:
            if held == tx_dict:
                return tx
            raise DuplicateTransaction(f"transaction {tx.id} is already known to this node with other "
                                       "fulfillments")
        validate_transaction(view, tx)
        conflict = self.write_to_backlog(tx_dict)
        if conflict:
            raise DoubleSpend(f"an input of {tx.id} is already spent by transaction {conflict}")
        return tx

    def write_to_backlog(self, tx_dict):
        """Write a transaction to the backlog, assigned to a random federation
        node; None, or the id of a transaction holding one of its inputs.

        A holder that is neither in the backlog nor in a VALID or UNDECIDED
        block is named stale and the write is tried again: the store gives
        its hold to this transaction if it is old enough (see
        ``backend.base.Connection.write_backlog``); a holder named stale
        before is the answer.  Each round names a new holder, so it ends.
        """
        stale = set()
        while True:
            conflict = self.connection.write_backlog(tx_dict, random.choice(self.federation), time.time(), stale)
            if conflict is None or conflict in stale or self.is_live_spender(conflict):
                return conflict
            stale.add(conflict)

    def is_live_spender(self, tx_id):
        """True when ``tx_id`` is in the backlog or in a VALID or UNDECIDED block."""
        return self.connection.get_backlog_transaction(tx_id) is not None or self.block_holding(tx_id) is not None

    def get_held_copy(self, tx_id):
        """The stored transaction ``tx_id`` from a VALID/UNDECIDED block or the backlog, or None."""
        # The backlog first: the block stage writes a block before it deletes its
        # transactions from the backlog, so one that left meanwhile is found in the block.
        in_backlog = self.connection.get_backlog_transaction(tx_id)
        found = self._find_transaction(tx_id)
        return in_backlog if found is None else found[0]

    # -- reading ahead ---------------------------------------------------

    def prefetched(self, txs, check_backlog=True, block_id=None):
        """This node's view with what validating the Transactions ``txs`` asks
        of the store read ahead (``_view``): the transactions, their inputs
        and the inputs' spenders (and, with ``check_backlog``, the backlog's
        copies and spenders, as a post needs them), then the inputs in the
        blocks found.  ``block_id`` is the block they are validated in (the
        vote stage's), whose own status validation does not ask."""
        reads, outputs = [], {}
        for tx in txs:
            if check_backlog:
                reads.append(("get_backlog_transaction", (tx.id,)))
            reads.append(("blocks_with_transaction", (tx.id,)))
            for txid, cids in spent_cids(tx).items():
                outputs.setdefault(txid, set()).add(cids)
                reads.append(("blocks_with_transaction", (txid,)))
                for cid in cids:
                    reads.append(("spenders", (txid, cid)))
                    if check_backlog:
                        reads.append(("backlog_spenders", (txid, cid)))
            if tx.operation == TRANSFER and sum(condition.amount for condition in tx.conditions) != 1:
                reads.append(("transactions_by_asset", (tx.asset.id, CREATE)))
        return self._view(reads, lambda answers: [
            ("get_outputs", (txid, holder, cids)) for txid, wanted in outputs.items()
            for holder in answers[("blocks_with_transaction", (txid,))] for cids in wanted], block_id)

    def _view(self, reads, more=lambda answers: (), known=None):
        """This node's view with ``reads`` (``(method, args)`` pairs of the
        storage interface) read ahead, then ``more(answers)`` and what the
        status of every block found takes (its votes; its header, the first
        time), in as few round trips as the engine allows (``read_many``):
        one, and a second when blocks were found.  Every answer is as of that
        read, as if read when asked; anything else is read when asked.  The
        status of the block ``known`` is not read.  On an engine whose reads
        are not worth batching (``READS_IN_BATCHES``) it is this node itself:
        everything is read when asked."""
        if not self.connection.READS_IN_BATCHES:
            return self
        answers = self._read_ahead(reads, {})
        blocks = set()
        for (name, _), answer in answers.items():
            if name == "blocks_with_transaction":
                blocks.update(answer)
            elif name in ("spenders", "transactions_by_asset"):
                blocks.update(block_id for _, block_id in answer)
        if blocks:
            blocks -= {self.genesis_id, known}
        later = list(more(answers))
        for block_id in blocks - set(self._decided):
            later.append(("votes_for", (block_id,)))
            if block_id not in self._voters:
                later.append(("get_block_header", (block_id,)))
        view = copy.copy(self)
        view.connection = Prefetched(self.connection, self._read_ahead(later, answers))
        return view

    def _read_ahead(self, reads, answers):
        """``answers`` with those to ``reads`` (``(method, args)`` pairs) added, each read once."""
        reads = list(dict.fromkeys(read for read in reads if read not in answers))
        if reads:
            answers.update(zip(reads, self.connection.read_many(reads)))
        return answers

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
        voters = self._voters.get(block_id)
        if voters is None:
            header = self.connection.get_block_header(block_id)
            if header is None:
                return None
            voters = remember(self._voters, block_id, header["block"]["voters"])
        if block_id == self.genesis_id:
            status = VALID
        else:
            status = block_election_status(block_id, voters, self.connection.votes_for(block_id))
        if status != UNDECIDED:
            remember(self._decided, block_id, status)
        return status

    def get_transaction_status(self, tx_id):
        """valid, undecided, backlog or invalid (see PROTOCOL.md §7); None if unknown."""
        # The backlog is read first: the block stage writes a block before it deletes
        # the block's transactions from the backlog, so one that left it is in a block.
        view = self._view([("get_backlog_transaction", (tx_id,)), ("blocks_with_transaction", (tx_id,))])
        in_backlog = view.connection.get_backlog_transaction(tx_id) is not None
        status = view._status_in_blocks(tx_id)
        if status in (TX_VALID, TX_UNDECIDED):
            return status
        return TX_BACKLOG if in_backlog else status

    def _status_in_blocks(self, tx_id):
        statuses = {self.block_status(b) for b in self.connection.blocks_with_transaction(tx_id)} - {None}
        if VALID in statuses:
            return TX_VALID
        if UNDECIDED in statuses:
            return TX_UNDECIDED
        return TX_INVALID if statuses else None

    def get_transaction(self, tx_id):
        """``(tx, block)`` for ``tx_id`` in a VALID block, else an UNDECIDED one; None if neither.

        ``block`` is the holding block's header (it carries the timestamp).
        """
        return self._view([("blocks_with_transaction", (tx_id,))], lambda answers: [
            read for block_id in answers[("blocks_with_transaction", (tx_id,))]
            for read in (("get_transaction_in_block", (tx_id, block_id)), ("get_block_header", (block_id,)))
        ])._find_transaction(tx_id)

    def _find_transaction(self, tx_id):
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
        return [block for block in blocks if block is not None]  # rows of a block whose write never ended

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
                self.write_to_backlog(tx)
        if self.connection.mark_requeued(block["id"]):
            logger.info("block %s is INVALID: its %d transactions went back to the backlog",
                        block["id"], len(block["block"]["transactions"]))


def spent_cids(tx):
    """``{input txid: (cid, ...)}`` of the outputs the Transaction ``tx`` spends,
    in the order ``models.validate_transaction`` asks for them."""
    spent = {}
    for link in tx.spent_outputs():
        spent.setdefault(link.txid, []).append(link.cid)
    return {txid: tuple(cids) for txid, cids in spent.items()}


class Prefetched:
    """A storage connection whose reads are answered from ``answers``
    (``{(method, args): answer}``, see ``Bigchain.prefetched``) when there,
    from the connection otherwise; everything else goes to the connection."""

    def __init__(self, connection, answers):
        self._connection = connection
        self._answers = answers

    def __getattr__(self, name):
        method = getattr(self._connection, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            key = (name, tuple(tuple(arg) if isinstance(arg, list) else arg for arg in args))
            found = self._answers.get(key, self) if not kwargs else self
            return method(*args, **kwargs) if found is self else found
        return call
