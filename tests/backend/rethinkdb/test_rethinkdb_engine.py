"""What is particular to the RethinkDB engine (the shared suite in tests/backend
covers the storage interface itself on every engine).

The first part needs no server: start-up failure, the schema's names and
helpers, error mapping, and the resumption logic of change feeds, driven by
scripted streams standing in for driver cursors.  The second part runs on
the suite's RethinkDB server (see ``tests.engines``).
"""

import socket
import threading
import time

import pytest
from rethinkdb import r
from rethinkdb.ast import ReQLEncoder
from rethinkdb.errors import ReqlAvailabilityError, ReqlDriverError, ReqlOpFailedError, ReqlTimeoutError
from rethinkdb.net import DefaultCursorEmpty

from bigchaindb.backend.base import INITIALISED
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist, DatabaseError
from bigchaindb.backend.rethinkdb import admin, changefeed, driver, schema
from bigchaindb.backend.rethinkdb import connection as connection_module
from bigchaindb.backend.rethinkdb.changefeed import RESUME_MARGIN, FeedState
from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import NotSupported
from bigchaindb.core import Bigchain
from tests.backend.documents import create
from tests.backend.feeds import TIMEOUT, next_item
from tests.helpers import same_values
from tests.rethinkdb_server import RethinkDBServer


def nothing_more(feed, seconds=0.5):
    """True when ``feed`` yields only None for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if next(feed) is not None:
            return False
    return True


# -- start-up --------------------------------------------------------------

def test_startup_retries_then_fails_naming_host_and_port():
    started = time.monotonic()
    with pytest.raises(DatabaseError) as raised:
        RethinkDBConnection("127.0.0.1", 1, "bigchain_test", connection_timeout=1)
    elapsed = time.monotonic() - started
    assert "127.0.0.1:1" in str(raised.value)
    assert 0.9 <= elapsed < TIMEOUT  # kept trying for the timeout, then gave up


def test_backoff_doubles_up_to_a_ceiling():
    delays = driver.backoff()
    assert [next(delays) for _ in range(7)] == [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


# -- errors ------------------------------------------------------------------

def test_missing_tables_and_races_map_to_the_backend_exceptions():
    missing = ReqlOpFailedError("Table `bigchain.votes` does not exist.")
    assert isinstance(driver.translate(missing, "db:28015"), DatabaseDoesNotExist)
    assert not driver.is_transient(missing)
    raced = driver.translate(ReqlOpFailedError("Database `bigchain` already exists."), "db:28015")
    assert isinstance(raced, DatabaseAlreadyExists)
    dropped = ReqlDriverError("Connection is closed.")
    assert driver.is_transient(dropped)
    assert "db:28015" in str(driver.translate(dropped, "db:28015"))
    assert driver.is_transient(ReqlOpFailedError("Cannot perform read: primary replica for shard unavailable"))


# -- schema ------------------------------------------------------------------

def test_tables_and_index_names():
    assert schema.TABLES == ("backlog", "bigchain", "transactions", "votes", "requeued", "claims", "settings", "words")
    names = {table: sorted(indexes) for table, indexes in schema.INDEXES.items()}
    assert names == {
        "backlog": ["assignee_and_time", "assignment_timestamp", "spent_inputs"],
        "bigchain": ["genesis", "written_at"],
        "transactions": ["ledger_order", "spent_inputs", "transaction_id"],
        "votes": ["block", "block_and_voter", "voter_and_time", "written_at"],
        "requeued": [],
        "claims": ["spender"],
        "words": ["word_order"],
    }
    multi = {(table, name) for table, indexes in schema.INDEXES.items()
             for name, (_, is_multi) in indexes.items() if is_multi}
    assert multi == {("backlog", "spent_inputs"), ("bigchain", "genesis"), ("transactions", "spent_inputs"),
                     ("transactions", "ledger_order")}


def test_every_index_function_compiles():
    encoder = ReQLEncoder()
    for table, indexes in schema.INDEXES.items():
        for name, (function, multi) in indexes.items():
            encoder.encode(schema.r.table(table).index_create(name, function, multi=multi))


def test_input_keys_are_the_outputs_a_transaction_spends():
    tx = {"transaction": {"fulfillments": [
        {"input": None}, {"input": {"txid": "a", "cid": 0}}, {"input": {"txid": "b", "cid": 2}}]}}
    assert schema.input_keys(tx) == [["a", 0], ["b", 2]]


def test_vote_keys_are_one_per_block_voter_and_signature():
    def key(block_id, voter, signature="s"):
        return schema.vote_key({"node_pubkey": voter, "signature": signature, "vote": {"voting_for_block": block_id}})
    assert key("block", "voter") == key("block", "voter")
    assert key("block", "voter") != key("block", "other")
    assert key("block", "voter") != key("other", "voter")
    assert key("block", "voter") != key("block", "voter", "forged")  # a forged row cannot take the key


def test_what_rethinkdb_would_change_is_refused_with_a_reason():
    schema.check_storable({"amount": 2 ** 53 - 1, "flag": True, "nested": [[{"n": -(2 ** 53 - 1)}]], "reql_type": 1})
    with pytest.raises(NotSupported, match="reserved"):
        schema.check_storable({"metadata": {"data": {"$reql_type$": "TIME", "epoch_time": 0}}})
    with pytest.raises(NotSupported, match="array"):
        schema.check_storable({"metadata": {"data": [0] * (schema.LONGEST_ARRAY + 1)}})


def test_documents_deeper_than_the_drivers_limit_can_be_stored():
    deep = "leaf"
    for _ in range(25):  # 50 levels: deeper than the driver converts, within the protocol's 64
        deep = {"down": [deep]}
    ReQLEncoder().encode(schema.r.table("bigchain").insert(schema.stored({"id": "x", "deep": deep})))


# -- change feed bookkeeping -------------------------------------------------

def test_feed_state_drops_repeats_and_tracks_the_latest_position():
    state = FeedState(start=50.0)
    assert state.accept("a", 100.0)
    assert state.accept("b", 99.0)
    assert not state.accept("a", 100.0)
    assert state.latest == 100.0
    assert state.resume_point() == 100.0 - RESUME_MARGIN


def test_feed_state_without_positions_resumes_from_none():
    state = FeedState()
    assert state.accept(("tx", 1))
    assert state.resume_point() is None


def test_feed_state_forgets_the_oldest_keys_beyond_its_capacity():
    state = FeedState(capacity=2)
    for key in "abc":
        assert state.accept(key)
    assert state.accept("a")  # forgotten
    assert not state.accept("c")


def test_backlog_events_are_inserts_and_reassignments_to_the_assignee():
    event_of = changefeed.backlog_event("me")
    entry = {"id": "t", "tx": {"id": "t"}, "assignee": "me", "assignment_timestamp": 5}
    event = event_of({"old_val": None, "new_val": entry})
    assert event.item == ({"id": "t"}, 5)
    moved_again = event_of({"old_val": entry, "new_val": {**entry, "assignment_timestamp": 9}})
    assert moved_again.key != event.key
    assert event_of({"old_val": None, "new_val": {**entry, "assignee": "other"}}) is None
    assert event_of({"old_val": entry, "new_val": None}) is None  # deleted


def test_block_and_vote_events_strip_the_engines_bookkeeping():
    header = {"id": "b", "signature": "s", "block": {"timestamp": "1", "node_pubkey": "n", "voters": []}}
    event = changefeed.block_event({"new_val": {**header, "written_at": 7.5}})
    assert event == (header["id"], 7.5, header)
    vote = {"node_pubkey": "n", "signature": "s", "vote": {"voting_for_block": "b"}}
    event = changefeed.vote_event({"old_val": None, "new_val": {**vote, "id": "k", "written_at": 8.0}})
    assert event == ("k", 8.0, vote)


class ScriptedStream:
    """Stands in for a changefeed cursor: hands out ``script`` (raising the
    exceptions in it), then waits like an idle live feed until closed."""

    def __init__(self, script):
        self.script = list(script)
        self.closed = threading.Event()

    def next(self, timeout):
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        if self.closed.wait(timeout):
            raise ReqlDriverError("Connection is closed.")
        return None

    def close(self):
        self.closed.set()


def block_change(block_id, written_at, initial=False):
    change = {"new_val": {"id": block_id, "signature": "s", "block": {}, "written_at": written_at}}
    return change if initial else {"old_val": None, **change}


def scripted_opener(*steps):
    """An ``open_stream`` handing out ``steps`` in turn (raising the exceptions),
    recording how it was called."""
    steps = list(steps)
    calls = []

    def open_stream(resuming, since):
        calls.append((resuming, since))
        step = steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step
    return open_stream, calls


@pytest.fixture
def quick_backoff(monkeypatch):
    monkeypatch.setattr(driver, "FIRST_DELAY", 0.01)


def follow_blocks(open_stream, start=90.0):
    return changefeed.follow(open_stream, changefeed.block_event, FeedState(start), "test:1", poll_interval=0.01)


def test_a_dropped_feed_resumes_without_a_gap_or_a_repeat(quick_backoff):
    first = ScriptedStream([block_change("a", 100.0), block_change("b", 101.0),
                            ReqlDriverError("Connection is closed.")])
    # Everything written since (latest - margin): a and b again, c written while away.
    second = ScriptedStream([block_change(name, at, initial=True) for name, at in
                             (("a", 100.0), ("b", 101.0), ("c", 102.0))] + [block_change("d", 103.0)])
    open_stream, calls = scripted_opener(first, ReqlDriverError("Could not connect"), second)
    feed = follow_blocks(open_stream)
    assert calls == [(False, None)]  # opened by the call itself, not by the first next()
    assert [next_item(feed)["id"] for _ in range(4)] == ["a", "b", "c", "d"]
    assert nothing_more(feed, 0.1)
    resumed = (True, 101.0 - RESUME_MARGIN)
    assert calls == [(False, None), resumed, resumed]  # the failed reopen was retried
    feed.close()
    assert first.closed.is_set() and second.closed.is_set()


def test_an_idle_feed_yields_none_about_every_poll_interval():
    open_stream, _ = scripted_opener(ScriptedStream([]))
    feed = follow_blocks(open_stream)
    started = time.monotonic()
    assert [next(feed) for _ in range(3)] == [None, None, None]
    assert time.monotonic() - started < 1
    feed.close()


def test_changes_the_server_skipped_are_read_again(quick_backoff):
    overflowing = ScriptedStream([block_change("a", 100.0),
                                  {"error": "Changefeed cache over array size limit, skipped 3 elements."}])
    again = ScriptedStream([block_change("a", 100.0, initial=True), block_change("b", 100.5, initial=True)])
    open_stream, calls = scripted_opener(overflowing, again)
    feed = follow_blocks(open_stream)
    assert [next_item(feed)["id"] for _ in range(2)] == ["a", "b"]
    assert calls[1] == (True, 100.0 - RESUME_MARGIN)
    feed.close()


def test_a_feed_the_server_ended_is_opened_again(quick_backoff):
    open_stream, calls = scripted_opener(ScriptedStream([DefaultCursorEmpty()]),
                                         ScriptedStream([block_change("a", 95.0, initial=True)]))
    feed = follow_blocks(open_stream)
    assert next_item(feed)["id"] == "a"
    assert calls == [(False, None), (True, 90.0 - RESUME_MARGIN)]  # from the feed's start
    feed.close()


def test_a_stream_read_that_times_out_means_nothing_yet():
    class IdleCursor:
        def next(self, wait):
            raise ReqlTimeoutError("h", 1)
    assert changefeed.ChangeStream(connection=None, cursor=IdleCursor()).next(0.01) is None


def test_a_feed_without_positions_resumes_from_everything_there():
    first = ScriptedStream([ReqlDriverError("Connection is closed.")])
    open_stream, calls = scripted_opener(first, ScriptedStream([]))
    feed = changefeed.follow(open_stream, changefeed.backlog_event("me"), FeedState(), "test:1", poll_interval=0.01)
    assert nothing_more(feed, 0.2)
    assert calls == [(False, None), (True, None)]
    feed.close()


def test_a_missing_table_ends_the_feed_with_a_clear_error():
    open_stream, _ = scripted_opener(ScriptedStream([ReqlOpFailedError("Table `bigchain.bigchain` does not exist.")]))
    feed = follow_blocks(open_stream)
    with pytest.raises(DatabaseDoesNotExist, match="test:1"):
        next_item(feed)


def test_a_feed_that_cannot_open_fails_at_the_call():
    open_stream, _ = scripted_opener(ReqlDriverError("Could not connect to test:1"))
    with pytest.raises(DatabaseError, match="test:1"):
        follow_blocks(open_stream)


def test_a_feed_opened_while_its_table_is_not_ready_waits_for_it(quick_backoff):
    """As right after a server restart: the table refuses feeds for a moment."""
    unavailable = ReqlOpFailedError("cannot subscribe to table `bigchain.bigchain`: primary replica for shard "
                                    "[\"\", +inf) not available")
    open_stream, calls = scripted_opener(unavailable, unavailable, ScriptedStream([block_change("a", 100.0)]))
    feed = changefeed.follow(open_stream, changefeed.block_event, FeedState(90.0), "test:1", poll_interval=0.01,
                             patience=5)
    assert calls == [(False, None)] * 3
    assert next_item(feed)["id"] == "a"
    feed.close()


def test_a_feed_gives_up_opening_after_its_patience(quick_backoff):
    open_stream, calls = scripted_opener(*[ReqlDriverError("Could not connect to test:1")] * 100)
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="test:1"):
        changefeed.follow(open_stream, changefeed.block_event, FeedState(90.0), "test:1", patience=0.2)
    assert 1 < len(calls) and time.monotonic() - started < 1


def test_admin_refuses_other_engines():
    with pytest.raises(DatabaseError, match="rethinkdb"):
        admin.set_shards(object(), 2)
    with pytest.raises(DatabaseError, match="rethinkdb"):
        admin.set_replicas(object(), 2)


# -- with a server -------------------------------------------------------------

# ``engine`` (conftest): an initialised store in a database of its own.

def a_block(number, owners_after=("owner",), metadata=None):
    tx = {"id": f"tx{number}", "version": 1, "transaction": {
        "fulfillments": [{"fid": 0, "owners_before": ["owner"], "input": None, "fulfillment": "cf:x"}],
        "conditions": [{"cid": 0, "owners_after": list(owners_after), "amount": 1, "condition": {"uri": "cc:x"}}],
        "operation": "CREATE", "asset": {"id": f"asset{number}", "data": None, "divisible": False,
                                         "updatable": False, "refillable": False},
        "metadata": metadata}}
    return {"id": f"block{number}", "signature": "sig",
            "block": {"timestamp": "1480000000", "transactions": [tx], "node_pubkey": "node", "voters": ["node"]}}


def test_a_store_made_before_the_word_index_and_the_ledger_order_is_upgraded(engine):
    block = a_block(1, metadata={"id": "m", "data": {"note": "Zebra crossing"}})
    engine.write_block(block)
    engine.run(r.db(engine.dbname).table_drop("words"))  # as an earlier version made the store
    transactions = engine.table("transactions")
    for index in schema.LATER_INDEXES["transactions"]:
        engine.run(transactions.index_drop(index))
    for index in schema.FORMER_INDEXES["transactions"]:  # what it had instead
        engine.run(transactions.index_create(index, lambda row: row["tx"]["id"]))
    assert engine.state() == "initialised" and engine.upgrade() is True
    assert sorted(engine.run(transactions.index_list())) == sorted(schema.INDEXES["transactions"])
    found, following = engine.search_page("metadata", ["zebra"], None, 10)
    assert [(tx["id"], block_id) for _, tx, block_id in found] == [("tx1", block["id"])] and following is None
    assert [tx["id"] for _, tx, _, _ in engine.outputs_page("owner", None, 10)] == ["tx1"]
    assert [tx["id"] for _, tx, _ in engine.metadata_page("m", None, 10)] == ["tx1"]
    assert [tx["id"] for _, tx, _ in engine.asset_page("asset1", "CREATE", None, 10)] == ["tx1"]
    assert engine.upgrade() is False


def test_a_search_reading_a_few_entries_at_a_time_finds_every_rank_in_order(engine, monkeypatch):
    monkeypatch.setattr(connection_module, "SEARCH_READ", 2)  # every word's range is cut short, again and again
    notes = ["red car", "car", "red", "blue", "red car", "car red", "green car", "red"]
    blocks = [a_block(n, metadata={"id": f"m{n}", "data": {"note": note}}) for n, note in enumerate(notes)]
    for block in blocks:
        engine.write_block(block)
    found, after = [], None
    for _ in range(50):
        entries, after = engine.search_page("metadata", ["red", "car"], after, 2)
        assert len(entries) <= 2
        found += [tx["id"] for _, tx, _ in entries]
        if after is None:
            break
    assert found == ["tx0", "tx4", "tx5", "tx1", "tx2", "tx6", "tx7"]


def test_init_creates_every_table_and_index(engine):
    for table, indexes in schema.INDEXES.items():
        assert sorted(engine.run(engine.table(table).index_list())) == sorted(indexes)


def test_blocks_come_back_dict_equal_however_deep(engine):
    deep = "leaf"
    for _ in range(25):  # 50 levels: deeper than the driver converts, within the protocol's 64
        deep = {"down": [deep]}
    block = a_block(1, owners_after=[["a", ["b", "c"]]], metadata={"id": "m", "data": {"deep": deep, "n": 2 ** 53 - 1}})
    engine.write_block(block)
    assert engine.get_block(block["id"]) == block
    assert "written_at" in engine.run(engine.table("bigchain").get(block["id"]))
    for owner in "abc":
        assert [(tx["id"], cid, block_id) for _, tx, block_id, cid in engine.outputs_page(owner, None, 10)] == \
            [("tx1", 0, block["id"])]


def test_write_order_is_strict_even_within_a_millisecond(engine):
    blocks = [a_block(n) for n in range(5)]
    for block in blocks:
        engine.write_block(block)
    written = [engine.run(engine.table("bigchain").get(block["id"]))["written_at"] for block in blocks]
    assert written == sorted(written) and len(set(written)) == len(written)


def written_in_parts(engine, block):
    """``write(positions)`` writes the ``transactions`` and ``words`` rows of
    ``block``'s transactions at ``positions``, ``write()`` the block itself: the
    parts ``write_block`` writes in one query but not at once (a batch of rows
    shows one by one, in no set order), each with the block's ``written_at``."""
    written_at = engine.run(schema.next_written_at(engine.table("bigchain")))
    keys, txs = schema.row_keys(block), block["block"]["transactions"]

    def write(positions=None):
        if positions is None:
            engine.run(engine.table("bigchain").insert(schema.stored(block, {"written_at": written_at})))
            return
        engine.run(engine.table("transactions").insert([
            {"id": keys[p], "block_id": block["id"], "position": p, "tx": txs[p], "written_at": written_at}
            for p in positions]))
        engine.run(engine.table("words").insert([
            dict(row, written_at=written_at) for p in positions
            for row in schema.transaction_words(keys[p], block["id"], p, txs[p])]))
    return write


def test_pages_read_no_row_of_a_block_still_being_written(engine):
    # CI saw a page list the second transaction of a block whose first one showed only later:
    # the page read the rows mid-write, and the block was there when their status was asked
    engine.write_block(a_block(1, metadata={"id": "m", "data": {"note": "zebra"}}))
    txs = [a_block(n, metadata={"id": "m", "data": {"note": "zebra"}})["block"]["transactions"][0] for n in (2, 3, 4)]
    block = dict(a_block(2), id="block2-4", block=dict(a_block(2)["block"], transactions=txs))
    write = written_in_parts(engine, block)

    def listed():
        return ([tx["id"] for _, tx, _, _ in engine.outputs_page("owner", None, 10)],
                [tx["id"] for _, tx, _ in engine.metadata_page("m", None, 10)],
                [tx["id"] for _, tx, _ in engine.asset_page("asset3", None, None, 10)],
                [tx["id"] for _, tx, _ in engine.search_page("metadata", ["zebra"], None, 10)[0]])
    for positions in ([1], [0, 2]):
        write(positions)
        assert listed() == (["tx1"], ["tx1"], [], ["tx1"])
    write()
    assert listed() == (["tx1", "tx2", "tx3", "tx4"], ["tx1", "tx2", "tx3", "tx4"], ["tx3"],
                        ["tx1", "tx2", "tx3", "tx4"])


def test_a_page_read_while_a_block_is_written_skips_nothing_before_its_last_item(engine):
    # as in CI: the page's rows are read mid-write, the rest of the block lands before
    # the node asks the block's status; the page must not list an item past one not yet seen
    node, owner = generate_key_pair(), generate_key_pair().public_key
    chain = Bigchain(engine, node.public_key, node.private_key, [])
    block = chain.create_block([create(owners_after=[owner])[0] for _ in range(3)]).to_dict()
    write = written_in_parts(engine, block)
    write([1])
    outputs_page = engine.outputs_page

    def read_then_the_write_ends(*args):
        found = outputs_page(*args)
        write([0, 2])
        write()
        return found
    engine.outputs_page = read_then_the_write_ends
    try:
        page = [item["transaction_id"] for item in chain.get_outputs_of(owner, limit=3).items]
    finally:
        del engine.outputs_page
    whole = [item["transaction_id"] for item in chain.get_outputs_of(owner).items]
    assert whole == [tx["id"] for tx in block["block"]["transactions"]]
    assert page == whole[:len(page)]


def test_a_vote_is_keyed_by_block_voter_and_signature(engine):
    vote = {"node_pubkey": "voter", "signature": "s", "vote": {
        "voting_for_block": "b", "previous_block": "g", "is_block_valid": True, "invalid_reason": None,
        "timestamp": "1"}}
    assert engine.write_vote(vote) is True
    assert engine.run(engine.table("votes").get(schema.vote_key(vote)))["node_pubkey"] == "voter"
    assert engine.write_vote(vote) is False


def recording_feed_connections(monkeypatch):
    """The driver connections change feeds open from now on."""
    opened = []
    connect_once = driver.connect_once

    def recording(*args, **kwargs):
        opened.append(connect_once(*args, **kwargs))
        return opened[-1]
    monkeypatch.setattr(driver, "connect_once", recording)
    return opened


def cut(driver_connection):
    """Break a driver connection as a network failure would (the driver's own
    close() would not do: it tells its cursors they were closed on purpose)."""
    driver_connection._instance._socket._socket.shutdown(socket.SHUT_RDWR)


def test_block_feed_survives_a_dropped_connection(engine, monkeypatch):
    opened = recording_feed_connections(monkeypatch)
    feed = engine.block_feed()
    before, during = a_block(1), a_block(2)
    engine.write_block(before)
    assert next_item(feed)["id"] == before["id"]
    cut(opened[0])
    engine.write_block(during)
    assert next_item(feed) == engine.get_block_header(during["id"])
    assert nothing_more(feed)
    assert len(opened) == 2
    feed.close()


def test_backlog_feed_survives_a_dropped_connection(engine, monkeypatch):
    opened = recording_feed_connections(monkeypatch)
    feed = engine.backlog_feed("me")
    first, second = a_block(1)["block"]["transactions"][0], a_block(2)["block"]["transactions"][0]
    engine.write_backlog(first, "me", 1)
    assert next_item(feed) == (first, 1)
    cut(opened[0])
    engine.write_backlog(second, "me", 2)
    assert next_item(feed) == (second, 2)
    assert nothing_more(feed)
    feed.close()


def test_a_store_checked_right_after_its_server_restarts_is_ready_once_the_check_returns(tmp_path):
    """What ``bigchaindb start`` meets after a power cut: the server is back but
    its tables are not ready yet; ``state`` waits until they are."""
    server = RethinkDBServer(str(tmp_path)).start()
    try:
        store = RethinkDBConnection("127.0.0.1", server.driver_port, "bigchain", connection_timeout=30)
        store.init()
        store.write_block(a_block(1))
        store.close()
        server.kill()
        server.start()
        store = RethinkDBConnection("127.0.0.1", server.driver_port, "bigchain", connection_timeout=30)
        assert store.state() == INITIALISED
        assert store.get_block(a_block(1)["id"]) == a_block(1)
        store.close()
    finally:
        server.remove()


def test_a_store_made_before_the_settings_table_is_a_sha3_256_one(engine):
    engine.run(r.db(engine.dbname).table_drop("settings"))
    assert engine.is_initialised()
    assert engine.stored_hash() == "sha3_256"


def test_floats_are_stored_as_their_8_bytes_and_read_back_as_floats(engine):
    block = a_block(1, metadata={"id": "m", "data": {"one": 1.0, "list": [2.5, -0.0], "n": 1}})
    engine.write_block(block)
    raw = engine.run(engine.table("bigchain").get(block["id"]))["block"]["transactions"][0]
    assert isinstance(raw["transaction"]["metadata"]["data"]["one"], bytes)  # not the integer 1
    assert raw["transaction"]["metadata"]["data"]["n"] == 1
    read = engine.get_block(block["id"])
    assert same_values(read, block)


# -- queries meeting faults -----------------------------------------------------

def test_retries_reconnect_once_and_wait_out_a_failover(monkeypatch):
    monkeypatch.setattr(driver, "FIRST_DELAY", 0.01)
    dropped, failing_over = ReqlDriverError("Connection is closed."), ReqlAvailabilityError("primary not available")
    retries = driver.Retries("test:1")
    assert retries.again(dropped)          # a new connection, at once
    assert not retries.again(dropped)      # which could not be opened: the server is down
    retries = driver.Retries("test:1", window=0.2)
    started = time.monotonic()
    while retries.again(failing_over):
        pass
    assert 0.1 < time.monotonic() - started <= 0.3  # backed off for the window, then gave up
    assert not driver.Retries("test:1").again(ReqlOpFailedError("Table `b.t` does not exist."))


def answer_lost_once(engine, monkeypatch):
    """Make the next query run on the server but lose its answer, as a
    connection dropped just after the write would."""
    run_once = engine._run_once

    def lose_answer(query, options, *connection_choice):
        monkeypatch.setattr(engine, "_run_once", run_once)
        run_once(query, options, *connection_choice)
        raise ReqlDriverError("Connection is closed.")
    monkeypatch.setattr(engine, "_run_once", lose_answer)


def test_a_write_run_again_after_a_lost_answer_is_done_once_and_says_so(engine, monkeypatch):
    vote = {"node_pubkey": "voter", "signature": "s", "vote": {
        "voting_for_block": "b", "previous_block": "g", "is_block_valid": True, "invalid_reason": None,
        "timestamp": "1"}}
    answer_lost_once(engine, monkeypatch)
    assert engine.write_vote(vote) is True
    assert engine.votes_for("b") == [vote]
    answer_lost_once(engine, monkeypatch)
    assert engine.mark_requeued("b") is True
    assert engine.mark_requeued("b") is False
    tx = a_block(1)["block"]["transactions"][0]
    answer_lost_once(engine, monkeypatch)
    assert engine.write_backlog(tx, "me", 1) is None
    assert engine.backlog_assigned_to("me") == [(tx, 1)]


def test_a_node_whose_server_died_says_so_at_once_and_works_when_it_is_back(tmp_path):
    server = RethinkDBServer(str(tmp_path)).start()
    try:
        connection = RethinkDBConnection("127.0.0.1", server.driver_port, "test", connection_timeout=5)
        assert connection.run(schema.written_now()) > 0
        server.kill()
        started = time.monotonic()
        with pytest.raises(DatabaseError, match=f"127.0.0.1:{server.driver_port}"):
            connection.run(schema.written_now())
        assert time.monotonic() - started < 1
        server.start()
        assert connection.run(schema.written_now()) > 0
        connection.close()
    finally:
        server.remove()


def test_reads_asked_while_one_is_on_its_way_go_to_the_server_together(engine, monkeypatch):
    for number in (1, 2):
        engine.write_block(a_block(number))
    queries, first_sent, others_waiting = [], threading.Event(), threading.Event()
    run_once = RethinkDBConnection._run_once

    def holding_the_first(self, query, options, *args, **kwargs):
        queries.append(query)
        if len(queries) == 1:  # the first read waits on its way until the others have asked theirs
            first_sent.set()
            assert others_waiting.wait(10)
        return run_once(self, query, options, *args, **kwargs)
    monkeypatch.setattr(RethinkDBConnection, "_run_once", holding_the_first)
    answers = {}

    def read(n):
        number = n % 2 + 1
        answers[n] = engine.read_many([("blocks_with_transaction", (f"tx{number}",)),
                                       ("get_block_header", (f"block{number}",))])
    threads = [threading.Thread(target=read, args=(n,)) for n in range(6)]
    threads[0].start()
    assert first_sent.wait(10)
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 10
    while len(engine._reader._queue) < 5 and time.monotonic() < deadline:  # the five others wait
        time.sleep(0.01)
    others_waiting.set()
    for thread in threads:
        thread.join(10)
    assert len(queries) == 2  # the first read, then the five others in one query
    for n, (blocks, header) in answers.items():
        assert blocks == [f"block{n % 2 + 1}"] and header["id"] == f"block{n % 2 + 1}"
    # every caller has an answer of its own, even to a read another asked too
    assert len({id(header) for _, header in answers.values()}) == 6
