"""Rows any member could write, shaped as nothing the node writes: every
query still answers (handing back what is stored), and writes go on.

The rows are written raw, as each engine keeps them (``tests.attacker``).
"""

import pytest

from tests.attacker import BACKLOG, BLOCKS, VOTES, RawStore

from .documents import any_vote, block_of, create, genesis_block, header_of, vote
from .feeds import next_item


@pytest.fixture
def raw(store_config, connection):
    return RawStore(store_config)


def test_block_rows_that_are_no_blocks_are_handed_back_as_stored(connection, raw):
    genesis = genesis_block()
    connection.write_block(genesis)
    feed = connection.block_feed()
    for n, header in enumerate(BLOCKS):
        raw.block(f"garbage-{n}", header)
    good = block_of([create()[0]])
    connection.write_block(good)
    for n, _ in enumerate(BLOCKS):
        connection.get_block(f"garbage-{n}")
        connection.get_block_header(f"garbage-{n}")
    assert connection.get_block(good["id"]) == good
    assert header_of(good) in connection.blocks_not_voted_by("voter", any_vote)
    seen = [next_item(feed) for _ in range(len(BLOCKS) + 1)]
    assert header_of(good) in seen
    assert connection.get_genesis_block() == genesis


def test_vote_rows_that_are_no_votes_are_handed_back_as_stored(connection, raw):
    feed = connection.vote_feed()
    for each in VOTES:
        raw.vote("block", "voter", each)
    real = vote("block", "voter")
    assert connection.write_vote(real) is True
    assert real in connection.votes_for("block")
    assert connection.last_vote_by("voter", lambda row: row == real) == real
    assert connection.last_vote_by("voter", any_vote) is not None
    assert real in [next_item(feed) for _ in range(len(VOTES) + 1)]


def test_backlog_rows_that_are_no_transactions_are_handed_back_as_stored(connection, raw):
    feed = connection.backlog_feed("node")
    for n, tx in enumerate(BACKLOG):
        raw.backlog(f"garbage-{n}", tx, "node", n)
    tx = create()[0]
    assert connection.write_backlog(tx, "node", 10) is None
    assert (tx, 10) in connection.backlog_assigned_to("node")
    assert (tx, 10) in [next_item(feed) for _ in range(len(BACKLOG) + 1)]
    assert {tx_id for tx_id, _ in connection.stale_backlog(100)} >= {f"garbage-{n}" for n in range(len(BACKLOG))}
    for n, _ in enumerate(BACKLOG):
        connection.get_backlog_transaction(f"garbage-{n}")


# on RethinkDB only: only it orders writes by a field of the stored documents
@pytest.mark.parametrize("store_config", ["rethinkdb"], indirect=True)
@pytest.mark.parametrize("written_at", ["x", 1e300, None, {"a": 1}])
def test_a_row_with_any_written_at_leaves_later_writes_in_order(connection, raw, written_at):
    raw.vote("block", "voter", vote("block", "voter", signature="forged"), written_at=written_at)
    raw.block("garbage", {"block": "x"}, written_at=written_at)
    votes = [vote("block", "voter", signature=f"real-{n}") for n in range(3)]
    for each in votes:
        assert connection.write_vote(each) is True
    connection.write_block(block_of([create()[0]]))
    assert connection.last_vote_by("voter", lambda row: row["signature"].startswith("real")) == votes[-1]
    assert [v for v in connection.votes_for("block") if v["signature"].startswith("real")] == votes
