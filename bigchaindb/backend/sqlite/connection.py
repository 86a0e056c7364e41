"""The SQLite engine: ``SQLiteConnection`` implements ``base.Connection``.

One database file in WAL mode, shared by every process of a node (and by every
node of a federation on one machine).  This module owns the handles and the
transactions; the SQL lives in ``backlog``, ``blocks``, ``votes``, ``feeds``
and ``schema``, one function per operation, each given an open handle.
"""

import logging
import os
import pathlib
import sqlite3
from contextlib import closing, contextmanager
from functools import partial

from bigchaindb.backend import base
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDamaged, DatabaseDoesNotExist, DatabaseError
from bigchaindb.backend.pool import Pool
from bigchaindb.backend.sqlite import backlog, blocks, feeds, pages, schema, votes
from bigchaindb.backend.sqlite.fields import spent_inputs

logger = logging.getLogger(__name__)

BUSY_TIMEOUT = 30
"""Seconds a statement waits for another process's write lock before failing."""

WAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes of write-ahead log kept on disk after a checkpoint."""

REPORTED_PROBLEMS = 3
"""How many of the problems ``PRAGMA quick_check`` finds ``state`` names."""


class SQLiteConnection(base.Connection):
    """The store at ``path`` (created, with its directory, on first use).

    Each process keeps a pool of ``sqlite3`` handles (``backend.pool``): a
    read or a transaction takes one and gives it back when done, so two
    threads never mix their statements in one transaction.  Under the web
    server's gevent workers one handle serves a whole worker, since SQLite's
    calls never yield to another greenlet.  Handles do not cross a fork, so
    one object may be made before forking and used on both sides, and by any
    number of threads.

    Writes run in ``BEGIN IMMEDIATE`` transactions, which take the file's write
    lock up front: a check and the write it guards (the double-spend check of
    ``write_backlog``, the "already there?" of ``write_block``) are one atomic
    step across processes, and waiting for the lock honours the busy timeout.
    With WAL and ``synchronous=NORMAL`` a committed transaction survives the
    process being killed (not a power cut): a write that returned is stored.
    """

    def __init__(self, path):
        self.path = path
        self._pool = Pool(self._open, sqlite3.Connection.close)

    def __repr__(self):
        return f"SQLiteConnection({self.path!r})"

    # -- handles and transactions -----------------------------------------

    def _open(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        # isolation_level=None: no implicit transactions; _write says BEGIN itself.
        # check_same_thread=False: a handle serves whichever thread takes it from the pool.
        handle = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                 check_same_thread=False)
        handle.execute("PRAGMA journal_mode = WAL")
        handle.execute("PRAGMA synchronous = NORMAL")
        # the WAL file is reused, not shrunk, after a checkpoint: cap what it keeps
        handle.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")
        try:
            if schema.is_outdated(handle):
                self._in_transaction(handle, self._upgrade, handle)
        except BaseException:
            handle.close()
            raise
        return handle

    def _upgrade(self, handle):
        """Upgrade the store's schema, once: whoever takes the write lock first does it."""
        if schema.is_outdated(handle):
            schema.upgrade(handle)
            logger.warning("upgraded the store %s to schema version %d", self.path, schema.SCHEMA_VERSION)

    def close(self):
        """Close this process's handles; the next call opens new ones."""
        self._pool.close()

    @contextmanager
    def _translated(self):
        """Turn sqlite3 errors into the backend's, with the file named."""
        try:
            yield
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                raise DatabaseDoesNotExist(
                    f"the store {self.path} is not initialised (run `bigchaindb init`)") from exc
            raise DatabaseError(f"the store {self.path} failed: {exc}") from exc

    def _read(self, query, *args):
        """``query(handle, *args)`` in autocommit mode (each statement sees the latest
        commit, and a statement that writes is a transaction of its own)."""
        with self._translated(), self._pool.taken() as handle:
            return query(handle, *args)

    def _write(self, operation, *args):
        """``operation(handle, *args)`` as one transaction holding the write lock."""
        with self._translated(), self._pool.taken() as handle:
            return self._in_transaction(handle, operation, handle, *args)

    @staticmethod
    def _in_transaction(handle, operation, *args):
        """``operation(*args)`` inside a transaction of ``handle`` that holds the write lock."""
        handle.execute("BEGIN IMMEDIATE")
        try:
            result = operation(*args)
            handle.execute("COMMIT")
        except BaseException:
            # some errors end the transaction themselves; the handle goes back to its pool clean
            if handle.in_transaction:
                handle.execute("ROLLBACK")
            raise
        return result

    # -- schema -------------------------------------------------------------

    def init(self):
        self._write(self._create)

    def _create(self, handle):
        if schema.is_initialised(handle):
            raise DatabaseAlreadyExists(f"the store {self.path} is already initialised")
        schema.create(handle)

    def drop(self):
        self._write(self._drop)

    def _drop(self, handle):
        if not schema.is_initialised(handle):
            raise DatabaseDoesNotExist(f"the store {self.path} is not initialised: nothing to drop")
        schema.drop(handle)

    def is_initialised(self):
        return self._read(schema.is_initialised)

    def state(self):
        """``base.Connection.state``: the file's existence, ``PRAGMA quick_check``
        and the schema version, read through a read-only handle of its own, so
        that an empty or foreign file is not turned into a database by looking.

        ``quick_check`` reads every page and checks the structure of every
        b-tree (pages, cells, free list; not that indexes match their tables,
        which ``integrity_check`` adds at several times the cost); its cost
        grows with the file's size (docs/protocol-choices.md has a measure).
        """
        if not os.path.exists(self.path):
            return base.MISSING
        uri = pathlib.Path(self.path).absolute().as_uri() + "?mode=ro"
        try:
            with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT)) as handle:
                handle.text_factory = lambda text: text.decode("utf-8", "replace")  # damage is not UTF-8
                rows = handle.execute(f"PRAGMA quick_check({REPORTED_PROBLEMS})").fetchall()
                problems = [line for row in rows for line in row[0].splitlines() if not line.startswith("***")]
                if problems != ["ok"]:
                    raise DatabaseDamaged(f"the store {self.path} fails SQLite's quick_check: {'; '.join(problems)}")
                initialised = schema.is_initialised(handle)
        except sqlite3.DatabaseError as exc:
            raise DatabaseDamaged(f"the store {self.path} cannot be read as an SQLite database: {exc}") from exc
        except UnicodeDecodeError as exc:  # sqlite3 reporting a schema whose bytes were damaged
            raise DatabaseDamaged(f"the store {self.path} has a damaged schema: {exc}") from exc
        return base.INITIALISED if initialised else base.UNINITIALISED

    def stored_hash(self):
        return self._read(schema.stored_hash)

    # -- backlog ------------------------------------------------------------

    def write_backlog(self, tx, assignee, timestamp, stale=(), check=None):
        # ``stale`` has nothing to free here: an output is held only by a backlog entry
        if not spent_inputs(tx):  # nothing to check first: one statement, without BEGIN and COMMIT
            return self._read(backlog.insert, tx, assignee, timestamp, check)
        return self._write(backlog.write, tx, assignee, timestamp, check)

    def get_backlog_transaction(self, tx_id):
        return self._read(backlog.get, tx_id)

    def get_backlog_check(self, tx_id):
        return self._read(backlog.check, tx_id)

    def backlog_spenders_of(self, txid, cids):
        return self._read(backlog.spenders_of, txid, cids)

    def delete_backlog(self, tx_ids, blocked=False):
        self._write(backlog.delete, list(tx_ids))

    def backlog_assigned_to(self, assignee):
        return self._read(backlog.assigned_to, assignee)

    def stale_backlog(self, older_than):
        return self._read(backlog.stale, older_than)

    def backlog_held_by(self, assignee, tx_ids):
        return self._read(backlog.held_by, assignee, list(tx_ids))

    def backlog_size(self):
        return self._read(backlog.size)

    def reassign_backlog(self, tx_id, assignee, timestamp, older_than):
        return self._write(backlog.reassign, tx_id, assignee, timestamp, older_than)

    # -- blocks -------------------------------------------------------------

    def write_block(self, block, taken=()):
        self._write(self._write_block, block, list(taken))

    @staticmethod
    def _write_block(handle, block, taken):
        blocks.write(handle, block)
        backlog.delete(handle, taken)

    def get_block(self, block_id):
        return self._read(blocks.get, block_id)

    def get_block_header(self, block_id):
        return self._read(blocks.header, block_id)

    def get_genesis_block(self):
        return self._read(blocks.genesis)

    def blocks_with_transaction(self, tx_id):
        return self._read(blocks.with_transaction, tx_id)

    def get_transaction_in_block(self, tx_id, block_id):
        return self._read(blocks.transaction_in, tx_id, block_id)

    def transaction_copies(self, tx_id):
        return self._read(blocks.transaction_copies, tx_id)

    def held_copies(self, tx_id):
        return self._read(blocks.held_copies, tx_id)

    def get_outputs(self, tx_id, block_id, cids):
        return self._read(blocks.outputs, tx_id, block_id, cids)

    def spenders_of(self, txid, cids):
        return self._read(blocks.spenders_of, txid, cids)

    def transactions_by_asset(self, asset_id, operation=None):
        # every one: a page with no limit (SQLite's LIMIT -1)
        return [(tx, block_id) for _, tx, block_id in self._read(pages.by_asset, asset_id, operation, None, -1)]

    def outputs_page(self, owner, after, limit):
        return self._read(pages.outputs, owner, after, limit)

    def asset_page(self, asset_id, operation, after, limit):
        return self._read(pages.by_asset, asset_id, operation, after, limit)

    def metadata_page(self, metadata_id, after, limit):
        return self._read(pages.by_metadata, metadata_id, after, limit)

    def search_page(self, kind, words, after, limit):
        return self._read(pages.search, kind, words, after, limit)

    def blocks_after(self, position, limit):
        return self._read(blocks.after, position, limit)

    def position_before_last(self, kind, count):
        return self._read(feeds.before_last, {"blocks": "blocks", "votes": "votes"}[kind], count)

    def blocks_not_voted_by(self, voter, counts):
        return self._read(blocks.not_voted_by, voter, counts)

    def blocks_in_write_order(self, block_ids):
        return self._read(blocks.in_write_order, list(block_ids))

    # -- votes and election bookkeeping -------------------------------------

    def write_vote(self, vote):
        return self._write(votes.write, vote)

    def votes_for(self, block_id):
        return self._read(votes.votes_for, block_id)

    def votes_after(self, position, limit):
        return self._read(votes.votes_after, position or 0, limit)

    def last_vote_by(self, voter, counts):
        return self._read(votes.last_by, voter, counts)

    def mark_requeued(self, block_id):
        return self._write(votes.mark_requeued, block_id)

    def was_requeued(self, block_id):
        return self._read(votes.was_requeued, block_id)

    # -- change feeds -------------------------------------------------------
    # The starting seq is read here, at call time, not when the generator
    # first runs: "after the call" is the contract.

    def backlog_feed(self, assignee):
        return self._follow("backlog", backlog.entries_after, assignee)

    def block_feed(self):
        return self._follow("blocks", blocks.headers_after)

    def vote_feed(self):
        return self._follow("votes", votes.votes_after)

    def _follow(self, table, query, *args):
        """Follow ``table`` with ``query(handle, *args, after_seq, limit)``."""
        return feeds.follow(partial(self._read, query, *args), self._read(feeds.newest, table))
