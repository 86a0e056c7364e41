"""Positions in the order of writing, as the event streams use them: blocks and
votes read after a position, the position before the last rows, and the
text a client hands back (bigchaindb.streams)."""

import pytest

from .documents import block_of, create, vote


def read_all(read, position=None, batch=2):
    """Every ``(position, row)`` after ``position``, read ``batch`` at a time."""
    found = []
    while rows := read(position, batch):
        found += rows
        position = rows[-1][0]
    return found


def test_votes_are_read_after_a_position_in_the_order_written(connection):
    written = [vote(block_id, "voter") for block_id in ("b2", "b1", "b3", "b4", "b0")]
    for each in written:
        connection.write_vote(each)
    everything = read_all(connection.votes_after)
    assert [row for _, row in everything] == written
    assert [row for _, row in read_all(connection.votes_after, everything[1][0])] == written[2:]
    assert connection.votes_after(everything[-1][0], 10) == []


def test_a_position_goes_to_text_and_back(connection):
    for block in [block_of([create()[0]]) for _ in range(3)]:
        connection.write_block(block)
    connection.write_vote(vote("b1", "voter"))
    for position, _ in [*connection.blocks_after(None, 10), *connection.votes_after(None, 10)]:
        token = connection.position_token(position)
        assert isinstance(token, str) and "/" not in token and ":" not in token
        assert connection.position_from_token(token) == position
    # "0" is before everything
    assert connection.blocks_after(connection.position_from_token("0"), 10) == connection.blocks_after(None, 10)
    for token in ("", "x", "-1", "1e999", "nan", "1 2", "1~"):
        with pytest.raises(ValueError, match="not a position"):
            connection.position_from_token(token)


def test_the_block_at_a_position_is_read_again_from_the_position_before_it(connection):
    written = [block_of([create()[0]]) for _ in range(3)]
    for block in written:
        connection.write_block(block)
    positions = [position for position, _ in connection.blocks_after(None, 10)]
    again = connection.blocks_after(connection.position_before(positions[1]), 10)
    assert [block for _, block in again] == written[1:]


def test_the_position_before_the_last_rows(connection):
    assert connection.position_before_last("blocks", 0) is None
    written = [block_of([create()[0]]) for _ in range(4)]
    for block in written:
        connection.write_block(block)
    for each in ("b1", "b2"):
        connection.write_vote(vote(each, "voter"))
    assert connection.blocks_after(connection.position_before_last("blocks", 0), 10) == []
    assert [block for _, block in connection.blocks_after(connection.position_before_last("blocks", 2), 10)] \
        == written[2:]
    assert connection.position_before_last("blocks", 4) is None  # no more than that: from the start
    assert [row for _, row in connection.votes_after(connection.position_before_last("votes", 1), 10)] \
        == [vote("b2", "voter")]
