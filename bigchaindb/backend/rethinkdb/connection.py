"""The cluster engine: the storage interface (``base.Connection``) on RethinkDB.

Consistency choices, per the node's promise that a 202 means stored:

- every write is ``durability="hard"`` (on disk before it is acknowledged;
  tables keep RethinkDB's default ``write_acks`` of a majority);
- reads whose staleness could mislead a client or let a double spend through
  (blocks, votes, transaction lookups, the backlog's double-spend check) use
  ``read_mode="majority"``; pipeline-internal scans of the backlog read the
  primary (``single``), which is what their change feeds see anyway
  (changefeeds ignore ``read_mode``);
- a query that meets a dropped connection or a replica failing over is run
  again (``run``), so every write is idempotent: inserts refuse a taken id,
  and those whose answer matters (a vote, a requeue) recognise their own
  earlier attempt (``_claim``); updates and deletes set what they set.

RethinkDB has no multi-document transactions, so ``write_backlog`` checks for
a conflicting spender and then writes: two nodes accepting conflicting
transactions at the same moment can both succeed.  The block and vote
pipelines re-validate every transaction and catch what slips through.

One ``RethinkDBConnection`` serves a whole process and its threads (or the
web server's greenlets): each query takes a driver connection from the
process's pool (``backend.pool``) and gives it back when done, since a driver
connection must not run two queries at once.  Each change feed has a
connection of its own (see ``changefeed``).
"""

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

from rethinkdb import r
from rethinkdb.errors import ReqlDriverError, ReqlError
from rethinkdb.net import Cursor

from bigchaindb.backend.base import INITIALISED, MISSING, UNINITIALISED, Connection
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist, DatabaseError
from bigchaindb.backend.pool import Pool
from bigchaindb.backend.rethinkdb import changefeed, driver
from bigchaindb.backend.rethinkdb.schema import (
    BACKLOG, BIGCHAIN, BLOCK_HEADER, CLAIM, INDEXES, REQUEUED, SETTINGS, TABLES, VOTE_EXTRAS, VOTES, WRITTEN_AT,
    asset_keys, binary_as_floats, check_storable, flattened, floats_as_binary, input_keys, metadata_id_of, spent_by,
    stamped, stored, transactions, vote_key, written_now)
from bigchaindb.common.crypto import DEFAULT_HASH, hash_in_use

logger = logging.getLogger(__name__)

HARD = {"durability": "hard"}
VOTE_BATCH = 100
"""Votes read at a time while looking for the latest one that counts."""


class RethinkDBConnection(Connection):
    """The storage interface on the RethinkDB cluster at ``host:port``, database ``dbname``.

    Connects at once, retrying with back-off for up to ``connection_timeout``
    seconds, and raises ``DatabaseError`` naming ``host:port`` if the server
    does not answer by then.  Later connections (for queries at the same
    time, or replacing a dropped connection) are opened by the queries that need
    them, within their retry (see ``run``): a node whose server is down
    answers at once that its database is unavailable, and works again as
    soon as the server is back.
    """

    def __init__(self, host="localhost", port=28015, dbname="bigchain", connection_timeout=30):
        self.host = host
        self.port = int(port)
        self.dbname = dbname
        self.connection_timeout = connection_timeout
        self.address = f"{host}:{port}"
        self._patience = connection_timeout  # for the first connection only
        self._pool = Pool(self._connect, self._close_driver, usable=lambda connection: connection.is_open())
        with self._pool.taken():
            pass  # connected at once: a server that does not answer is named at start

    # -- running queries ---------------------------------------------------

    def table(self, name):
        """The ReQL term of table ``name`` in this connection's database."""
        return r.db(self.dbname).table(name)

    def run(self, query, majority=False, retry=True):
        """Run ``query`` and return its result, a cursor read out into a list.

        ``majority`` reads only what a majority of replicas has on disk.
        Unless ``retry`` is False, a transient failure does not reach the
        caller at once (see ``driver.Retries``): a dropped connection is
        reopened and the query run again; a table briefly unavailable (a
        primary replica failing over) is tried again with back-off for up to
        ``driver.RETRY_WINDOW`` seconds.  Every write of this engine is safe
        to run again: inserts refuse a taken id, updates and deletes set
        what they set.  Errors are raised as ``DatabaseError``
        (``DatabaseDoesNotExist`` for a missing database or table).
        """
        options = {"read_mode": "majority"} if majority else {}
        retries = driver.Retries(self.address)
        new_connection = False
        while True:
            try:
                return self._run_once(query, options, new_connection)
            except ReqlError as exc:
                if not (retry and retries.again(exc)):
                    raise driver.translate(exc, self.address) from None
                # the connections waiting in the pool may have dropped with this one
                new_connection = isinstance(exc, ReqlDriverError)

    def _run_once(self, query, options, new_connection=False):
        """``query`` on a pooled driver connection; one that failed in transit is closed, not given back."""
        with self._pool.taken(new=new_connection) as connection:
            try:
                result = query.run(connection, **options)
                return list(result) if isinstance(result, Cursor) else result
            except ReqlError as exc:
                if isinstance(exc, ReqlDriverError):
                    self._pool.discard(connection)
                raise
            except BaseException:
                # interrupted (a greenlet killed, a timeout): an answer may still be on its way
                self._pool.discard(connection)
                raise

    def _connect(self):
        """A new driver connection: the first with back-off for ``connection_timeout``
        seconds, later ones in one attempt (whose failure a query's retry handles)."""
        if self._patience:
            connection = driver.connect(self.host, self.port, self._patience)
            self._patience = None
            return connection
        return driver.connect_once(self.host, self.port)

    @staticmethod
    def _close_driver(connection):
        try:
            connection.close(noreply_wait=False)
        except (ReqlError, OSError):
            pass  # already broken: nothing left to release

    def close(self):
        """Close every driver connection this process opened (not a parent's, after a fork)."""
        self._pool.close()

    def _insert(self, table, document, retry=True):
        """Insert ``document`` (a ReQL value) unless its id is taken: True when
        written, False when taken."""
        result = self.run(self.table(table).insert(document, conflict="error", **HARD), retry=retry)
        if result["inserted"]:
            return True
        error = result.get("first_error", "")
        if error.startswith("Duplicate primary key"):
            return False
        raise DatabaseError(f"RethinkDB at {self.address} refused a write to {table}: {error}")

    def _claim(self, table, key, document):
        """Insert ``document(claim)`` (a row with id ``key``): True when this
        call wrote it, False when the id was taken.

        ``claim`` (``{CLAIM: random token}``) tells the two cases apart when
        the first answer was lost with the connection and ``run`` sent the
        insert again: the taken id is then this call's own."""
        claim = {CLAIM: uuid.uuid4().hex}
        if self._insert(table, document(claim)):
            return True
        return self.run(self.table(table).get(key)[CLAIM].default(None), majority=True) == claim[CLAIM]

    # -- schema ------------------------------------------------------------

    def init(self):
        if self.is_initialised():
            raise DatabaseAlreadyExists(f"the database {self.dbname!r} at {self.address} is already initialised")
        # Whatever an interrupted init left behind is completed, not refused.
        if not self.run(r.db_list().contains(self.dbname)):
            self.run(r.db_create(self.dbname), retry=False)
        present = set(self.run(r.db(self.dbname).table_list()))
        self._create_tables([name for name in TABLES if name not in present])
        for name, indexes in INDEXES.items():
            existing = set(self.run(self.table(name).index_list()))
            for index, (function, multi) in indexes.items():
                if index not in existing:
                    self.run(self.table(name).index_create(index, function, multi=multi), retry=False)
            self.run(self.table(name).index_wait())
        self.run(self.table(SETTINGS).insert({"id": "hash", "value": hash_in_use()}, conflict="replace", **HARD))

    def _create_tables(self, names):
        """Create the tables ``names`` all at once, each on a driver connection
        of its own: the server spends about 0.3 s on each new table's cluster
        metadata, and works on several tables concurrently."""
        def create(name):
            connection = driver.connect(self.host, self.port, self.connection_timeout)
            try:
                r.db(self.dbname).table_create(name, primary_key="id", **HARD).run(connection)
            except ReqlError as exc:
                raise driver.translate(exc, self.address) from None
            finally:
                connection.close(noreply_wait=False)
        if names:
            with ThreadPoolExecutor(len(names)) as pool:
                list(pool.map(create, names))

    def drop(self):
        if not self.run(r.db_list().contains(self.dbname)):
            raise DatabaseDoesNotExist(f"the database {self.dbname!r} at {self.address} does not exist")
        self.run(r.db_drop(self.dbname), retry=False)

    def is_initialised(self):
        return self.state() == INITIALISED

    def state(self):
        """``base.Connection.state``: the database, its tables and their
        indexes (what ``init`` makes, in that order).  The server keeps its
        own data sound; there is no structure check to run here."""
        present = self.run(r.branch(r.db_list().contains(self.dbname), r.db(self.dbname).table_list(), None))
        if present is None:
            return MISSING
        # a store made before the settings table existed is complete without it
        complete = set(TABLES) - {SETTINGS} <= set(present) and all(
            set(indexes) <= set(self.run(self.table(name).index_list())) for name, indexes in INDEXES.items())
        if not complete:
            return UNINITIALISED
        # A server that has just (re)started refuses reads of its tables until
        # they are ready, for a second or two: a node about to start waits.
        self.run(r.db(self.dbname).wait(wait_for="ready_for_writes", timeout=self.connection_timeout), retry=False)
        return INITIALISED

    def stored_hash(self):
        if not self.is_initialised():  # which waits for the tables to be ready
            return None
        if SETTINGS not in self.run(r.db(self.dbname).table_list()):
            return DEFAULT_HASH  # a store made before the setting was recorded
        record = self.run(self.table(SETTINGS).get("hash"), majority=True)
        return DEFAULT_HASH if record is None else record["value"]

    # -- backlog -------------------------------------------------------------

    def write_backlog(self, tx, assignee, timestamp):
        # Check, then write: see the module docstring.
        check_storable(tx)
        backlog = self.table(BACKLOG)
        keys = input_keys(tx)
        spenders = backlog.get_all(*keys, index="spent_inputs")["id"].coerce_to("array") if keys else []
        found = self.run(r.expr({"present": backlog.get(tx["id"]).ne(None), "spenders": spenders}), majority=True)
        if found["present"]:
            return None
        others = sorted(set(found["spenders"]) - {tx["id"]})
        if others:
            return others[0]
        self._insert(BACKLOG, stored(
            {"id": tx["id"], "tx": floats_as_binary(tx), "assignee": assignee, "assignment_timestamp": timestamp}))
        return None

    def get_backlog_transaction(self, tx_id):
        entry = self.run(self.table(BACKLOG).get(tx_id), majority=True)
        return None if entry is None else binary_as_floats(entry["tx"])

    def backlog_spenders_of(self, txid, cids):
        if not cids:
            return []
        backlog = self.table(BACKLOG)
        found = self.run(_each_once(backlog, backlog.get_all(*_links(txid, cids), index="spent_inputs"))
                         .concat_map(lambda row: _spent_from(row["tx"], txid).map(lambda cid: [cid, row["id"]])),
                         majority=True)
        return _of_cids(found, cids)

    def delete_backlog(self, tx_ids):
        tx_ids = list(tx_ids)
        if tx_ids:
            self.run(self.table(BACKLOG).get_all(*tx_ids).delete(**HARD))

    def _assigned(self, assignee):
        return self.table(BACKLOG).between(
            [assignee, r.minval], [assignee, r.maxval], index="assignee_and_time")

    def backlog_assigned_to(self, assignee):
        entries = self.run(self._assigned(assignee).order_by(index="assignee_and_time"))
        return [(binary_as_floats(entry["tx"]), entry["assignment_timestamp"]) for entry in entries]

    def stale_backlog(self, older_than):
        entries = self.run(self.table(BACKLOG).between(r.minval, older_than, index="assignment_timestamp")
                           .pluck("id", "assignee"))
        return [(entry["id"], entry.get("assignee")) for entry in entries]

    def backlog_held_by(self, assignee, tx_ids):
        tx_ids = list(tx_ids)
        if not tx_ids:
            return []
        # primary-key reads of the given entries only
        return self.run(self.table(BACKLOG).get_all(*tx_ids).filter({"assignee": assignee})["id"], majority=True)

    def reassign_backlog(self, tx_id, assignee, timestamp, older_than):
        # One document's update is atomic: the condition and the write are one step.
        result = self.run(self.table(BACKLOG).get(tx_id).update(lambda entry: r.branch(
            entry["assignment_timestamp"].default(None).lt(older_than),
            {"assignee": assignee, "assignment_timestamp": timestamp}, {}), **HARD))
        return result["replaced"] == 1

    # -- blocks --------------------------------------------------------------

    def write_block(self, block):
        body = block["block"]
        kept = dict(block, block=dict(body, transactions=[floats_as_binary(tx) for tx in body["transactions"]]))
        self._insert(BIGCHAIN, stamped(self.table(BIGCHAIN), kept))

    @staticmethod
    def _block_as_written(block):
        """``block`` as read, with the floats of its transactions back (see ``write_block``)."""
        body = block.get("block") if isinstance(block, dict) else None
        if isinstance(body, dict) and isinstance(body.get("transactions"), list):
            for tx in body["transactions"]:
                binary_as_floats(tx)
        return block

    def _first(self, query):
        """The first result of a sequence ``query`` (read by majority), or None."""
        found = self.run(query.limit(1), majority=True)
        return found[0] if found else None

    def get_block(self, block_id):
        # get_all, not get: `without` on a missing block is an empty sequence, not an error
        return self._block_as_written(self._first(self.table(BIGCHAIN).get_all(block_id).without(WRITTEN_AT)))

    def get_block_header(self, block_id):
        return self._first(self.table(BIGCHAIN).get_all(block_id).pluck(*BLOCK_HEADER))

    def get_genesis_block(self):
        return self._block_as_written(self._first(self.table(BIGCHAIN).get_all(True, index="genesis")
                                                  .order_by(WRITTEN_AT).without(WRITTEN_AT)))

    def blocks_with_transaction(self, tx_id):
        blocks = self.run(self.table(BIGCHAIN).get_all(tx_id, index="transaction_id").pluck("id", WRITTEN_AT),
                          majority=True)
        return [block["id"] for block in sorted(blocks, key=lambda block: block[WRITTEN_AT])]

    def get_transaction_in_block(self, tx_id, block_id):
        tx = self._first(self.table(BIGCHAIN).get_all(block_id).concat_map(
            lambda block: transactions(block).filter(lambda tx: tx["id"].eq(tx_id))))
        return None if tx is None else binary_as_floats(tx)

    def get_outputs(self, tx_id, block_id, cids):
        # Picked on the server: only the outputs asked for travel.  Each by nth,
        # below a count taken once (a count per cid costs outputs x cids).
        found = self.run(self.table(BIGCHAIN).get_all(block_id).concat_map(
            lambda block: transactions(block).filter(lambda tx: tx["id"].eq(tx_id)).limit(1)).concat_map(
            lambda tx: tx["transaction"]["conditions"].count().do(
                lambda count: r.expr(list(cids)).filter(lambda cid: cid.lt(count)).map(
                    lambda cid: tx["transaction"]["conditions"].nth(cid)).map(
                    lambda output: [output["cid"], output["condition"]["uri"], output["amount"],
                                    tx["transaction"]["asset"]["id"]]))), majority=True)
        return sorted({tuple(output) for output in found})

    def _in_blocks(self, key, index, select, blocks=None):
        """What ``select(tx, block)`` picks from every transaction of the blocks
        under ``key`` in ``index`` (or of the selection ``blocks``) (a ReQL
        array of hits, empty for none), as tuples in the order written: blocks
        by ``written_at``, transactions in block order.  The picking runs on
        the server; only hits travel."""
        blocks = self.table(BIGCHAIN).get_all(key, index=index) if blocks is None else blocks
        found = self.run(blocks.concat_map(
            lambda block: transactions(block).concat_map(lambda tx: select(tx, block)).map(
                lambda hit: [block[WRITTEN_AT], hit])), majority=True)
        # stable: the hits of one block stay in block order
        return [tuple(hit) for _, hit in sorted(found, key=lambda written_and_hit: written_and_hit[0])]

    def spenders_of(self, txid, cids):
        if not cids:
            return []
        table = self.table(BIGCHAIN)
        blocks = _each_once(table, table.get_all(*_links(txid, cids), index="spent_inputs"))
        found = self._in_blocks(None, None, lambda tx, block: _spent_from(tx, txid).map(
            lambda cid: [cid, tx["id"], block["id"]]), blocks)
        return _of_cids(found, cids)

    def outputs_of(self, owner):
        return self._in_blocks(owner, "outputs", lambda tx, block: tx["transaction"]["conditions"].filter(
            lambda condition: flattened(condition["owners_after"]).contains(owner)).map(
            lambda condition: [tx["id"], condition["cid"], block["id"]]))

    def transactions_by_asset(self, asset_id, operation=None):
        key = [asset_id] if operation is None else [asset_id, operation]
        return [(binary_as_floats(tx), block_id) for tx, block_id in self._in_blocks(
            key, "asset", lambda tx, block: r.branch(r.expr(asset_keys(tx)).contains(key), [[tx, block["id"]]], []))]

    def transactions_by_metadata(self, metadata_id):
        return [(binary_as_floats(tx), block_id) for tx, block_id in self._in_blocks(
            metadata_id, "metadata", lambda tx, block: r.branch(
                metadata_id_of(tx).eq(metadata_id), [[tx, block["id"]]], []))]

    def blocks_after(self, position, limit):
        # ``written_at`` is strictly increasing for one writer, but two nodes
        # writing at the same moment may share one: a position is the
        # ``written_at`` with the ids already handed out at it, and the
        # range is closed so that such neighbours are not skipped.
        at, seen = position or (r.minval, ())
        rows = self.run(self.table(BIGCHAIN).between(at, r.maxval, index=WRITTEN_AT).order_by(index=WRITTEN_AT)
                        .limit(limit + len(seen)), majority=True)
        found = []
        for row in rows:
            if row["id"] in seen:
                continue
            written_at = row.pop(WRITTEN_AT)
            seen = (*seen, row["id"]) if written_at == at else (row["id"],)
            at = written_at
            found.append(((at, seen), self._block_as_written(row)))
        return found[:limit]

    def blocks_not_voted_by(self, voter, counts):
        # A walk over every block in timestamp order with one index read of the
        # votes per block: run when a vote pipeline starts, not per request.
        genesis = self.get_genesis_block()
        genesis_id = None if genesis is None else genesis["id"]
        votes = self.table(VOTES)
        found = self.run(self.table(BIGCHAIN).order_by(index="block_timestamp").filter(
            lambda block: block["id"].ne(genesis_id)).map(lambda block: {
                "header": block.pluck(*BLOCK_HEADER),
                "votes": votes.get_all([block["id"], voter], index="block_and_voter").without(
                    *VOTE_EXTRAS).coerce_to("array")}), majority=True)
        return [row["header"] for row in found if not any(counts(vote) for vote in row["votes"])]

    # -- votes ---------------------------------------------------------------

    def write_vote(self, vote):
        key = vote_key(vote)
        return self._claim(VOTES, key, lambda claim: stamped(self.table(VOTES), vote, id=key, **claim))

    def votes_for(self, block_id):
        return self.run(self.table(VOTES).between(
            [block_id, r.minval], [block_id, r.maxval], index="block_and_voter").order_by(
            lambda vote: vote[WRITTEN_AT].default(None)).without(*VOTE_EXTRAS), majority=True)

    def last_vote_by(self, voter, counts):
        # newest first, a batch at a time, until one counts (skip, not a bound
        # on written_at: rows anyone wrote may share one)
        newest_first = self.table(VOTES).between(
            [voter, r.minval], [voter, r.maxval], index="voter_and_time").order_by(index=r.desc("voter_and_time"))
        read = 0
        while True:
            batch = self.run(newest_first.skip(read).limit(VOTE_BATCH).without(*VOTE_EXTRAS), majority=True)
            for vote in batch:
                if counts(vote):
                    return vote
            if len(batch) < VOTE_BATCH:
                return None
            read += len(batch)

    # -- election bookkeeping --------------------------------------------------

    def mark_requeued(self, block_id):
        return self._claim(REQUEUED, block_id, lambda claim: {"id": block_id, **claim})

    def was_requeued(self, block_id):
        return self.run(self.table(REQUEUED).get(block_id).ne(None), majority=True)

    # -- change feeds --------------------------------------------------------

    def backlog_feed(self, assignee):
        entries = self._assigned(assignee)
        return self._feed(lambda resuming, since: entries.changes(include_initial=resuming, squash=False),
                          changefeed.backlog_event(assignee), start=None)

    def block_feed(self):
        return self._feed(lambda resuming, since: self._written_since(BIGCHAIN, since).pluck(
            *BLOCK_HEADER, WRITTEN_AT).changes(include_initial=resuming, squash=False),
            changefeed.block_event, start=self.run(written_now()))

    def vote_feed(self):
        return self._feed(lambda resuming, since: self._written_since(VOTES, since).changes(
            include_initial=resuming, squash=False), changefeed.vote_event, start=self.run(written_now()))

    def _written_since(self, table, since):
        """Documents of ``table`` written at ``since`` or later (all of them for None)."""
        return self.table(table).between(r.minval if since is None else since, r.maxval, index=WRITTEN_AT)

    def _feed(self, changes, event_of, start):
        """A resumable feed (see ``changefeed.follow``) of the query ``changes(resuming, since)``."""
        return changefeed.follow(lambda resuming, since: self._open_stream(changes(resuming, since)),
                                 event_of, changefeed.FeedState(start), self.address,
                                 patience=self.connection_timeout)

    def _open_stream(self, query):
        """Run a changefeed ``query`` on a driver connection of its own."""
        connection = driver.connect_once(self.host, self.port)
        try:
            return changefeed.ChangeStream(connection, query.run(connection))
        except BaseException:
            connection.close(noreply_wait=False)
            raise


# -- spent outputs, many at once ------------------------------------------------

def _links(txid, cids):
    """The ``spent_inputs`` index keys of outputs ``cids`` of ``txid``."""
    return [[txid, cid] for cid in cids]


def _each_once(table, documents):
    """The documents of ``table`` that the selection ``documents`` finds, each once
    (a multi index finds a document once per key it matches)."""
    return documents["id"].distinct().map(lambda document_id: table.get(document_id))


def _spent_from(tx, txid):
    """The cids of the outputs of ``txid`` that the transaction ``tx`` spends (ReQL)."""
    return spent_by(tx).filter(lambda link: link[0].eq(txid)).map(lambda link: link[1])


def _of_cids(found, cids):
    """The rows ``(cid, ...)`` of ``found`` whose cid is one of ``cids``, once each, by cid
    (stable: rows of one cid keep their order)."""
    wanted, seen, rows = set(cids), set(), []
    for row in map(tuple, found):
        if row[0] in wanted and row not in seen:
            seen.add(row)
            rows.append(row)
    return sorted(rows, key=lambda row: row[0])
