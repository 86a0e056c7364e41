"""What only the SQLite engine promises: its settings, fork safety, and that
every query is an index read (checked on the query plan of each statement
each method actually runs)."""

import multiprocessing
import sqlite3
import threading
from contextlib import closing

import pytest

from bigchaindb import backend
from bigchaindb.backend import base
from bigchaindb.backend.exceptions import DatabaseDoesNotExist, DatabaseError
from bigchaindb.backend.sqlite import schema
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.utils import dumps

from .documents import any_vote, block_of, create, genesis_block, transfer, vote


@pytest.fixture
def sqlite_connection(tmp_path):
    conn = backend.connect({"backend": "sqlite", "path": str(tmp_path / "new" / "dir" / "store.sqlite")})
    conn.init()
    yield conn
    conn.close()


def test_the_store_is_one_file_in_wal_mode_created_with_its_directory(sqlite_connection):
    assert sqlite_connection.is_initialised()
    with closing(sqlite3.connect(sqlite_connection.path)) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_each_handle_syncs_at_commit_in_normal_mode_and_waits_for_locks(sqlite_connection):
    with sqlite_connection._pool.taken() as handle:
        assert handle.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert handle.execute("PRAGMA busy_timeout").fetchone()[0] >= 30_000


def test_a_store_not_initialised_says_so(tmp_path):
    conn = backend.connect({"backend": "sqlite", "path": str(tmp_path / "store.sqlite")})
    with pytest.raises(DatabaseDoesNotExist, match="not initialised"):
        conn.get_block("0" * 64)


def _use_inherited(conn, tx, results):
    results.put(conn.write_backlog(tx, "child", 1))


def test_a_connection_made_before_a_fork_works_on_both_sides(sqlite_connection):
    parent_tx, child_tx = create()[0], create()[0]
    sqlite_connection.write_backlog(parent_tx, "parent", 1)  # the parent has an open handle now
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    child = fork.Process(target=_use_inherited, args=(sqlite_connection, child_tx, results))
    child.start()
    assert results.get(timeout=30) is None
    child.join(timeout=30)
    assert sqlite_connection.get_backlog_transaction(child_tx["id"]) == child_tx
    sqlite_connection.write_backlog(create()[0], "parent", 2)  # the child left the parent's handle alone


def test_handles_are_as_many_as_the_calls_that_ran_at_once(sqlite_connection):
    # Counted on the engine's own set of handles: open files say little,
    # since SQLite keeps a closed handle's file open for the next one.
    for _ in range(20):  # one after another, each in a new thread: one handle serves them all
        thread = threading.Thread(target=sqlite_connection.get_block, args=("0" * 64,))
        thread.start()
        thread.join()
    assert sqlite_connection._pool.counts() == (1, 1)
    in_use, release = threading.Barrier(21), threading.Event()

    def read_while_the_others_do(handle):
        in_use.wait()
        release.wait()
        return handle

    threads = [threading.Thread(target=sqlite_connection._read, args=(read_while_the_others_do,))
               for _ in range(20)]
    for thread in threads:
        thread.start()
    in_use.wait()
    assert sqlite_connection._pool.counts() == (20, 0)  # each call at the same time has its own
    release.set()
    for thread in threads:
        thread.join()
    assert sqlite_connection._pool.counts() == (20, 20)  # all back in the pool, for the next calls
    sqlite_connection.get_block("0" * 64)
    assert sqlite_connection._pool.counts() == (20, 20)


def test_a_closed_connection_opens_again_on_use(sqlite_connection):
    sqlite_connection.get_block("0" * 64)
    sqlite_connection.close()
    tx = create()[0]
    sqlite_connection.write_backlog(tx, "node", 1)
    assert sqlite_connection.get_backlog_transaction(tx["id"]) == tx


SCHEMA_5_OUTPUTS = ("CREATE TABLE outputs (owner TEXT NOT NULL, block_seq INTEGER NOT NULL, tx_id TEXT NOT NULL,"
                    " cid INTEGER NOT NULL, PRIMARY KEY (owner, block_seq, tx_id, cid)) WITHOUT ROWID")


def _set_version(path, version, statement=None):
    """Make the store at ``path`` look as schema ``version`` made it (schema 4 added
    settings; schema 6 the word tables, and outputs keyed by position)."""
    with closing(sqlite3.connect(path)) as raw:
        if statement:
            raw.execute(statement)
        if version < 6:
            for drop in ("TABLE asset_words", "TABLE metadata_words", "INDEX assets_in_order", "TABLE outputs"):
                raw.execute(f"DROP {drop}")
            raw.execute(SCHEMA_5_OUTPUTS)
        if version < 4:
            raw.execute("DROP TABLE settings")
        raw.execute(f"PRAGMA user_version = {version}")
        raw.commit()


def test_a_store_of_schema_1_gets_its_outputs_indexed_when_opened(tmp_path):
    path = str(tmp_path / "store.sqlite")
    old = backend.connect({"backend": "sqlite", "path": path})
    old.init()
    tx = create(amounts=(2, 1))[0]
    block = block_of([tx])
    old.write_block(block)
    old.close()
    _set_version(path, 1, "DROP TABLE conditions")  # as schema 1 made it
    conn = backend.connect({"backend": "sqlite", "path": path})
    asset_id = tx["transaction"]["asset"]["id"]
    assert conn.get_outputs(tx["id"], block["id"], [0, 1]) == [
        (cid, c["condition"]["uri"], c["amount"], asset_id) for cid, c in enumerate(tx["transaction"]["conditions"])]
    with conn._pool.taken() as handle:
        assert handle.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
    conn.close()


def test_a_store_of_schema_5_gets_its_outputs_in_ledger_order_and_its_words_indexed_when_opened(tmp_path):
    path = str(tmp_path / "store.sqlite")
    old = backend.connect({"backend": "sqlite", "path": path})
    old.init()
    alice = generate_key_pair().public_key
    made = [create(owners_after=[alice], asset_data={"title": f"Red car {n}"}, metadata={"note": "Blue sky"})[0]
            for n in range(3)]
    blocks = [block_of(made[:2]), block_of(made[2:])]
    for block in blocks:
        old.write_block(block)
    old.close()
    _set_version(path, 5)
    with closing(sqlite3.connect(path)) as raw:  # an outputs row as schema 5 wrote it
        raw.execute("INSERT INTO outputs VALUES (?, 2, ?, 0)", (alice, made[0]["id"]))
        raw.commit()
    conn = backend.connect({"backend": "sqlite", "path": path})
    try:
        assert [(tx["id"], block_id) for _, tx, block_id, _ in conn.outputs_page(alice, None, 10)] == [
            (made[0]["id"], blocks[0]["id"]), (made[1]["id"], blocks[0]["id"]), (made[2]["id"], blocks[1]["id"])]
        found, following = conn.search_page("asset", ["car", "2"], None, 10)
        assert [tx["id"] for _, tx, _ in found] == [made[2]["id"], made[0]["id"], made[1]["id"]]
        assert following is None
        assert [tx["id"] for _, tx, _ in conn.search_page("metadata", ["sky"], None, 10)[0]] == [tx["id"] for tx in made]
        with conn._pool.taken() as handle:
            assert handle.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
    finally:
        conn.close()


def test_a_store_of_schema_2_gets_votes_keyed_by_signature_when_opened(tmp_path):
    path = str(tmp_path / "store.sqlite")
    backend.connect({"backend": "sqlite", "path": path}).init()
    kept = vote("block", "voter")
    with closing(sqlite3.connect(path)) as raw:  # the votes table as schema 2 made it, with rows in it
        raw.execute("DROP TABLE votes")
        raw.execute("CREATE TABLE votes (seq INTEGER PRIMARY KEY AUTOINCREMENT, block_id TEXT NOT NULL,"
                    " voter TEXT NOT NULL, vote BLOB NOT NULL, UNIQUE (block_id, voter))")
        raw.execute("CREATE INDEX votes_by_voter ON votes (voter, seq)")
        raw.execute("INSERT INTO votes (block_id, voter, vote) VALUES ('block', 'voter', ?)", (dumps(kept),))
        raw.execute("INSERT INTO votes (block_id, voter, vote) VALUES ('block', 'other', 'x')")
        raw.commit()
    _set_version(path, 2)
    conn = backend.connect({"backend": "sqlite", "path": path})
    assert conn.votes_for("block") == [kept, "x"]
    other = vote("block", "voter", signature="another")
    assert conn.write_vote(other) is True and conn.write_vote(kept) is False
    assert conn.last_vote_by("voter", any_vote) == other
    with conn._pool.taken() as handle:
        assert handle.execute("PRAGMA user_version").fetchone() == (schema.SCHEMA_VERSION,)
    conn.close()


def test_a_store_of_a_newer_schema_is_refused(sqlite_connection):
    sqlite_connection.close()
    _set_version(sqlite_connection.path, schema.SCHEMA_VERSION + 1)
    with pytest.raises(DatabaseError, match="newer version"):
        sqlite_connection.get_block("0" * 64)


# -- query plans ---------------------------------------------------------------

class Ledger:
    """A small store with something for every lookup to find."""

    def __init__(self, conn):
        created, private = create(metadata={"planet": "earth"})
        self.created = created
        self.spend = transfer(created, 0, private)
        self.waiting, self.rival = create()[0], transfer(created, 0, private)
        self.block = block_of([created, self.spend])
        self.asset_id = created["transaction"]["asset"]["id"]
        self.metadata_id = created["transaction"]["metadata"]["id"]
        self.owner = created["transaction"]["conditions"][0]["owners_after"][0]
        conn.write_block(genesis_block())
        conn.write_block(self.block)
        conn.write_backlog(self.waiting, "node", 1)
        conn.write_vote(vote(self.block["id"], "voter"))


# every Connection method but the schema ones, with arguments that find something
CALLS = {
    "write_backlog": lambda c, l: c.write_backlog(l.rival, "node", 2),
    "get_backlog_transaction": lambda c, l: c.get_backlog_transaction(l.waiting["id"]),
    "get_backlog_check": lambda c, l: c.get_backlog_check(l.waiting["id"]),
    "backlog_spenders_of": lambda c, l: c.backlog_spenders_of(l.created["id"], [0, 1]),
    "delete_backlog": lambda c, l: c.delete_backlog([l.waiting["id"]]),
    "backlog_assigned_to": lambda c, l: c.backlog_assigned_to("node"),
    "stale_backlog": lambda c, l: c.stale_backlog(5),
    "backlog_size": lambda c, l: c.backlog_size(),
    "backlog_held_by": lambda c, l: c.backlog_held_by("node", [l.waiting["id"], l.rival["id"]]),
    "reassign_backlog": lambda c, l: c.reassign_backlog(l.waiting["id"], "other", 3, 2),
    "write_block": lambda c, l: c.write_block(block_of([create()[0]])),
    "get_block": lambda c, l: c.get_block(l.block["id"]),
    "get_block_header": lambda c, l: c.get_block_header(l.block["id"]),
    "get_genesis_block": lambda c, l: c.get_genesis_block(),
    "blocks_with_transaction": lambda c, l: c.blocks_with_transaction(l.spend["id"]),
    "get_transaction_in_block": lambda c, l: c.get_transaction_in_block(l.spend["id"], l.block["id"]),
    "transaction_copies": lambda c, l: c.transaction_copies(l.spend["id"]),
    "held_copies": lambda c, l: (c.held_copies(l.waiting["id"]), c.held_copies(l.spend["id"])),
    "get_outputs": lambda c, l: c.get_outputs(l.created["id"], l.block["id"], [0]),
    "spenders_of": lambda c, l: c.spenders_of(l.created["id"], [0, 1]),
    "outputs_page": lambda c, l: (c.outputs_page(l.owner, None, 10), c.outputs_page(l.owner, (1, 0, 0), 10)),
    "asset_page": lambda c, l: (c.asset_page(l.asset_id, None, (1, 0), 10), c.asset_page(l.asset_id, "CREATE", None, 10)),
    "metadata_page": lambda c, l: c.metadata_page(l.metadata_id, (1, 0), 10),
    "search_page": lambda c, l: (c.search_page("asset", ["planet", "earth"], None, 10),
                                 c.search_page("metadata", ["planet"], (1, 5), 10)),
    "transactions_by_asset": lambda c, l: (c.transactions_by_asset(l.asset_id),
                                           c.transactions_by_asset(l.asset_id, "CREATE")),
    "blocks_not_voted_by": lambda c, l: c.blocks_not_voted_by("voter", any_vote),
    "blocks_in_write_order": lambda c, l: c.blocks_in_write_order([l.block["id"], "no such block"]),
    "blocks_after": lambda c, l: c.blocks_after(None, 10),
    "write_vote": lambda c, l: c.write_vote(vote(l.block["id"], "other voter")),
    "votes_for": lambda c, l: c.votes_for(l.block["id"]),
    "votes_after": lambda c, l: c.votes_after(None, 10),
    "position_before_last": lambda c, l: c.position_before_last("blocks", 1),
    "last_vote_by": lambda c, l: c.last_vote_by("voter", any_vote),
    "mark_requeued": lambda c, l: c.mark_requeued(l.block["id"]),
    "was_requeued": lambda c, l: c.was_requeued(l.block["id"]),
    "backlog_feed": lambda c, l: next(c.backlog_feed("node")),
    "block_feed": lambda c, l: next(c.block_feed()),
    "vote_feed": lambda c, l: next(c.vote_feed()),
}

# The vote pipeline's start-up catch-up: it must look at every block (probing
# the votes index for each), so a pass over blocks is what it is.
ALLOWED_SCANS = {"blocks_not_voted_by": {"SCAN b"},
                 # a walk over the ids asked for (json_each), each looked up by its index
                 "blocks_in_write_order": {"SCAN j VIRTUAL TABLE INDEX 1:"},
                 # the stale stage's count for GET /metrics, every few seconds, off the request
                 # path: the narrowest index's entries, not the rows
                 "backlog_size": {"SCAN backlog USING COVERING INDEX backlog_by_assignment_timestamp"},
                 # the list of cids asked for, passed as one JSON array: not a table
                 # FTS5's own index, read by MATCH ("M") from a rowid on ("1>"): the words' doclists
                 "search_page": {"SCAN w VIRTUAL TABLE INDEX 64:M1>"},
                 **{method: {"SCAN json_each VIRTUAL TABLE INDEX 1:"}
                    for method in ("get_outputs", "spenders_of", "backlog_spenders_of")}}


def test_every_method_has_its_query_plan_checked():
    schema_methods = {"init", "drop", "is_initialised", "state", "stored_hash"}
    # and the reads the engine answers in one statement where the base class makes several
    one_statement = {"transaction_copies", "held_copies"}
    assert set(CALLS) == base.Connection.__abstractmethods__ - schema_methods | one_statement


def _statements_run_by(conn, call):
    """The SQL, with its values filled in, that ``call`` runs (on one thread, so on the pool's top handle)."""
    statements = []
    with conn._pool.taken() as handle:  # given back: the pool's next handle, so the one ``call`` takes
        handle.set_trace_callback(statements.append)
    try:
        call()
    finally:
        handle.set_trace_callback(None)
    # "--": statements FTS5 runs for itself (reading its own tables by key)
    return [s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "--"))]


def test_the_copies_a_post_looks_for_are_read_in_one_statement(sqlite_connection):
    ledger = Ledger(sqlite_connection)
    sqlite_connection.write_backlog(ledger.spend, "node", 3)  # in a block and in the backlog
    statements = _statements_run_by(sqlite_connection, lambda: sqlite_connection.held_copies(ledger.spend["id"]))
    assert len(statements) == 1


@pytest.mark.parametrize("method", sorted(CALLS))
def test_no_method_scans_a_table(sqlite_connection, method):
    ledger = Ledger(sqlite_connection)
    statements = _statements_run_by(sqlite_connection, lambda: CALLS[method](sqlite_connection, ledger))
    assert statements
    with sqlite_connection._pool.taken() as handle:
        for statement in statements:
            plan = [row[3] for row in handle.execute(f"EXPLAIN QUERY PLAN {statement}")]
            scans = {step for step in plan if step.startswith("SCAN")} - ALLOWED_SCANS.get(method, set())
            assert not scans, f"{method} runs {statement!r}, planned as {plan}"

def test_a_store_made_before_settings_were_recorded_is_upgraded_to_a_sha3_256_one(tmp_path):
    """Schema version 3 stores had no settings table: every one hashed with SHA3-256."""
    path = str(tmp_path / "store.sqlite")
    made = backend.connect({"backend": "sqlite", "path": path})
    made.init()
    made.close()
    _set_version(path, 3)
    upgraded = backend.connect({"backend": "sqlite", "path": path})
    try:
        assert upgraded.stored_hash() == "sha3_256"
    finally:
        upgraded.close()


def test_the_vote_catch_up_reads_each_blocks_votes_by_its_id(sqlite_connection):
    """Not all the voter's votes again for every block (blocks × votes: 38 s at 10 million stored)."""
    statements = _statements_run_by(sqlite_connection,
                                    lambda: sqlite_connection.blocks_not_voted_by("voter", any_vote))
    with sqlite_connection._pool.taken() as handle:
        plan = [row[3] for statement in statements for row in handle.execute(f"EXPLAIN QUERY PLAN {statement}")]
    assert any(step.startswith("SEARCH v USING INDEX sqlite_autoindex_votes_1 (block_id=?") for step in plan), plan
