"""The node's operations on the ledger: the one place where rules meet storage.

``Bigchain`` answers what the web layer and the pipelines ask (accept a
transaction, its status, blocks and votes) and what the validation rules in
``models`` need to know about the ledger (is this input valid, who spent
that output).  It holds a storage connection and the node's keys.

Every federation member can write any row to the shared store, so nothing
read from it is taken on trust: a vote counts only when its signature
verifies, a block only when this node's federation elected it, and a row
that is not shaped as what it should be is skipped (a block is INVALID).
"""

import copy
import hashlib
import hmac
import logging
import random
import time

from bigchaindb.common.exceptions import (DoubleSpend, DuplicateTransaction, InputDoesNotExist, InputNotValid,
                                         ValidationError)
from bigchaindb.common.transaction import CREATE, GENESIS, TRANSFER, Asset, Transaction, TransactionLink
from bigchaindb.consensus import (INVALID, UNDECIDED, VALID, block_election_status, counted_votes,
                                  is_authentic_vote_by)
from bigchaindb.common.utils import dumps
from bigchaindb.models import (Block, header_is_readable, looks_like_transaction, make_vote, transactions_of,
                               validate_transaction)

logger = logging.getLogger(__name__)

# transaction statuses, as the statuses endpoint names them
TX_VALID, TX_UNDECIDED, TX_BACKLOG, TX_INVALID = "valid", "undecided", "backlog", "invalid"
LIVE = (VALID, UNDECIDED)
_CACHE_SIZE = 100_000
_HEADERS_CACHED = 10_000
"""Block headers a process keeps (a few hundred bytes each, a block holding
up to a thousand transactions): what a GET of a transaction answers with."""


def remember(cache, key, value, size=_CACHE_SIZE):
    """``cache[key] = value``, emptying the cache first when it holds ``size`` entries; ``value``."""
    if len(cache) >= size:
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
        # a decided block never changes status, nor a block its header, so each
        # process remembers them (and reads only the votes of an undecided block)
        self._decided = {}
        self._readable = {}
        self._headers = {}
        self._genesis_id = None
        self._check_key = None

    @classmethod
    def from_config(cls, config, connection):
        return cls(connection, config["keypair"]["public"], config["keypair"]["private"],
                   config["keyring"], config["backlog_reassign_delay"])

    @property
    def federation(self):
        """Every node's key: the keyring followed by this node's own (a block's voters, the electorate)."""
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
        logger.info("accepted transaction %s into the backlog", tx.id)
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
        stale, check = set(), self.check_of(tx_dict)
        while True:
            conflict = self.connection.write_backlog(tx_dict, random.choice(self.federation), time.time(), stale,
                                                     check)
            if conflict is None or conflict in stale or self.is_live_spender(conflict):
                return conflict
            stale.add(conflict)

    # -- signatures verified once per node -------------------------------

    def check_of(self, tx_dict):
        """This node's note, kept with a backlog entry it writes, that it verified
        the entry's signatures: an HMAC of the transaction's id and fulfillment
        URIs under a key derived from the node's private key.  The id covers
        everything else (``Transaction.from_dict`` checks it), so the note
        holds for these very bytes; and no one without the private key (another
        member writing rows into the store) can make one.  None for a node
        without its private key, or a dict not shaped as a transaction."""
        if self.me_private is None:
            return None
        if self._check_key is None:
            self._check_key = hashlib.sha256(b"bigchaindb backlog check\0" + self.me_private.encode()).digest()
        try:
            signed = dumps([tx_dict["id"], [ffill["fulfillment"] for ffill in tx_dict["transaction"]["fulfillments"]]])
        except (KeyError, TypeError, ValueError):  # orjson's refusals are TypeErrors
            return None
        return hmac.new(self._check_key, signed, hashlib.sha256).hexdigest()

    def checked_here(self, tx_dict, check):
        """True when ``check`` (read from the backlog, where anyone can write) is
        this node's own note that it verified ``tx_dict``'s signatures."""
        made = self.check_of(tx_dict) if isinstance(check, str) else None
        return made is not None and hmac.compare_digest(made, check)

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

    def prefetched(self, txs, check_backlog=True, block_id=None, also=()):
        """This node's view with what validating the Transactions ``txs`` asks
        of the store read ahead (``_view``): the transactions, their inputs
        and the inputs' spenders (and, with ``check_backlog``, the backlog's
        copies and spenders, as a post needs them), then the inputs in the
        blocks found; and the reads ``also`` (``(method, args)`` pairs).
        ``block_id`` is the block they are validated in (the vote stage's),
        whose own status validation does not ask."""
        reads, outputs = list(also), {}
        for tx in txs:
            if check_backlog:  # a post: the copies held already, to accept the very same one again
                reads += [("get_backlog_transaction", (tx.id,)), ("transaction_copies", (tx.id,))]
            else:
                reads.append(("blocks_with_transaction", (tx.id,)))
            for txid, cids in spent_cids(tx).items():
                outputs.setdefault(txid, set()).add(cids)
                reads += [("blocks_with_transaction", (txid,)), ("spenders_of", (txid, cids))]
                if check_backlog:
                    reads.append(("backlog_spenders_of", (txid, cids)))
            if tx.operation == TRANSFER and sum(condition.amount for condition in tx.conditions) != 1:
                reads.append(("transactions_by_asset", (tx.asset.id, CREATE)))

        def more(answers):
            for txid, wanted in outputs.items():
                for holder in answers[("blocks_with_transaction", (txid,))]:
                    yield from (("get_outputs", (txid, holder, cids)) for cids in wanted)
                for cids in wanted:  # spenders in other blocks, to see that they really spend it
                    for _, spender, holder in answers[("spenders_of", (txid, cids))]:
                        if holder != block_id:
                            yield "get_transaction_in_block", (spender, holder)
        return self._view(reads, more, block_id)

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
        for (name, args), answer in list(answers.items()):
            if name == "transaction_copies":  # the answers to the two reads it combines
                answers[("blocks_with_transaction", args)] = [block_id for block_id, _ in answer]
                answers.update({("get_transaction_in_block", (*args, block_id)): tx for block_id, tx in answer})
                blocks.update(block_id for block_id, _ in answer)
            elif name == "blocks_with_transaction":
                blocks.update(answer)
            elif name == "spenders_of":
                blocks.update(block_id for _, _, block_id in answer)
            elif name == "transactions_by_asset":
                blocks.update(block_id for _, block_id in answer)
        if blocks:
            blocks -= {self.genesis_id, known}
        later = list(more(answers))
        for block_id in blocks - set(self._decided):
            later.append(("votes_for", (block_id,)))
            if block_id not in self._readable:
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
        """Id of a transaction other than ``tx_id`` (in ``block_id``) spending ``link``, or None
        (see ``get_spenders``)."""
        return self.get_spenders(link.txid, [link.cid], tx_id, block_id, check_backlog).get(link.cid)

    def get_spenders(self, txid, cids, tx_id, block_id=None, check_backlog=True):
        """``{cid: id of a transaction other than tx_id (in block_id) spending it}`` for those of the
        outputs ``cids`` of ``txid`` that are spent: one query for them all (two with the backlog).

        Spenders count in VALID or UNDECIDED blocks, and with ``check_backlog``
        in the backlog too.
        """
        found = {}
        for cid, spender, holder in self.connection.spenders_of(txid, cids):
            if cid in found or (spender, holder) == (tx_id, block_id):
                continue
            if self.block_status(holder) in LIVE and self._spends(spender, holder, TransactionLink(txid, cid)):
                found[cid] = spender
        if check_backlog:
            for cid, spender in self.connection.backlog_spenders_of(txid, cids):
                if spender != tx_id:
                    found.setdefault(cid, spender)
        return found

    def _spends(self, spender, block_id, link):
        """True when transaction ``spender`` in ``block_id`` really spends ``link``.

        The engine's answer comes from index rows; on an engine that keeps
        them apart from the transactions (SQLite), anyone with write access
        could add a row naming any output as spent.
        """
        tx = self.stored_transaction(spender, block_id)
        try:
            return any(ffill["input"] == {"txid": link.txid, "cid": link.cid}
                       for ffill in tx["transaction"]["fulfillments"])
        except (KeyError, TypeError):
            return False

    def stored_transaction(self, tx_id, block_id):
        """Transaction ``tx_id`` from block ``block_id`` when it is stored as
        a transaction of that id, else None."""
        return _as_stored(self.connection.get_transaction_in_block(tx_id, block_id), tx_id)

    def block_holding(self, tx_id, except_block=None):
        """A VALID or UNDECIDED block other than ``except_block`` holding ``tx_id``, or None."""
        for block_id in self.connection.blocks_with_transaction(tx_id):
            if block_id != except_block and self.block_status(block_id) in LIVE:
                return block_id
        return None

    def asset_is_divisible(self, asset_id):
        """What the CREATE of ``asset_id`` in a VALID block says (False when there is none)."""
        for tx, block_id in self.connection.transactions_by_asset(asset_id, CREATE):
            try:
                asset = tx["transaction"]["asset"]
                if asset["id"] == asset_id and self.block_status(block_id) == VALID:
                    return asset["divisible"] is True
            except (KeyError, TypeError):
                continue  # an index row pointing at something else: see _spends
        return False

    # -- statuses --------------------------------------------------------

    def block_status(self, block_id):
        """VALID, UNDECIDED or INVALID for a stored block; None for an unknown one.

        The votes are counted against this node's federation, not against the
        block's own ``voters`` (which its writer chose).  A stored block whose
        header is not shaped as one is INVALID: no vote can make it valid.
        """
        if not isinstance(block_id, str):
            return INVALID  # an id from the store that is not even a string
        status = self._decided.get(block_id)
        if status:
            return status
        readable = self._readable.get(block_id)
        if readable is None:
            header = self.block_header(block_id)
            if header is None:
                return None
            readable = remember(self._readable, block_id, header_is_readable(block_id, header))
        if block_id == self.genesis_id:
            status = VALID
        elif not readable:
            status = INVALID
        else:
            status = block_election_status(block_id, self.federation, self.connection.votes_for(block_id))
        if status != UNDECIDED:
            remember(self._decided, block_id, status)
        return status

    def get_transaction_status(self, tx_id):
        """valid, undecided, backlog or invalid (see docs/protocol.md §7); None if unknown."""
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
        Once this process knows the block (its status decided, its header
        kept), that is one read by the transaction's id.
        """
        view = self._view([("transaction_copies", (tx_id,))])
        found = view._find_transaction(tx_id)
        return None if found is None else (found[0], view.block_header(found[1]))

    def _find_transaction(self, tx_id):
        """``(tx, block id)`` for ``tx_id`` in a VALID block, else an UNDECIDED one; None if neither."""
        found = None
        for block_id, tx in self.connection.transaction_copies(tx_id):
            status = self.block_status(block_id)
            if status == VALID or (status == UNDECIDED and found is None):
                tx = _as_stored(tx, tx_id)
                if tx is not None:
                    found = tx, block_id
                    if status == VALID:
                        break
        return found

    def block_header(self, block_id):
        """The header of block ``block_id`` (see ``Connection.get_block_header``), or None;
        a block's header never changes, so the process keeps the latest it read."""
        header = self._headers.get(block_id)
        if header is None:
            header = self.connection.get_block_header(block_id)
            if header is not None:
                remember(self._headers, block_id, header, _HEADERS_CACHED)
        return header

    def get_blocks_with_transaction(self, tx_id, status=None):
        """Full blocks holding ``tx_id``, optionally only those whose status is
        ``status``; stored blocks not shaped as blocks are left out."""
        blocks = []
        for block_id in self.connection.blocks_with_transaction(tx_id):
            if status is None or self.block_status(block_id) == status:
                block = self.get_block(block_id, status=None)
                if block is not None:
                    blocks.append(block)
        return blocks

    def get_block(self, block_id, status=VALID):
        """The block ``block_id`` if its status is ``status`` (any for None) and
        it is shaped as a block, else None."""
        if status is not None and self.block_status(block_id) != status:
            return None
        block = self.connection.get_block(block_id)
        if not header_is_readable(block_id, block) or not isinstance(block["block"].get("transactions"), list):
            return None
        return block

    def get_votes(self, block_id, voter=None):
        """The votes that count on ``block_id`` (``consensus.counted_votes``):
        one per federation member, authentic, in write order; optionally only ``voter``'s."""
        votes = counted_votes(block_id, self.federation, self.connection.votes_for(block_id))
        return [vote for vote in votes if voter is None or vote["node_pubkey"] == voter]

    def _live_transactions(self, pairs):
        """The transactions of ``(tx, block id)`` pairs in VALID or UNDECIDED blocks, once each."""
        found = {}
        for tx, block_id in pairs:
            if looks_like_transaction(tx) and tx["id"] not in found and self.block_status(block_id) in LIVE:
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
        outputs = self.get_outputs(owner, None if fulfilled is None else not fulfilled)
        return list({tx["id"]: tx for tx, _ in outputs}.values())

    def get_outputs(self, owner, unspent=None):
        """``(transaction, cid)`` of each output of ``owner`` in a VALID or UNDECIDED block,
        in ledger order.

        ``unspent=True`` keeps only the outputs no transaction in a VALID or
        UNDECIDED block spends, ``False`` only the spent ones; None keeps all.
        Unlike ``get_transactions_by_owner`` this tells apart two outputs of
        one transaction (a payment and its change, say).
        """
        found, seen = [], set()
        for tx_id, cid, block_id in self.connection.outputs_of(owner):
            if (tx_id, cid) in seen or self.block_status(block_id) not in LIVE:
                continue
            tx = self.stored_transaction(tx_id, block_id)
            if tx is None:
                continue
            if unspent is not None:
                spent = self.get_spender(TransactionLink(tx_id, cid), None, check_backlog=False) is not None
                if spent == unspent:
                    continue
            seen.add((tx_id, cid))
            found.append((tx, cid))
        return found

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

    def last_vote(self):
        """This node's latest vote (by write order); rows signed by anyone else are passed over."""
        return self.connection.last_vote_by(self.me, is_authentic_vote_by(self.me))

    def vote(self, block_id, is_valid, invalid_reason=None):
        """This node's signed vote on ``block_id``, chained to the block it voted on before."""
        last = self.last_vote()
        if last is not None:
            previous = last["vote"]["voting_for_block"]
        else:
            previous = self.genesis_id
        return make_vote(block_id, previous, is_valid, invalid_reason, self.me_private, self.me)

    def cast_vote(self, block_id, is_valid, invalid_reason=None):
        """Vote on ``block_id`` and store the vote, unless this node voted on it
        already (a row in its name that it did not sign does not count).
        Returns the stored vote, or None.  Only the vote stage casts votes."""
        if self.get_votes(block_id, self.me):
            return None
        vote = self.vote(block_id, is_valid, invalid_reason)
        self.connection.write_vote(vote)
        return vote

    def blocks_to_vote_on(self):
        """Headers of the stored blocks this node has not voted on (genesis aside), oldest first."""
        return self.connection.blocks_not_voted_by(self.me, is_authentic_vote_by(self.me))

    def requeue(self, block_id):
        """Put the transactions of an INVALID block that are still valid back
        in the backlog, once.

        Only those that pass validation now go back (not those live
        elsewhere, or spending what is spent): a forged transaction put back
        would hold the output it claims until the block pipeline dropped it,
        refusing its owner's own spend meanwhile.  The block pipeline
        re-validates what goes back.  A stored block not shaped as one has
        none to put back.
        """
        if self.connection.was_requeued(block_id):
            return
        requeued = 0
        for tx in transactions_of(self.connection.get_block(block_id)):
            try:
                validate_transaction(self, Transaction.from_dict(tx))
            except ValidationError as exc:
                logger.info("transaction %s of INVALID block %s stays out of the backlog: %s", tx["id"], block_id, exc)
                continue
            if self.write_to_backlog(tx) is None:
                requeued += 1
        if self.connection.mark_requeued(block_id):
            logger.info("block %s is INVALID: %d of its transactions went back to the backlog", block_id, requeued)


def _as_stored(tx, tx_id):
    """``tx`` (as read from a block) when it is stored as a transaction of id ``tx_id``, else None."""
    return tx if isinstance(tx, dict) and tx.get("id") == tx_id else None


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
