"""Change feeds: what was written after the call, in order, across connections."""

import time

from .documents import block_of, create, header_of, vote
from .feeds import next_item


def test_an_idle_feed_yields_none_soon(connection):
    feed = connection.backlog_feed("node")
    started = time.monotonic()
    assert next(feed) is None
    assert time.monotonic() - started < 2


def test_backlog_feed_sees_entries_written_after_the_call_in_order(connection):
    before, *after = (create()[0] for _ in range(3))
    connection.write_backlog(before, "node", 1)
    feed = connection.backlog_feed("node")
    for timestamp, tx in enumerate(after):
        connection.write_backlog(tx, "node", timestamp)
    assert [next_item(feed) for _ in after] == [(tx, timestamp) for timestamp, tx in enumerate(after)]


def test_backlog_feed_sees_only_its_assignees_entries(connection):
    feed = connection.backlog_feed("node")
    mine, theirs = create()[0], create()[0]
    connection.write_backlog(theirs, "other", 1)
    connection.write_backlog(mine, "node", 2)
    assert next_item(feed) == (mine, 2)


def test_backlog_feed_sees_an_entry_reassigned_to_its_node(connection):
    tx = create()[0]
    connection.write_backlog(tx, "other", 1)
    feed = connection.backlog_feed("node")
    connection.reassign_backlog(tx["id"], "node", 7, 2)
    assert next_item(feed) == (tx, 7)


def test_block_feed_yields_the_headers_of_new_blocks(connection):
    connection.write_block(block_of([create()[0]]))
    feed = connection.block_feed()
    blocks = [block_of([create()[0]]) for _ in range(2)]
    for block in blocks:
        connection.write_block(block)
    assert [next_item(feed) for _ in blocks] == [header_of(block) for block in blocks]


def test_vote_feed_yields_new_votes(connection):
    connection.write_vote(vote("old block", "voter"))
    feed = connection.vote_feed()
    votes = [vote("block", voter) for voter in ("a", "b")]
    for each in votes:
        connection.write_vote(each)
    assert [next_item(feed) for _ in votes] == votes


def test_feeds_see_what_another_connection_writes(connection, other_connection):
    backlog, blocks, votes = (other_connection.backlog_feed("node"), other_connection.block_feed(),
                              other_connection.vote_feed())
    tx, block, cast = create()[0], block_of([create()[0]]), vote("block", "voter")
    connection.write_backlog(tx, "node", 3)
    connection.write_block(block)
    connection.write_vote(cast)
    assert next_item(backlog) == (tx, 3)
    assert next_item(blocks) == header_of(block)
    assert next_item(votes) == cast
