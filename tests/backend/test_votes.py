"""Votes: every row is kept (a forged one cannot take a voter's place), and
the requeue bookkeeping of the election."""

from .documents import any_vote, unless_forged, vote


def test_the_same_vote_is_stored_once(connection):
    first = vote("block", "voter", valid=True)
    assert connection.write_vote(first) is True
    assert connection.write_vote(first) is False
    assert connection.votes_for("block") == [first]


def test_a_row_naming_a_voter_does_not_keep_that_voters_other_votes_out(connection):
    forged = vote("block", "voter", valid=False, signature="forged")
    real = vote("block", "voter", valid=True)
    assert connection.write_vote(forged) is True
    assert connection.write_vote(real) is True
    assert connection.votes_for("block") == [forged, real]  # in write order


def test_votes_for_a_block_are_every_voters_in_write_order(connection):
    votes = [vote("block", voter) for voter in ("c", "a", "b")]
    for each in votes:
        connection.write_vote(each)
    connection.write_vote(vote("other block", "a"))
    assert connection.votes_for("block") == votes
    assert connection.votes_for("no such block") == []


def test_last_vote_is_the_latest_written(connection):
    assert connection.last_vote_by("voter", any_vote) is None
    for block_id in ("b2", "b1", "b3"):
        connection.write_vote(vote(block_id, "voter"))
    connection.write_vote(vote("b4", "someone else"))
    assert connection.last_vote_by("voter", any_vote) == vote("b3", "voter")


def test_last_vote_passes_over_rows_that_do_not_count(connection):
    connection.write_vote(vote("b1", "voter"))
    for n in range(250):  # more than one batch of them
        connection.write_vote(vote(f"f{n}", "voter", signature="forged"))
    assert connection.last_vote_by("voter", unless_forged) == vote("b1", "voter")
    assert connection.last_vote_by("voter", lambda row: False) is None


def test_a_block_is_marked_requeued_once(connection):
    assert connection.was_requeued("block") is False
    assert connection.mark_requeued("block") is True
    assert connection.mark_requeued("block") is False
    assert connection.was_requeued("block") is True
    assert connection.was_requeued("other block") is False
