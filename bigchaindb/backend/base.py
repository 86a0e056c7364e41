"""The storage interface every engine implements.

Everything above ``backend`` (core, pipelines, the web layer through core)
talks to storage only through these methods, so a new engine is one new
subclass and nothing else changes.  Documents are plain dicts in the wire
format of docs/protocol.md: transactions, blocks and votes exactly as signed.

Three tables, as in every BigchainDB-style node:
  backlog   transactions accepted but not yet in a block, each assigned to
            one federation node (``assignee``) at ``assignment_timestamp``;
  bigchain  blocks (with the transactions inside them);
  votes     the votes cast on blocks.

Every federation member can write any row, so what comes back is whatever
was stored: an engine never fails on a row it cannot read, and judging rows
(is this vote signed by its voter? is this a block at all?) is left to the
layers above.  Where an engine must judge rows to answer (the votes that
count), the caller passes the judgement as a function.

Every lookup named here must be an index read (point or range), never a
scan: the request path calls them on every request.
"""

import abc


class Connection(abc.ABC):
    """An open connection to one engine.  Cheap to keep; one per process."""

    # -- schema ----------------------------------------------------------

    @abc.abstractmethod
    def init(self):
        """Create the tables and indexes, and record the hash every id in the store
        is made with (``crypto.hash_in_use()``).  Raises DatabaseAlreadyExists if present."""

    @abc.abstractmethod
    def drop(self):
        """Delete every table and all data.  Raises DatabaseDoesNotExist if absent."""

    @abc.abstractmethod
    def is_initialised(self):
        """True when ``init`` has run on this store."""

    @abc.abstractmethod
    def state(self):
        """What a node about to start finds: ``MISSING`` (no store at all: no
        file, no database), ``UNINITIALISED`` (a store is there but ``init``
        has not run on it, or not to the end) or ``INITIALISED``.  Raises
        ``DatabaseDamaged``, naming the store and what is wrong, when the
        engine's own check of its structure fails.  Changes nothing."""

    def upgrade(self):
        """Bring an initialised store made by an earlier version of this node up
        to this one (new tables and indexes, filled from what is stored); True
        when there was something to do.  A node calls it once, before starting
        its processes.  SQLite upgrades a store whenever it opens one."""
        return False

    @abc.abstractmethod
    def stored_hash(self):
        """The name of the hash ``init`` recorded ("sha3_256" for a store made before
        it recorded one), or None when the store is not initialised."""

    def close(self):
        """Release the connection."""

    READS_IN_BATCHES = False
    """True for an engine whose every read is a round trip to a server, which
    ``read_many`` saves by asking for many at once (RethinkDB); the node then
    reads ahead what an operation will ask (``core.Bigchain.prefetched``).
    An embedded engine's reads cost too little to be worth reading ahead."""

    def read_many(self, reads):
        """The answers of several reads of this interface, in order: ``reads``
        is a list of ``(method name, arguments)``.  An engine that can make
        them one round trip to its server does (RethinkDB); here each runs
        in turn."""
        return [getattr(self, name)(*args) for name, args in reads]

    # -- backlog ---------------------------------------------------------

    @abc.abstractmethod
    def write_backlog(self, tx, assignee, timestamp, stale=(), check=None):
        """Store ``tx`` in the backlog, durably, before returning, with ``check``
        (a string or None: what the writing node notes about it, see
        ``get_backlog_check``).

        Atomically refuses (returns the id of the conflicting transaction)
        when another transaction holds one of ``tx``'s inputs: of several
        writers spending one output, exactly one gets it, whichever the
        process or node.  Returns None when written, or when ``tx`` itself
        was already in the backlog (a repeated post is harmless).

        An engine may keep that hold after its transaction left the backlog
        for a block (RethinkDB does, until the transaction is decided): then
        the conflicting transaction may be in a block, or nowhere at all
        after a crash.  ``stale`` names holders the caller found in neither
        the backlog nor a VALID or UNDECIDED block; their holds are given to
        ``tx`` once they are old enough not to be a write in progress.
        """

    @abc.abstractmethod
    def get_backlog_transaction(self, tx_id):
        """The backlog transaction ``tx_id``, or None."""

    @abc.abstractmethod
    def get_backlog_check(self, tx_id):
        """The ``check`` stored with backlog entry ``tx_id`` (kept when it is
        reassigned), or None.  Any member can write any value there: the node
        that reads it must be able to tell its own from a forgery."""

    @abc.abstractmethod
    def backlog_spenders_of(self, txid, cids):
        """``(cid, tx id)`` of every backlog transaction spending one of the
        outputs ``cids`` of ``txid``, by cid: one query for all of them."""

    def backlog_spenders(self, txid, cid):
        """Ids of backlog transactions spending output ``cid`` of ``txid``."""
        return [spender for _, spender in self.backlog_spenders_of(txid, [cid])]

    @abc.abstractmethod
    def delete_backlog(self, tx_ids, blocked=False):
        """Remove the given transactions from the backlog (missing ones are ignored).

        Their hold on the outputs they spend goes with them, unless
        ``blocked`` says a written block now holds them: an engine that keeps
        holds until transactions are decided keeps theirs.
        """

    @abc.abstractmethod
    def backlog_assigned_to(self, assignee):
        """Every backlog transaction assigned to ``assignee``, oldest first, as
        ``(tx, assignment_timestamp)`` pairs."""

    @abc.abstractmethod
    def stale_backlog(self, older_than):
        """``(tx_id, assignee)`` of backlog entries assigned before the unix time ``older_than``."""

    @abc.abstractmethod
    def backlog_size(self):
        """How many transactions the backlog holds: a count the engine keeps or reads off an index,
        not the entries themselves (the stale stage asks every few seconds)."""

    @abc.abstractmethod
    def backlog_held_by(self, assignee, tx_ids):
        """Those of ``tx_ids`` whose backlog entry is (still) assigned to ``assignee``."""

    @abc.abstractmethod
    def reassign_backlog(self, tx_id, assignee, timestamp, older_than):
        """Give a backlog entry assigned before ``older_than`` (a stale one) to
        ``assignee`` at ``timestamp``; its feed sees it as new.  True when
        reassigned; False when the entry is gone or no longer stale.

        Checking and writing are one atomic step: every node's stale stage
        reassigns, and when two reassign one entry at the same moment only
        the first does, instead of both new assignees putting it in a block.
        """

    # -- blocks ----------------------------------------------------------

    @abc.abstractmethod
    def write_block(self, block, taken=()):
        """Store a block, durably, with its transactions indexed.  Idempotent.

        Then the backlog entries ``taken`` (the ids of the transactions the
        block took from it) leave the backlog, as ``delete_backlog(taken,
        blocked=True)`` does, in the same write: a block stage's block and
        the end of its entries are one round trip (and one durable write)
        where the engine has a server.  The entries never go before the
        block is stored."""

    @abc.abstractmethod
    def get_block(self, block_id):
        """The full block ``block_id``, or None."""

    @abc.abstractmethod
    def get_block_header(self, block_id):
        """Block ``block_id`` without its transactions, or None:
        ``{"id", "signature", "block": {"timestamp", "node_pubkey", "voters"}}``."""

    @abc.abstractmethod
    def get_genesis_block(self):
        """The genesis block, or None before ``init`` wrote it."""

    @abc.abstractmethod
    def blocks_with_transaction(self, tx_id):
        """Ids of the blocks that hold transaction ``tx_id``."""

    @abc.abstractmethod
    def get_transaction_in_block(self, tx_id, block_id):
        """Transaction ``tx_id`` as stored in block ``block_id``, or None."""

    def transaction_copies(self, tx_id):
        """``(block id, transaction as stored there)`` for every block that
        holds transaction ``tx_id`` (``blocks_with_transaction``, then
        ``get_transaction_in_block``); an engine that can read both at once
        (by the transaction's id) does."""
        return [(block_id, self.get_transaction_in_block(tx_id, block_id))
                for block_id in self.blocks_with_transaction(tx_id)]

    def held_copies(self, tx_id):
        """``(the backlog's copy or None, transaction_copies(tx_id))``: every
        copy of transaction ``tx_id`` the store holds, what accepting a post
        asks first.  The backlog is read first: the block stage writes a block
        before it deletes its transactions from the backlog, so one that left
        meanwhile is found in the block.  An engine that can read both in one
        statement does (SQLite: one snapshot, so the order does not matter)."""
        return self.get_backlog_transaction(tx_id), self.transaction_copies(tx_id)

    @abc.abstractmethod
    def get_outputs(self, tx_id, block_id, cids):
        """``(cid, condition uri, amount, asset id)`` of each output ``cids`` of
        transaction ``tx_id`` in block ``block_id`` that exists, by cid.

        What spending those outputs needs, without reading (or handing back)
        the rest of a transaction that may hold thousands of outputs."""

    def outputs_in_blocks(self, txid, cids):
        """``(block id, get_outputs(txid, block id, cids))`` for every block
        that holds transaction ``txid`` (``blocks_with_transaction``): what
        spending outputs of ``txid`` needs to know, which an engine that can
        read it at once (by the transaction's id) does."""
        return [(block_id, self.get_outputs(txid, block_id, cids)) for block_id in self.blocks_with_transaction(txid)]

    @abc.abstractmethod
    def spenders_of(self, txid, cids):
        """``(cid, spending tx id, block id)`` for every block transaction that
        spends one of the outputs ``cids`` of ``txid``, by cid, then in the
        order the blocks were written: one query for all of them."""

    def spenders(self, txid, cid):
        """``(spending tx id, block id)`` for every block transaction that spends
        output ``cid`` of ``txid``."""
        return [(spender, block_id) for _, spender, block_id in self.spenders_of(txid, [cid])]

    # -- pages of lists ----------------------------------------------------
    # Each reads up to ``limit`` entries of an index in its order, starting
    # after ``after`` (None: at the start), and gives every entry with its
    # ``position``, which a later call passes as ``after`` to go on: keyset
    # pagination.  Positions are the engine's own (JSON-able values, opaque
    # to callers); one the engine never gave raises ``InvalidPosition``.
    # Entries written later come after every entry already there, so a list
    # read page by page while the ledger grows misses and repeats nothing;
    # an engine that does not write a block at once reads only the blocks
    # written whole when the read began (an entry read before its neighbours
    # in the block are would let a page skip them).
    # The ledger order is blocks in the order written, transactions in the
    # order of their block, then outputs by cid.

    @abc.abstractmethod
    def outputs_page(self, owner, after, limit):
        """``(position, tx, block id, cid)`` of block outputs whose owners_after
        include ``owner`` (nested owners included), in ledger order."""

    @abc.abstractmethod
    def asset_page(self, asset_id, operation, after, limit):
        """``(position, tx, block id)`` of block transactions of asset
        ``asset_id`` (only those of ``operation`` unless it is None), in ledger order."""

    @abc.abstractmethod
    def metadata_page(self, metadata_id, after, limit):
        """``(position, tx, block id)`` of block transactions with metadata ``metadata_id``, in ledger order."""

    @abc.abstractmethod
    def search_page(self, kind, words, after, limit):
        """``(entries, next)``: ``entries`` are ``(position, tx, block id)`` of
        block transactions whose ``kind`` ("asset": of CREATEs, or
        "metadata") ``data`` holds at least one of ``words`` (distinct, as
        ``common.words`` makes them; at most ``SEARCHED_WORDS``): those
        holding all of them first, in ledger order, then those holding all
        but one, and so on.  A transaction's rank depends on its own data
        only, so ranks do not move as the ledger grows.  ``next`` is the
        position to go on after, None at the end of the list.  An engine may
        end a page early (fewer than ``limit`` entries, even none) after
        reading a bounded number of index entries; ``next`` then says where
        it stopped."""

    @abc.abstractmethod
    def transactions_by_asset(self, asset_id, operation=None):
        """``(tx, block id)`` for every block transaction of asset ``asset_id``,
        optionally only those of ``operation``."""

    @abc.abstractmethod
    def blocks_after(self, position, limit):
        """Up to ``limit`` full blocks written after ``position``, in the order
        written, as ``(position, block)`` pairs; ``position`` None starts at
        the first block.  Positions are the engine's own, opaque to callers:
        how a whole ledger is read in batches (``bigchaindb.ledger_file``)."""

    @abc.abstractmethod
    def position_before_last(self, kind, count):
        """The position after which the last ``count`` rows of ``kind``
        ("blocks" or "votes") were written (``count`` 0: the last row's),
        or None when there are no more than ``count``: where a reader of the
        latest ones starts.  A read of at most ``count + 1`` index entries."""

    def position_token(self, position):
        """``position`` (of ``blocks_after`` or ``votes_after``) as text a client
        can hand back (``position_from_token``): how the streams name where an
        event stands in the ledger (bigchaindb.streams)."""
        return str(position)

    def position_from_token(self, token):
        """The position ``token`` names; ValueError saying why when it names none.
        ``"0"`` names the start, before the first block (and vote)."""
        if not (token.isascii() and token.isdigit()) or len(token) > 18:
            raise ValueError("not a position: a whole number")
        return int(token)

    def position_before(self, position):
        """The position from which ``blocks_after`` reads the block at ``position`` again."""
        return position - 1

    @abc.abstractmethod
    def blocks_not_voted_by(self, voter, counts):
        """Block headers (see ``get_block_header``) with no vote row of
        ``voter`` for which ``counts(vote)`` is true, in the order they were
        written (as ``blocks_in_write_order``), genesis excluded."""

    @abc.abstractmethod
    def blocks_in_write_order(self, block_ids):
        """Those of ``block_ids`` that are stored, in the order the store
        wrote them (ties by id): an order every node computes alike from the
        store, whatever order its feed delivered them in.  One index read."""

    write_order_settle = 0.0
    """Seconds after ``block_feed`` delivers a block within which it may
    still deliver one written before it (a write that took its place in the
    order of writing before it committed): 0 when the feed delivers blocks
    in the order written.  The vote stage waits this long before voting."""

    # -- votes -----------------------------------------------------------

    @abc.abstractmethod
    def write_vote(self, vote):
        """Store a vote, durably.  Returns False (and stores nothing) when this
        very vote (same block, voter and signature) is stored already.  Other
        votes naming the same block and voter are stored: a row any member
        could have written must not keep a voter's real vote out."""

    @abc.abstractmethod
    def votes_for(self, block_id):
        """Every vote row on ``block_id``, in the order they were written."""

    @abc.abstractmethod
    def votes_after(self, position, limit):
        """Up to ``limit`` vote rows written after ``position``, in the order
        written, as ``(position, vote)`` pairs (positions as for ``blocks_after``)."""

    @abc.abstractmethod
    def last_vote_by(self, voter, counts):
        """The latest vote row of ``voter`` (by the order votes were written)
        for which ``counts(vote)`` is true, or None."""

    # -- election bookkeeping -------------------------------------------

    @abc.abstractmethod
    def mark_requeued(self, block_id):
        """Record that an INVALID block's transactions went back to the backlog.
        Returns True the first time for a block, False after (so it happens once
        even when several nodes' election stages race)."""

    @abc.abstractmethod
    def was_requeued(self, block_id):
        """True when ``mark_requeued`` has been called for ``block_id``."""

    # -- change feeds ----------------------------------------------------

    @abc.abstractmethod
    def backlog_feed(self, assignee):
        """An endless iterator of ``(tx, assignment_timestamp)`` for backlog
        entries inserted for (or reassigned to) ``assignee`` after the call.
        Yields None when nothing arrived within about ``POLL_INTERVAL``
        seconds, so that a consumer can act on time (close a block)."""

    @abc.abstractmethod
    def block_feed(self):
        """An endless iterator of block headers written after the call;
        None when idle, as above."""

    @abc.abstractmethod
    def vote_feed(self):
        """An endless iterator of votes written after the call; None when idle."""


POLL_INTERVAL = 0.05

SEARCHED_WORDS = 8
"""The most words one search takes (the cost of ranking grows with their combinations)."""

MISSING, UNINITIALISED, INITIALISED = "missing", "uninitialised", "initialised"
"""The answers of ``Connection.state``."""
