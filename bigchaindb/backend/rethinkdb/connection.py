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

RethinkDB has no multi-document transactions, but every single-document
write is atomic.  ``write_backlog`` builds exact double-spend protection on
that: the ``claims`` table is keyed by the spent output, and an insert that
keeps whatever claim is already there decides which one transaction may
spend it (see ``schema``).  A claim lives as long as its spender may still
become valid: it is released when the transaction is refused or dropped from
the backlog, kept while it sits in a block (so that nobody spends the output
again while the block is undecided), and taken over by a later spender when
its holder turns out to be nowhere after ``CLAIM_GRACE`` seconds (what a
crash between the claim and the backlog write leaves).

Round trips are what a request pays for here (each waits for a majority
read or a hard-durability write), so there are few: ``read_many`` answers
every lookup a validation needs in one query, and the reads and the
backlog writes of concurrent requests go to the server together
(``groupcommit``): the server's cost of a majority read or a durable write
is per query and table, not per document.

One ``RethinkDBConnection`` serves a whole process and its threads (or the
web server's greenlets): each query takes a driver connection from the
process's pool (``backend.pool``) and gives it back when done, since a driver
connection must not run two queries at once.  Each change feed has a
connection of its own (see ``changefeed``).
"""

import copy
import functools
import logging
import math
import uuid
from concurrent.futures import ThreadPoolExecutor

from rethinkdb import r
from rethinkdb.errors import ReqlDriverError, ReqlError
from rethinkdb.net import Cursor

from bigchaindb.backend.base import INITIALISED, MISSING, UNINITIALISED, Connection
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist, DatabaseError
from bigchaindb.backend.pool import Pool
from bigchaindb.backend.rethinkdb import changefeed, driver
from bigchaindb.backend.rethinkdb.groupcommit import GroupCommit
from bigchaindb.backend.rethinkdb.schema import (
    BACKLOG, BIGCHAIN, BLOCK_HEADER, CLAIM, CLAIMS, INDEXES, REQUEUED, SETTINGS, TABLES, TRANSACTIONS, VOTE_EXTRAS,
    FORMER_INDEXES, LATER_INDEXES, LATER_TABLES, LEDGER_ORDER, VOTES, WORDS, WRITTEN_AT, binary_as_floats, check_band, check_position, check_storable,
    floats_as_binary, input_keys, ledger_key, next_written_at, owned_cids, row_key, row_keys, spent_by, stamped,
    stored, transaction_words, vote_key, without, word_rows, write_order, written_blocks_end, written_now)
from bigchaindb.common.crypto import DEFAULT_HASH, hash_in_use

logger = logging.getLogger(__name__)

HARD = {"durability": "hard"}
DUPLICATE = "Duplicate primary key"
"""How the server's refusal of an insert whose id is taken begins."""
VOTE_BATCH = 100
SEARCH_READ = 1000
"""Entries of each word's range a search reads at a time (see ``search_page``)."""
WORDS_BATCH = 1000
"""Stored transactions whose words ``upgrade`` writes at a time."""
"""Entries of each word's range a search reads at a time (see ``search_page``)."""
"""Votes read at a time while looking for the latest one that counts."""

LATEST_WRITE = 1e12
"""A ``written_at`` later than any real one (epoch seconds, some 30,000 years ahead)."""

CLAIM_GRACE = 30.0
"""Seconds a claim whose spender is nowhere (not in the backlog, nor in a VALID
or UNDECIDED block) still stands: its writer may be between the claim and the
backlog entry.  After that it is what a crash left behind, and a new spender
takes it over."""


def batched(build_many):
    """A read method made of ``build_many(self, args_list) -> (term, split)``:
    one ReQL ``term`` (a single index read, so one majority sync however many
    keys) answers the read for every argument tuple of ``args_list``, and
    ``split(result)`` hands back the answers in that order.  The method
    answers one read; ``read_many`` answers many of each kind in one query.
    Either way the read joins those that other threads of the process are
    asking at the same moment (``_read_batch``)."""
    @functools.wraps(build_many)
    def read(self, *args):
        return self._reader.submit([(build_many.__name__, args)])[0]
    read.many = build_many
    return read


def frozen(key):
    """An index key, or a read's arguments, as a hashable value (arrays come back from the server as lists)."""
    if isinstance(key, (set, frozenset)):
        return frozenset(frozen(part) for part in key)
    return tuple(frozen(part) for part in key) if isinstance(key, (list, tuple)) else key


def first(found):
    """The first of a list, or None."""
    return found[0] if found else None


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

    READS_IN_BATCHES = True

    write_order_settle = 0.2
    """Each node's server picks a block's ``written_at`` before the write
    commits, so concurrent writes may commit, and reach the feeds, out of
    that order; on this machine's cluster by far less than this."""

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
        self._backlog_writer = GroupCommit(self._write_backlog_batch)
        self._reader = GroupCommit(self._read_batch)

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
        if error.startswith(DUPLICATE):
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
        self._complete_schema()
        self.run(self.table(SETTINGS).insert({"id": "hash", "value": hash_in_use()}, conflict="replace", **HARD))

    def upgrade(self):
        """See ``base.Connection``: the tables and indexes of ``LATER_TABLES`` and
        ``LATER_INDEXES`` a store made before them lacks, the words of every
        stored transaction in a ``words`` table made now, and without the
        ``FORMER_INDEXES`` it has."""
        created = self._complete_schema()
        if WORDS in created[0]:
            self._index_stored_words()
        dropped = [(name, index) for name, former in FORMER_INDEXES.items()
                   for index in former & set(self.run(self.table(name).index_list()))]
        for name, index in dropped:
            self.run(self.table(name).index_drop(index), retry=False)
        return any(created) or bool(dropped)

    def _complete_schema(self):
        """Create the tables and indexes missing from the database; the names of both."""
        present = set(self.run(r.db(self.dbname).table_list()))
        tables = [name for name in TABLES if name not in present]
        self._create_tables(tables)
        indexes = []
        for name, wanted in INDEXES.items():
            existing = set(self.run(self.table(name).index_list()))
            for index, (function, multi) in wanted.items():
                if index not in existing:
                    self.run(self.table(name).index_create(index, function, multi=multi), retry=False)
                    indexes.append(index)
            self.run(self.table(name).index_wait())
        return tables, indexes

    def _index_stored_words(self):
        """Write the ``words`` rows of every stored ``transactions`` row, a batch at a time."""
        after = r.minval
        while rows := self.run(self.table(TRANSACTIONS).between(after, r.maxval, left_bound="open")
                               .order_by(index="id").limit(WORDS_BATCH)
                               .pluck("id", "tx", "block_id", "position", WRITTEN_AT), majority=True):
            words = [dict(word, **{WRITTEN_AT: row[WRITTEN_AT]}) for row in rows
                     for word in transaction_words(row["id"], row["block_id"], row["position"], row["tx"])]
            if words:
                self._check_writes(self.run(self.table(WORDS).insert(
                    words, conflict=lambda _key, old, _new: old, **HARD)))
            after = rows[-1]["id"]

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
        own data sound; there is no structure check to run here.  Tables a
        server is still loading (just after it restarted) are waited for, up
        to ``connection_timeout`` seconds."""
        present = self.run(r.branch(r.db_list().contains(self.dbname), r.db(self.dbname).table_list(), None))
        if present is None:
            return MISSING
        # a store made before the later tables and indexes is complete without them (see ``upgrade``)
        complete = set(TABLES) - set(LATER_TABLES) <= set(present) and all(
            set(indexes) - LATER_INDEXES.get(name, set()) <= set(self.run(self.table(name).index_list()))
            for name, indexes in INDEXES.items() if name not in LATER_TABLES)
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

    # -- reading several things at once -----------------------------------

    def read_many(self, reads):
        """One query, read by majority, for every read of ``reads`` that is
        ``batched`` (one index read per kind of read), together with those
        other threads of this process ask at the same moment; any other read
        (or one this connection's owner replaced) runs on its own, before."""
        answers = [None] * len(reads)
        grouped = []
        for place, (name, args) in enumerate(reads):
            if name in vars(self) or getattr(getattr(type(self), name), "many", None) is None:
                answers[place] = getattr(self, name)(*args)
            else:
                grouped.append(place)
        if grouped:
            for place, answer in zip(grouped, self._reader.submit([reads[place] for place in grouped])):
                answers[place] = answer
        return answers

    def _read_batch(self, calls):
        """The answers to ``calls`` (lists of ``(name, args)`` reads, each the
        reads of one ``read_many``), from one query for them all.

        A majority read pays for a sync with the replicas per table
        operation, whatever number of keys the operation reads: under
        concurrent requests (the web workers' greenlets) this is what a
        round trip costs the server, and grouping them (as ``groupcommit``
        does for writes) shares one index read of each kind among all of
        them.  A read several callers ask is read once; each caller gets an
        answer of its own (a copy), as callers may change what they get."""
        kinds = {}  # name -> {frozen args: args}, in the order of first appearance
        for reads in calls:
            for name, args in reads:
                kinds.setdefault(name, {}).setdefault(frozen(args), args)
        built = [getattr(type(self), name).many(self, list(args.values())) for name, args in kinds.items()]
        results = self.run(r.expr([term for term, _ in built]), majority=True)
        found = {}
        for (name, args), (_, split), result in zip(kinds.items(), built, results):
            found.update(zip(((name, key) for key in args), split(result)))
        handed = set()
        answers = []
        for reads in calls:
            answers.append([])
            for name, args in reads:
                key = (name, frozen(args))
                answers[-1].append(copy.deepcopy(found[key]) if key in handed else found[key])
                handed.add(key)
        return answers

    def _by_key(self, table, keys, index, keys_of, hits_of, order=lambda doc: 0):
        """``(term, split)`` of a batched read of ``table`` under ``keys`` in
        ``index``: per document, ``keys_of(doc)`` (the index keys it has) and
        ``hits_of(doc)`` (a ReQL array of what it answers); ``split`` gives
        each key the hits of the documents having it, once per document, in
        the order of ``order(doc)``.  Only keys and hits travel."""
        # sorted on the server: ReQL orders values of any type (a member may write anything)
        term = table.get_all(*keys, index=index).map(lambda doc: {
            "id": doc["id"], "keys": keys_of(doc), "order": order(doc), "hits": hits_of(doc)}).order_by("order").coerce_to(
            "array")  # an array even for no keys, so that it fits in one query with others

        def split(found):
            per_key = {frozen(key): {} for key in keys}
            for doc in found:
                for key in doc["keys"]:
                    per_key.get(frozen(key), {}).setdefault(frozen(doc["id"]), doc["hits"])
            return [[hit for hits in per_key[frozen(key)].values() for hit in hits] for key in keys]
        return term, split

    def _rows(self, keys, index, keys_of, hits_of):
        """``_by_key`` on the ``transactions`` rows, in the order written: blocks
        by ``written_at``, transactions in block order."""
        return self._by_key(self.table(TRANSACTIONS), keys, index, keys_of, hits_of,
                            lambda row: [row[WRITTEN_AT].default(None), row["position"].default(None)])

    def _spent(self, table, args_list, spenders):
        """``(term, split)`` of a batched read of ``(txid, cids)`` pairs: ``(cid,
        *spenders(doc))`` for every document of ``table`` (backlog entries or
        ``transactions`` rows, with a ``tx``) spending one of the outputs
        ``cids`` of ``txid``, by cid; for ``spenders_of`` and ``backlog_spenders_of``."""
        wanted = [(txid, sorted(set(cids))) for txid, cids in args_list]
        keys = [[txid, cid] for txid, cids in wanted for cid in cids]
        if table == TRANSACTIONS:
            term, split = self._rows(keys, "spent_inputs", lambda row: spent_by(row["tx"]), lambda row: [spenders(row)])
        else:
            term, split = self._by_key(self.table(table), keys, "spent_inputs", lambda entry: spent_by(entry["tx"]),
                                       lambda entry: [spenders(entry)])

        def answer(found):
            per_key = iter(split(found))
            return [[(cid, *hit) for cid in cids for hit in next(per_key)] for _, cids in wanted]
        return term, answer

    # -- backlog -------------------------------------------------------------

    def write_backlog(self, tx, assignee, timestamp, stale=(), check=None):
        """See ``base.Connection``.  The claims on ``tx``'s inputs are inserted
        first, each document keeping whichever claim was there before; only a
        transaction that holds all of its claims is written to the backlog,
        and one that lost any gives back the ones it got.  Concurrent calls in
        a process are written together (``groupcommit``)."""
        check_storable(tx)
        return self._backlog_writer.submit((tx, assignee, timestamp, frozenset(stale), check))

    def _write_backlog_batch(self, entries):
        holders = self._claim_outputs([(key, tx["id"], stale) for tx, _, _, stale, _ in entries
                                       for key in input_keys(tx)])
        answers, written, losers = [], [], {}
        for tx, assignee, timestamp, _, check in entries:
            keys = input_keys(tx)
            holder = next((holders[tuple(key)] for key in keys if holders[tuple(key)] != tx["id"]), None)
            answers.append(holder)
            if holder is None:
                written.append(stored({"id": tx["id"], "tx": floats_as_binary(tx), "assignee": assignee,
                                       "assignment_timestamp": timestamp, "check": check}))
            else:
                losers[tx["id"]] = keys
        writes = []
        if written:
            # an entry already there stays as it is: posting a transaction again is harmless
            writes.append(self.table(BACKLOG).insert(written, conflict=lambda _key, old, _new: old, **HARD))
        if losers:
            writes.append(self._release(self.table(CLAIMS).get_all(*(key for keys in losers.values() for key in keys)),
                                        list(losers)))
        if writes:
            self._check_writes(self.run(r.expr(writes)))
        return answers

    def _claim_outputs(self, claims):
        """Insert the claims ``(key, spender, stale spenders)``; ``{key: spender holding it}``.

        A claim already there is kept, unless the caller named its spender
        stale (it is in no block, nor in the backlog) and it is older than
        ``CLAIM_GRACE``: then it goes to the new spender.  Both are single
        document writes, so of several claimants exactly one holds the key.
        """
        if not claims:
            return {}
        now = written_now()
        documents = [{"id": key, "spender": spender, "claimed_at": now} for key, spender, _ in claims]
        result = self.run(self.table(CLAIMS).insert(documents, conflict=lambda _key, old, _new: old,
                                                    return_changes="always", **HARD))
        self._check_writes(result)
        holders = {tuple(change["new_val"]["id"]): change["new_val"]["spender"] for change in result["changes"]}
        takeovers = [{"id": key, "spender": spender, "stale": holders[tuple(key)]}
                     for key, spender, stale in claims if holders[tuple(key)] in stale]
        if takeovers:
            result = self.run(r.expr(takeovers).for_each(lambda claim: self.table(CLAIMS).get(claim["id"]).replace(
                lambda old: r.branch(
                    old.eq(None).or_(old["spender"].eq(claim["stale"]).and_(old["claimed_at"].lt(now - CLAIM_GRACE))),
                    {"id": claim["id"], "spender": claim["spender"], "claimed_at": now}, old),
                return_changes="always", **HARD)))
            self._check_writes(result)
            holders.update({tuple(change["new_val"]["id"]): change["new_val"]["spender"]
                            for change in result["changes"]})
        return holders

    def _release(self, claims, spenders):
        """Delete those of the claims (a selection) that ``spenders`` hold; a claim
        another transaction took meanwhile stays."""
        return claims.replace(lambda claim: r.branch(r.expr(spenders).contains(claim["spender"]), None, claim),
                              **HARD)

    def _check_writes(self, result):
        """Raise when the server refused a write (a write's result, or a list of them)."""
        for outcome in result if isinstance(result, list) else [result]:
            if outcome.get("errors"):
                raise DatabaseError(f"RethinkDB at {self.address} refused a write: {outcome['first_error']}")

    @batched
    def backlog_spenders_of(self, args_list):
        return self._spent(BACKLOG, args_list, lambda entry: [entry["id"]])

    @batched
    def get_backlog_transaction(self, args_list):
        term, split = self._by_key(self.table(BACKLOG), [tx_id for tx_id, in args_list], "id",
                                   lambda entry: [entry["id"]], lambda entry: [entry["tx"]])
        return term, lambda found: [binary_as_floats(first(txs)) for txs in split(found)]

    @batched
    def get_backlog_check(self, args_list):
        term, split = self._by_key(self.table(BACKLOG), [tx_id for tx_id, in args_list], "id",
                                   lambda entry: [entry["id"]], lambda entry: [entry["check"].default(None)])
        return term, lambda found: [first(checks) for checks in split(found)]

    @batched
    def backlog_spenders(self, args_list):
        return self._by_key(self.table(BACKLOG), [list(link) for link in args_list], "spent_inputs",
                            lambda entry: spent_by(entry["tx"]), lambda entry: [entry["id"]])

    def delete_backlog(self, tx_ids, blocked=False):
        """See ``base.Connection``: the claims of transactions that left for a
        block stay, so that nobody else spends those outputs while the block
        is undecided (``core`` lets a later spender take a claim whose holder
        is in no VALID or UNDECIDED block and not in the backlog)."""
        tx_ids = list(tx_ids)
        if not tx_ids:
            return
        deleted = self.table(BACKLOG).get_all(*tx_ids).delete(**HARD)
        if blocked:
            self._check_writes(self.run(deleted))
        else:  # the entries first: a claim without its entry is what a crash leaves, and is taken over
            self._check_writes(self.run(deleted.do(lambda _: self._release(
                self.table(CLAIMS).get_all(*tx_ids, index="spender"), tx_ids))))

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

    def backlog_size(self):
        # counted by the servers, shard by shard, without sending a document
        return self.run(self.table(BACKLOG).count())

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

    def write_block(self, block, taken=()):
        """The block's ``transactions`` rows first, then the block, then the
        deletion of the backlog entries ``taken`` (only once the block is
        there), in one query: a crash in between leaves rows of a block that
        does not exist, which every reader skips (its status is None), or
        entries of a written block (which the block stage passes over: their
        transactions are in a block), never a block whose transactions
        cannot be found, nor a transaction in neither."""
        keys = row_keys(block)
        bigchain = self.table(BIGCHAIN)
        if keys:  # floats kept as their bytes (see schema)
            block = dict(block, block=dict(block["block"], transactions=[
                floats_as_binary(tx) for tx in block["block"]["transactions"]]))

        words = word_rows(block["id"], keys, block["block"]["transactions"]) if keys else []

        def rows_then_block(document, written_at):
            write = bigchain.insert(document.merge({WRITTEN_AT: written_at}), conflict="error", **HARD)
            if not keys:
                return write
            if words:
                write = self.table(WORDS).insert(r.expr(words).map(lambda row: row.merge({WRITTEN_AT: written_at})),
                                                 conflict=lambda _key, old, _new: old, **HARD).do(lambda _: write)
            return self.table(TRANSACTIONS).insert(
                r.range(len(keys)).map(r.expr(keys), document["block"]["transactions"], lambda position, key, tx: {
                    "id": key, "block_id": block["id"], "position": position, "tx": tx, WRITTEN_AT: written_at}),
                # rows already there (the block written again) stay as they are
                conflict=lambda _key, old, _new: old, **HARD).do(lambda _: write)
        def then_backlog(written):
            if not taken:
                return written
            there = written["inserted"].gt(0).or_(
                written["first_error"].default("").match(f"^{DUPLICATE}").ne(None))
            return r.branch(there, self.table(BACKLOG).get_all(*taken).delete(**HARD), {}).do(
                lambda deleted: written.merge({"backlog": deleted}))
        query = r.expr(stored(block)).do(lambda document: next_written_at(bigchain).do(
            lambda written_at: rows_then_block(document, written_at))).do(then_backlog)
        result = self.run(query)
        if not result["inserted"] and not result.get("first_error", "").startswith(DUPLICATE):
            self._check_writes(result)
        self._check_writes(result.get("backlog", {}))

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

    @batched
    def get_block(self, args_list):
        # batched, so that the vote stage reads a block and the votes on it in one query
        term, split = self._by_key(self.table(BIGCHAIN), [block_id for block_id, in args_list], "id",
                                   lambda block: [block["id"]], lambda block: [block.without(WRITTEN_AT)])
        return term, lambda found: [self._block_as_written(first(blocks)) for blocks in split(found)]

    @batched
    def get_block_header(self, args_list):
        term, split = self._by_key(self.table(BIGCHAIN), [block_id for block_id, in args_list], "id",
                                   lambda block: [block["id"]], lambda block: [block.pluck(*BLOCK_HEADER)])
        return term, lambda found: [first(headers) for headers in split(found)]

    def get_genesis_block(self):
        return self._block_as_written(self._first(self.table(BIGCHAIN).get_all(True, index="genesis")
                                                  .order_by(WRITTEN_AT).without(WRITTEN_AT)))

    @batched
    def blocks_with_transaction(self, args_list):
        return self._rows([tx_id for tx_id, in args_list], "transaction_id",
                          lambda row: [row["tx"]["id"]], lambda row: [row["block_id"]])

    @batched
    def get_transaction_in_block(self, args_list):
        term, split = self._by_key(self.table(TRANSACTIONS), [row_key(*args) for args in args_list], "id",
                                   lambda row: [row["id"]], lambda row: [row["tx"]])
        return term, lambda found: [binary_as_floats(first(txs)) for txs in split(found)]

    @batched
    def transaction_copies(self, args_list):
        term, split = self._rows([tx_id for tx_id, in args_list], "transaction_id",
                                 lambda row: [row["tx"]["id"]], lambda row: [[row["block_id"], row["tx"]]])
        return term, lambda found: [[(block_id, binary_as_floats(tx)) for block_id, tx in hits]
                                    for hits in split(found)]

    @batched
    def spenders_of(self, args_list):
        return self._spent(TRANSACTIONS, args_list, lambda row: [row["tx"]["id"], row["block_id"]])

    @batched
    def get_outputs(self, args_list):
        keys = [row_key(tx_id, block_id) for tx_id, block_id, _ in args_list]
        term, split = self._picked_outputs(keys, [cids for _, _, cids in args_list], "id", lambda row: row["id"])
        return term, lambda found: [next(iter(picked.values()), []) for picked in split(found)]

    @batched
    def outputs_in_blocks(self, args_list):
        term, split = self._picked_outputs([txid for txid, _ in args_list], [cids for _, cids in args_list],
                                           "transaction_id", lambda row: row["tx"]["id"])
        # in the order the blocks were written, as blocks_with_transaction answers
        return term, lambda found: [list(picked.items()) for picked in split(found)]

    def _picked_outputs(self, keys, cids_list, index, key_of):
        """``(term, split)`` of a batched read of the ``transactions`` rows under
        ``keys`` in ``index`` (``key_of(row)`` is a row's key there), picking the
        outputs ``cids_list[i]`` of the transaction in each: for every key,
        ``{block id: [(cid, condition uri, amount, asset id), ...]}`` by cid,
        blocks in the order written.  Picked on the server: only the outputs
        asked for travel (``nth``, not a filter over every output for every
        cid asked)."""
        wanted = {}
        for key, cids in zip(keys, cids_list):
            wanted.setdefault(key, set()).update(cids)

        def outputs(row):
            conditions = row["tx"]["transaction"]["conditions"]
            return [[row["block_id"], r.expr({key: sorted(cids) for key, cids in wanted.items()})[key_of(row)].filter(
                lambda cid: cid.lt(conditions.count())).map(lambda cid: [
                    cid, conditions.nth(cid)["condition"]["uri"], conditions.nth(cid)["amount"],
                    row["tx"]["transaction"]["asset"]["id"]])]]
        term, split = self._rows(keys, index, lambda row: [key_of(row)], outputs)

        def picked(found):
            return [{block_id: sorted({tuple(output) for output in hits if output[0] in cids})
                     for block_id, hits in per_key}
                    for per_key, cids in zip(split(found), cids_list)]
        return term, picked

    @batched
    def transactions_by_asset(self, args_list):
        # (asset_id,) or (asset_id, operation), operation None meaning any: ranges of ``ledger_order``
        prefixes = [["asset", args[0]] if args[1:] in ((), (None,)) else ["operation", *args] for args in args_list]
        term = r.expr([self.table(TRANSACTIONS).between(prefix + [r.minval], prefix + [r.maxval], index=LEDGER_ORDER)
                       .order_by(index=LEDGER_ORDER).map(lambda row: [row["tx"], row["block_id"]]).coerce_to("array")
                       for prefix in prefixes])
        return term, lambda found: [[(binary_as_floats(tx), block_id) for tx, block_id in hits] for hits in found]

    # -- pages (see ``base.Connection``): ranges of ``ledger_order``, whose
    # keys end with the row's ``ledger_key``, the position handed out.

    def outputs_page(self, owner, after, limit):
        """A range of ``owner`` keys; a row may hold several of ``owner``'s
        outputs, so the row a page ended in is read again for the outputs after it."""
        after = check_position(after, with_cid=True)
        rows = self._page_rows(["owner", owner], after and after[:3], limit + 1, closed=True)
        found = []
        for key, tx, block_id in rows:
            for cid in owned_cids(tx, owner):
                if after is None or [*key, cid] > after:
                    found.append(([*key, cid], tx, block_id, cid))
        return found[:limit]

    def asset_page(self, asset_id, operation, after, limit):
        prefix = ["asset", asset_id] if operation is None else ["operation", asset_id, operation]
        return self._page_rows(prefix, check_position(after), limit)

    def metadata_page(self, metadata_id, after, limit):
        return self._page_rows(["metadata", metadata_id], check_position(after), limit)

    def _page_rows(self, prefix, after, limit, closed=False):
        """``(ledger key, tx, block id)`` of the ``transactions`` rows keyed ``prefix``
        in ``ledger_order`` from the ledger key ``after`` (None: the start; excluded
        unless ``closed``), up to ``limit``, in the blocks written whole when
        the read began (``written_blocks_end``)."""
        rows = self.run(written_blocks_end(self.table(BIGCHAIN)).do(lambda end: self.table(TRANSACTIONS).between(
            prefix + (after or [r.minval]), prefix + [end, r.maxval], index=LEDGER_ORDER,
            left_bound="closed" if closed else "open")
            .order_by(index=LEDGER_ORDER).limit(limit).pluck("tx", "block_id", "position", WRITTEN_AT).coerce_to("array")),
            majority=True)
        return [([row[WRITTEN_AT], row["block_id"], row["position"]], binary_as_floats(row["tx"]), row["block_id"])
                for row in rows]

    def search_page(self, kind, words, after, limit):
        """Per band (how many of the words a document holds, most first): the
        ``word_order`` ranges of every word, read together, ``SEARCH_READ`` entries of
        each at a time, counted by row; the rows counted as many times as the band
        are its documents.  A word whose range was cut short leaves the rows past its
        last entry uncounted: the page ends there (its next position), short, so
        that a page reads a bounded number of entries."""
        band, key = check_band(after, len(words))
        found = []
        while band >= 1:
            start = [r.minval] if key is None else key
            # the words of the blocks written whole when the read began (see ``_page_rows``)
            ranges = self.run(written_blocks_end(self.table(BIGCHAIN)).do(lambda end: r.expr([
                self.table(WORDS).between([kind, word, *start], [kind, word, end, r.maxval], index="word_order",
                                          left_bound="open").order_by(index="word_order").limit(SEARCH_READ)
                .map(lambda entry: [ledger_key(entry), entry["row"]]).coerce_to("array") for word in words])),
                majority=True)
            cut = min((entries[-1][0] for entries in ranges if len(entries) == SEARCH_READ), default=None)
            counts = {}
            for entries in ranges:
                for entry_key, row in entries:
                    if cut is None or entry_key <= cut:
                        counts.setdefault(frozen(entry_key), [entry_key, row, 0])[2] += 1
            matches = sorted((entry for entry in counts.values() if entry[2] == band), key=lambda entry: entry[0])
            room = limit - len(found)
            found += [([band, entry_key], row) for entry_key, row, _ in matches[:room]]
            if len(matches) > room:
                return self._search_rows(found), found[-1][0]
            if cut is not None:
                return self._search_rows(found), [band, cut]
            band, key = band - 1, None
        return self._search_rows(found), None

    def _search_rows(self, found):
        """``(position, tx, block id)`` of the ``transactions`` rows ``found`` names (``(position, row key)``)."""
        if not found:
            return []
        rows = {row["id"]: row for row in self.run(self.table(TRANSACTIONS).get_all(*[key for _, key in found])
                                                   .pluck("id", "tx", "block_id"), majority=True)}
        return [(position, binary_as_floats(rows[key]["tx"]), rows[key]["block_id"])
                for position, key in found if key in rows]

    def blocks_after(self, position, limit):
        return [(at, self._block_as_written(block)) for at, block in self._rows_after(BIGCHAIN, position, limit)]

    def _rows_after(self, table, position, limit):
        """``(position, row)`` of up to ``limit`` rows of ``table`` written after
        ``position``, in ``written_at`` order, without their ``written_at``."""
        # ``written_at`` is strictly increasing for one writer, but two nodes
        # writing at the same moment may share one: a position is the
        # ``written_at`` with the ids already handed out at it, and the
        # range is closed so that such neighbours are not skipped.
        at, seen = position or (r.minval, ())
        rows = self.run(self.table(table).between(at, r.maxval, index=WRITTEN_AT).order_by(index=WRITTEN_AT)
                        .limit(limit + len(seen)), majority=True)
        found = []
        for row in rows:
            if row["id"] in seen:
                continue
            written_at = row.pop(WRITTEN_AT)
            seen = (*seen, row["id"]) if written_at == at else (row["id"],)
            at = written_at
            found.append(((at, seen), row))
        return found[:limit]

    def position_before_last(self, kind, count):
        table = self.table({"blocks": BIGCHAIN, "votes": VOTES}[kind])
        # numbers only: a row anyone wrote with text there would sort last
        last = self.run(table.between(0, LATEST_WRITE, index=WRITTEN_AT).order_by(index=r.desc(WRITTEN_AT))
                        .skip(count).limit(1)[WRITTEN_AT], majority=True)
        if not last:
            return None
        # every row written at that moment is behind the position
        at = last[0]
        return at, tuple(self.run(table.between(at, at, index=WRITTEN_AT, right_bound="closed")["id"],
                                  majority=True))

    def position_token(self, position):
        # the ``written_at``, then the ids handed out at it (one, but for ties)
        at, seen = position
        return "~".join((repr(float(at)), *seen))

    def position_from_token(self, token):
        at, *seen = token.split("~")
        try:
            at = float(at)
        except ValueError:
            raise ValueError("not a position: a number, then the ids written at it, each after a ~") from None
        if not math.isfinite(at) or at < 0 or not all(seen):
            raise ValueError("not a position: a number of 0 or more, then the ids written at it, each after a ~")
        return at, tuple(seen)

    def position_before(self, position):
        at, seen = position
        return at, seen[:-1]

    def blocks_not_voted_by(self, voter, counts):
        # A walk over every block in timestamp order with one index read of the
        # votes per block: run when a vote pipeline starts, not per request.
        genesis = self.get_genesis_block()
        genesis_id = None if genesis is None else genesis["id"]
        votes = self.table(VOTES)
        found = self.run(self.table(BIGCHAIN).order_by(index=WRITTEN_AT).filter(
            lambda block: block["id"].ne(genesis_id)).map(lambda block: {
                "header": block.pluck(*BLOCK_HEADER),
                "votes": votes.get_all([block["id"], voter], index="block_and_voter").without(
                    *VOTE_EXTRAS).coerce_to("array")}), majority=True)
        return [row["header"] for row in found if not any(counts(vote) for vote in row["votes"])]

    def blocks_in_write_order(self, block_ids):
        block_ids = list(dict.fromkeys(block_ids))
        if not block_ids:
            return []
        found = self.run(self.table(BIGCHAIN).get_all(*block_ids).pluck("id", WRITTEN_AT), majority=True)
        return [row["id"] for row in sorted(found, key=write_order)]

    # -- votes ---------------------------------------------------------------

    def write_vote(self, vote):
        key = vote_key(vote)
        return self._claim(VOTES, key, lambda claim: stamped(self.table(VOTES), vote, id=key, **claim))

    @batched
    def votes_for(self, args_list):
        return self._by_key(self.table(VOTES), [block_id for block_id, in args_list], "block",
                            lambda vote: [vote["vote"]["voting_for_block"]], lambda vote: [vote.without(*VOTE_EXTRAS)],
                            lambda vote: vote[WRITTEN_AT].default(None))

    def votes_after(self, position, limit):
        return [(at, without(vote, VOTE_EXTRAS)) for at, vote in self._rows_after(VOTES, position, limit)]

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
