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
from typing import NamedTuple

from bigchaindb.backend.exceptions import InvalidPosition

from bigchaindb.common.exceptions import (DoubleSpend, DuplicateTransaction, InputDoesNotExist, InputNotValid,
                                         ValidationError)
from bigchaindb.common.transaction import CREATE, GENESIS, TRANSFER, Asset, Transaction, TransactionLink
from bigchaindb.common.utils import flatten
from bigchaindb.consensus import (INVALID, UNDECIDED, VALID, block_election_outcome, counted_votes,
                                  is_authentic_vote_by, status_of)
from bigchaindb.common.utils import dumps
from bigchaindb.models import (Block, header_is_readable, looks_like_transaction, make_vote, transactions_of,
                               validate_transaction)

logger = logging.getLogger(__name__)

# transaction statuses, as the statuses endpoint names them
TX_VALID, TX_UNDECIDED, TX_BACKLOG, TX_INVALID = "valid", "undecided", "backlog", "invalid"
LIVE = (VALID, UNDECIDED)
"""The outcomes (``block_outcome``) of a block whose transactions it holds:
not a STUCK block's, which go back to the backlog."""
PAGE_SIZE = 100
"""Items of a list page when the client does not say."""
PAGE_SCAN = 10
"""A page reads at most this many times its size (or ``PAGE_SIZE``, if more) of index entries (see ``read_page``)."""
_CACHE_SIZE = 100_000
_HEADERS_CACHED = 10_000
"""Block headers a process keeps (a few hundred bytes each, a block holding
up to a thousand transactions): what a GET of a transaction answers with."""


COMBINED = {"transaction_copies": "get_transaction_in_block", "outputs_in_blocks": "get_outputs"}
"""Reads that answer ``blocks_with_transaction`` and another read per block
found at once (see ``backend.base.Connection``), and which other
(``combined_answers``)."""


HELD = ("get_backlog_transaction", "transaction_copies")
"""The reads ``held_copies`` answers at once (see ``backend.base.Connection``)."""


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
        self._last_vote = None  # the vote this process cast last (only the vote stage casts votes)

    def __copy__(self):
        """A shallow copy, as ``copy.copy`` makes one (a view, see ``_view``),
        at a quarter of the generic protocol's cost: every request makes one."""
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        return view

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
        in_backlog, copies = self.connection.held_copies(tx_id)
        found = self._find_transaction(tx_id, copies)
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
                reads += [("outputs_in_blocks", (txid, cids)), ("spenders_of", (txid, cids))]
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

    def statuses_read(self, block_ids):
        """This node's view with what the status of each of ``block_ids`` takes
        read ahead (see ``_view``): one round trip, none for blocks decided already."""
        return self._view([], blocks=block_ids)

    def _view(self, reads, more=lambda answers: (), known=None, blocks=()):
        """This node's view with ``reads`` (``(method, args)`` pairs of the
        storage interface) read ahead, then ``more(answers)`` and what the
        status of every block found (and of ``blocks``) takes (its votes; its
        header, the first time), in as few round trips as the engine allows
        (``read_many``): one, and a second when blocks were found.  Every
        answer is as of that read, as if read when asked; anything else is
        read when asked.  The status of the block ``known`` is not read.  On
        an engine whose reads are not worth batching (``READS_IN_BATCHES``)
        nothing is read ahead: everything is read when first asked, and
        remembered for the view's later asks (accepting a transaction asks
        which blocks hold it twice)."""
        if not self.connection.READS_IN_BATCHES:
            view = copy.copy(self)
            view.connection = Prefetched(self.connection, {}, remember=True)
            return view
        answers = self._read_ahead(reads, {})
        blocks = set(blocks)
        for (name, args), answer in list(answers.items()):
            if name in COMBINED:
                answers.update(combined_answers(name, args, answer))
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
            if self.block_outcome(holder) in LIVE and self._spends(spender, holder, TransactionLink(txid, cid)):
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
        """A VALID or UNDECIDED (not STUCK) block other than ``except_block`` holding ``tx_id``, or None."""
        for block_id in self.connection.blocks_with_transaction(tx_id):
            if block_id != except_block and self.block_outcome(block_id) in LIVE:
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
        return status_of(self.block_outcome(block_id))

    def block_outcome(self, block_id):
        """``block_status``, but STUCK for a block UNDECIDED for good (every
        member voted): such a block holds none of its transactions."""
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
            status = block_election_outcome(block_id, self.federation, self.connection.votes_for(block_id))
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

    def _find_transaction(self, tx_id, copies=None):
        """``(tx, block id)`` for ``tx_id`` in a VALID block, else an UNDECIDED one; None if neither.
        ``copies``: its ``transaction_copies``, if read already."""
        found = None
        for block_id, tx in self.connection.transaction_copies(tx_id) if copies is None else copies:
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

    def get_blocks_with_transaction(self, tx_id, status=None, after=None, limit=PAGE_SIZE):
        """``Page`` of the full blocks holding ``tx_id``, optionally only those whose
        status is ``status``; stored blocks not shaped as blocks are left out.

        The list is as long as the blocks holding one transaction: it is read
        whole, and a page goes on after the block ``after`` (an id) names."""
        def block(block_id):
            if status is None or self.block_status(block_id) == status:
                return self.get_block(block_id, status=None)
            return None
        block_ids = list(dict.fromkeys(self.connection.blocks_with_transaction(tx_id)))
        return page_after(block_ids, lambda block_id: block_id, after, limit, block)

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
        votes, = self.get_votes_of_blocks([block_id])
        return [vote for vote in votes if voter is None or vote["node_pubkey"] == voter]

    def get_votes_of_blocks(self, block_ids):
        """``get_votes`` of each of ``block_ids``, read at once."""
        found = self.connection.read_many([("votes_for", (block_id,)) for block_id in block_ids])
        return [counted_votes(block_id, self.federation, votes) for block_id, votes in zip(block_ids, found)]

    # -- lists, a page at a time -----------------------------------------
    # Every list is read from an index in ledger order, a page after a
    # position (see ``backend.base.Connection``).  What a page leaves out (in
    # no VALID or UNDECIDED block; spent, or not, when asked; an index row
    # that does not say what its transaction says) is skipped, reading at most
    # ``PAGE_SCAN`` times the page's size of index entries: a page may so come
    # back short, or empty, with where to go on from.  A transaction held by
    # two live blocks (possible only while one of them is undecided) is listed
    # once a page.

    def get_outputs_of(self, owner, spent=None, after=None, limit=PAGE_SIZE):
        """``Page`` of ``{"transaction_id", "output_index", "amount", "asset_id", "owners_after"}``: the outputs
        of ``owner`` in VALID or UNDECIDED blocks, as ``get_transactions_by_owner``
        finds them; ``spent`` True or False keeps only those spent (by a
        transaction in a VALID or UNDECIDED block) or not."""
        listed = set()

        def accept(entry):
            tx, block_id, cid = entry
            output = self._owned_output(tx, block_id, owner, cid)
            if output is None or (tx["id"], cid) in listed:
                return None
            if spent is not None and self._is_spent(tx["id"], cid) != spent:
                return None
            listed.add((tx["id"], cid))
            return {"transaction_id": tx["id"], "output_index": cid, **output}
        return read_page(lambda position, size: read_index([
            (position, position, (tx, block_id, cid))
            for position, tx, block_id, cid in self.connection.outputs_page(owner, position, size)], size),
            after, limit, accept)

    def get_votes_page(self, block_id, voter=None, after=None, limit=PAGE_SIZE):
        """``Page`` of ``get_votes``: as long as the federation at most, the list
        is read whole; a page goes on after the vote of the voter ``after``
        names (each voter has one vote that counts)."""
        return page_after(self.get_votes(block_id, voter), lambda vote: vote["node_pubkey"], after, limit)

    def get_transactions_by_owner(self, owner, fulfilled=None, after=None, limit=PAGE_SIZE):
        """``Page`` of transactions with an output of ``owner`` in a VALID or UNDECIDED block.

        ``fulfilled=False`` keeps only those with an output of ``owner`` not yet
        spent, ``True`` only those with one spent; None keeps all.
        """
        listed = set()

        def accept(entry):
            tx, block_id, cid = entry
            if self._owned_output(tx, block_id, owner, cid) is None or tx["id"] in listed:
                return None
            if fulfilled is not None and self._is_spent(tx["id"], cid) != fulfilled:
                return None
            listed.add(tx["id"])
            return tx
        # the outputs of one transaction are one group: it is listed once, for the first that fits
        return read_page(lambda position, size: read_index([
            (position, (tx.get("id") if isinstance(tx, dict) else None, block_id), (tx, block_id, cid))
            for position, tx, block_id, cid in self.connection.outputs_page(owner, position, size)], size),
            after, limit, accept)

    def _owned_output(self, tx, block_id, owner, cid):
        """``{"asset_id", "amount", "owners_after"}`` of output ``cid`` of the stored
        ``tx`` when it is in a VALID or UNDECIDED block and ``owner`` is among its
        owners_after, else None.  The index row that named it is not taken on
        trust (see ``_spends``)."""
        if not looks_like_transaction(tx) or self.block_outcome(block_id) not in LIVE:
            return None
        try:
            body = tx["transaction"]
            condition = body["conditions"][cid]
            if owner in flatten(condition["owners_after"]) and type(condition["amount"]) is int:
                return {"asset_id": body["asset"]["id"], "amount": condition["amount"],
                        "owners_after": condition["owners_after"]}
        except (KeyError, TypeError, IndexError):
            pass
        return None

    def _is_spent(self, tx_id, cid):
        """True when a transaction in a VALID or UNDECIDED block spends output ``cid`` of ``tx_id``."""
        return self.get_spender(TransactionLink(tx_id, cid), None, check_backlog=False) is not None

    def get_transactions_by_asset(self, asset_id, operation=None, after=None, limit=PAGE_SIZE):
        """``Page`` of the transactions of ``asset_id`` (of ``operation`` unless None) in VALID or UNDECIDED blocks."""
        return self._transactions_page(lambda position, size: self.connection.asset_page(
            asset_id, operation, position, size), after, limit, lambda body: body["asset"]["id"] == asset_id)

    def get_transactions_by_metadata(self, metadata_id, after=None, limit=PAGE_SIZE):
        """``Page`` of the transactions with metadata ``metadata_id`` in VALID or UNDECIDED blocks."""
        return self._transactions_page(lambda position, size: self.connection.metadata_page(
            metadata_id, position, size), after, limit, lambda body: body["metadata"]["id"] == metadata_id)

    def _transactions_page(self, read, after, limit, matches):
        listed = set()

        def accept(entry):
            tx, block_id = entry
            if not self._live_transaction(tx, block_id, matches) or tx["id"] in listed:
                return None
            listed.add(tx["id"])
            return tx
        return read_page(lambda position, size: read_index([
            (position, position, (tx, block_id)) for position, tx, block_id in read(position, size)], size),
            after, limit, accept)

    def _live_transaction(self, tx, block_id, matches=lambda body: True):
        """True when the stored ``tx`` is in a VALID or UNDECIDED block and its body ``matches``
        (what the index row that named it says of it: see ``_spends``)."""
        if not looks_like_transaction(tx) or self.block_outcome(block_id) not in LIVE:
            return False
        try:
            return matches(tx["transaction"])
        except (KeyError, TypeError):
            return False

    def search(self, kind, words, after=None, limit=PAGE_SIZE):
        """``Page`` of ``{"id", "data"}`` of the assets (``kind`` "asset") or
        metadata ("metadata") in VALID or UNDECIDED blocks whose data holds
        some of ``words``, ranked (see ``backend.base.Connection.search_page``):
        one a transaction, so metadata several transactions carry shows once
        for each (an asset's data is on its CREATE only)."""
        listed = set()

        def accept(tx_and_block):
            tx, block_id = tx_and_block
            part = self._live_part(tx, block_id, kind)
            # the word rows are not checked against the data (that would mean splitting it into
            # words again, the larger part of a search's cost): a row naming a transaction
            # for a word it lacks can only bring up a real, live transaction
            if part is None or tx["id"] in listed:
                return None
            listed.add(tx["id"])
            return {"id": part["id"], "data": part.get("data")}

        def read(position, size):
            entries, following = self.connection.search_page(kind, words, position, size)
            return [(position, position, (tx, block_id)) for position, tx, block_id in entries], following
        return read_page(read, after, limit, accept)

    def _live_part(self, tx, block_id, kind):
        """The asset of a CREATE (``kind`` "asset") or the metadata ("metadata")
        of the stored ``tx`` in a VALID or UNDECIDED block, when it has an id; else None."""
        if not self._live_transaction(tx, block_id):
            return None
        body = tx["transaction"]
        if kind == "asset" and body.get("operation") != CREATE:
            return None
        part = body.get(kind)
        return part if isinstance(part, dict) and isinstance(part.get("id"), str) else None

    def get_asset(self, asset_id):
        """``{"id", "data"}`` of ``asset_id`` from its CREATE in a VALID or UNDECIDED block, or None."""
        return self._first_part("asset", asset_id, lambda position, size: self.connection.asset_page(
            asset_id, CREATE, position, size))

    def get_metadata(self, metadata_id):
        """``{"id", "data"}`` of ``metadata_id`` from the first transaction holding it in a
        VALID or UNDECIDED block, or None."""
        return self._first_part("metadata", metadata_id, lambda position, size: self.connection.metadata_page(
            metadata_id, position, size))

    def _first_part(self, kind, part_id, read):
        def accept(entry):
            part = self._live_part(*entry, kind)
            return {"id": part_id, "data": part.get("data")} if part and part["id"] == part_id else None
        page = read_page(lambda position, size: read_index([
            (position, position, (tx, block_id)) for position, tx, block_id in read(position, size)], size),
            None, 1, accept)
        return page.items[0] if page.items else None

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

    def write_block(self, block, taken=()):
        """Store ``block``, then take the transactions ``taken`` out of the backlog (see ``Connection.write_block``)."""
        self.connection.write_block(block.to_dict(), taken)
        logger.info("wrote block %s with %d transactions", block.id, len(block.transactions))

    def create_genesis_block(self):
        """Write the genesis block (once, at init): one GENESIS transaction to this node."""
        genesis = Transaction.create([self.me], [([self.me], 1)], Asset(), operation=GENESIS)
        genesis.sign([self.me_private])
        block = self.create_block([genesis.to_dict()])
        self.connection.write_block(block.to_dict())
        return block

    def last_vote(self):
        """This node's latest vote (by write order); rows signed by anyone else are passed over.
        The one this process cast last, once it has cast one: a node has one vote stage, so
        no other process writes this node's votes (a read saved per block voted on)."""
        if self._last_vote is None:
            return self.connection.last_vote_by(self.me, is_authentic_vote_by(self.me))
        return self._last_vote

    def vote(self, block_id, is_valid, invalid_reason=None):
        """This node's signed vote on ``block_id``, chained to the block it voted on before."""
        last = self.last_vote()
        if last is not None:
            previous = last["vote"]["voting_for_block"]
        else:
            previous = self.genesis_id
        return make_vote(block_id, previous, is_valid, invalid_reason, self.me_private, self.me)

    def cast_vote(self, block_id, is_valid, invalid_reason=None, stored_votes=None):
        """Vote on ``block_id`` and store the vote, unless this node voted on it
        already (a row in its name that it did not sign does not count).
        Returns the stored vote, or None.  Only the vote stage casts votes.
        ``stored_votes`` are the votes on ``block_id`` in the store, when the
        caller read them already (``votes_for``)."""
        if stored_votes is None:
            stored_votes = self.connection.votes_for(block_id)
        if any(vote["node_pubkey"] == self.me for vote in counted_votes(block_id, self.federation, stored_votes)):
            return None
        vote = self.vote(block_id, is_valid, invalid_reason)
        self.connection.write_vote(vote)  # stored now, by this call or (its answer lost) by its first attempt
        self._last_vote = vote
        return vote

    def blocks_to_vote_on(self):
        """Headers of the stored blocks this node has not voted on (genesis aside), oldest first."""
        return self.connection.blocks_not_voted_by(self.me, is_authentic_vote_by(self.me))

    def requeue(self, block_id, outcome=INVALID):
        """Put the transactions of an INVALID or STUCK block (``outcome``)
        that are still valid back in the backlog, once.

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
                logger.info("transaction %s of %s block %s stays out of the backlog: %s", tx["id"], outcome, block_id,
                            exc)
                continue
            if self.write_to_backlog(tx) is None:
                requeued += 1
        if self.connection.mark_requeued(block_id):
            logger.info("block %s is %s: %d of its transactions went back to the backlog", block_id, outcome, requeued)


class Page(NamedTuple):
    """One page of a list: its ``items``, and the position to read the next
    page after (see ``backend.base.Connection``), or None after the last."""
    items: list
    next: object


def read_page(read, after, limit, accept, scan=None):
    """A ``Page`` of up to ``limit`` items from index entries in order.

    ``read(after, size)`` gives ``(entries, following)``: up to ``size``
    entries after the position ``after`` as ``(position, group, entry)``, and
    the position to read on after (None at the end of the index).
    ``accept(entry)`` makes an entry an item, or None to skip it.  Entries of
    one ``group`` (adjacent) give one item at most, and a page never ends
    inside a group, so that a group is never split between pages.  A page
    has a next position only when an item was found after its last one (the
    next page starts with it), or when it stopped after reading ``scan``
    entries (by default ``PAGE_SCAN`` times ``limit``, or ``PAGE_SIZE`` if
    more; whole groups) or ``PAGE_SCAN`` times.
    """
    scan = PAGE_SCAN * max(limit, PAGE_SIZE) if scan is None else scan
    items, position, scanned = [], after, 0
    group, taken, before_group = _NO_GROUP, False, after
    for _ in range(PAGE_SCAN):
        entries, following = read(position, limit + 1)
        for entry_position, entry_group, entry in entries:
            if entry_group != group:
                if scanned >= scan:
                    return Page(items, position)
                group, taken, before_group = entry_group, False, position
            scanned += 1
            position = entry_position
            if not taken:
                item = accept(entry)
                if item is not None:
                    if len(items) == limit:  # one more: the next page starts with its group
                        return Page(items, before_group)
                    items.append(item)
                    taken = True
        if following is None:
            return Page(items, None)
        position = following
    return Page(items, position)


def read_index(entries, size):
    """``(entries, following)`` for ``read_page`` from up to ``size`` ``entries``
    of a ``*_page`` read: fewer than asked means the end of the index."""
    return entries, (entries[-1][0] if len(entries) == size else None)


_NO_GROUP = object()


def page_after(whole, key, after, limit, make=lambda item: item):
    """A ``Page`` of the items ``make(item)`` (None ones left out) of the short
    list ``whole``, after the one whose ``key`` is ``after``; its ``next``
    is the key of the last item it looked at.  InvalidPosition when no item
    has the key ``after``."""
    keys = [key(item) for item in whole]
    if after is not None:
        if after not in keys:
            raise InvalidPosition("the cursor names no item of this list")
        start = keys.index(after) + 1
        whole, keys = whole[start:], keys[start:]
    items = []
    for index, item in enumerate(whole):
        if len(items) == limit:
            return Page(items, keys[index - 1])
        made = make(item)
        if made is not None:
            items.append(made)
    return Page(items, None)


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


def combined_answers(name, args, answer):
    """``{(method, args): answer}`` of the reads that the read ``(name, args)``
    answered too (see ``COMBINED`` and ``HELD``)."""
    if name == "held_copies":
        in_backlog, copies = answer
        return {(HELD[0], args): in_backlog, (HELD[1], args): copies, **combined_answers(HELD[1], args, copies)}
    if name not in COMBINED:
        return {}
    return {("blocks_with_transaction", args[:1]): [block_id for block_id, _ in answer],
            **{(COMBINED[name], (args[0], block_id, *args[1:])): part for block_id, part in answer}}


class Prefetched:
    """A storage connection whose reads are answered from ``answers``
    (``{(method, args): answer}``, see ``Bigchain.prefetched``) when there,
    from the connection otherwise (and then added to ``answers`` if it is to
    ``remember`` them: for a view that only reads); everything else goes to
    the connection.  ``held_copies`` is answered from its two parts too
    (``HELD``), as an engine that reads ahead reads them."""

    def __init__(self, connection, answers, remember=False):
        self._connection = connection
        self._answers = answers
        self._remember = remember

    def __getattr__(self, name):
        method = getattr(self._connection, name)
        if not callable(method):
            return method

        def call(*args, **kwargs):
            key = (name, tuple(tuple(arg) if isinstance(arg, list) else arg for arg in args))
            found = self._answers.get(key, self) if not kwargs else self
            if found is self and name == "held_copies":  # from its parts, if they were read ahead
                parts = tuple(self._answers.get((part, key[1]), self) for part in HELD)
                found = self if any(part is self for part in parts) else parts
            if found is self:
                found = method(*args, **kwargs)
                if self._remember and not kwargs:
                    self._answers[key] = found
                    self._answers.update(combined_answers(*key, found))
            return found
        return call
