"""Votes, one per (block, voter), and the requeue bookkeeping of the election."""

from .documents import vote


def test_a_voter_votes_once_per_block(connection):
    first = vote("block", "voter", valid=True)
    assert connection.write_vote(first) is True
    assert connection.write_vote(vote("block", "voter", valid=False)) is False
    assert connection.write_vote(first) is False
    assert connection.votes_for("block") == [first]


def test_votes_for_a_block_are_every_voters(connection):
    votes = [vote("block", voter) for voter in ("a", "b", "c")]
    for each in votes:
        connection.write_vote(each)
    connection.write_vote(vote("other block", "a"))
    assert sorted(connection.votes_for("block"), key=lambda v: v["node_pubkey"]) == votes
    assert connection.votes_for("no such block") == []


def test_last_vote_is_the_latest_written(connection):
    assert connection.last_vote_by("voter") is None
    for block_id in ("b2", "b1", "b3"):
        connection.write_vote(vote(block_id, "voter"))
    connection.write_vote(vote("b4", "someone else"))
    assert connection.last_vote_by("voter") == vote("b3", "voter")


def test_a_block_is_marked_requeued_once(connection):
    assert connection.was_requeued("block") is False
    assert connection.mark_requeued("block") is True
    assert connection.mark_requeued("block") is False
    assert connection.was_requeued("block") is True
    assert connection.was_requeued("other block") is False
