"""The election rule: a block's status as a pure function of its votes.

The electorate is the federation as the counting node is configured (its
keyring and its own key), never the block's own ``voters``: those are chosen
by whoever wrote the block.  Anyone who can write to the shared store can
write a vote row naming any voter, so a row counts only when it is a vote
about this block, by a member of the electorate, whose signature verifies;
one per voter, the first such row in the order the rows were written.
Everything else is ignored rather than counted against the block.
"""

from bigchaindb.common.crypto import verify
from bigchaindb.common.utils import serialize

VALID, UNDECIDED, INVALID = "VALID", "UNDECIDED", "INVALID"
STUCK = "STUCK"
"""An outcome, not a status: an UNDECIDED block on which every member of the
electorate has cast the vote that counts.  No vote can change it any more
(one per voter, the first), so it stays UNDECIDED for good and holds
nothing: its transactions go back to the backlog, as an INVALID block's do.
The votes of a whole federation name different ``previous_block``s when a
block reached the nodes at different points of their chains (a write that
stalled across a RethinkDB failover: docs/federation.md)."""


def vote_is_authentic(vote):
    """True when ``vote`` (any stored row) is signed by its ``node_pubkey``, over its ``vote`` body."""
    try:
        return verify(vote["node_pubkey"], vote["signature"], serialize(vote["vote"]))
    except (KeyError, TypeError):
        return False


def is_authentic_vote_by(voter):
    """A test of stored rows: is this a vote that ``voter`` signed?"""
    def test(vote):
        return isinstance(vote, dict) and vote.get("node_pubkey") == voter and vote_is_authentic(vote)
    return test


def counted_votes(block_id, electorate, votes):
    """The votes that count for ``block_id``, in write order: of the rows
    ``votes`` (in write order), the first authentic vote on it of each member
    of ``electorate``."""
    electorate = set(electorate)
    counted = {}
    for vote in votes:
        if not isinstance(vote, dict):
            continue
        voter = vote.get("node_pubkey")
        if not isinstance(voter, str) or voter not in electorate or voter in counted:
            continue
        body = vote.get("vote")
        if not isinstance(body, dict) or body.get("voting_for_block") != block_id:
            continue
        if vote_is_authentic(vote):
            counted[voter] = vote
    return list(counted.values())


def block_election_status(block_id, electorate, votes):
    """VALID, INVALID or UNDECIDED for ``block_id`` given the stored vote rows
    ``votes`` (in write order) and the federation ``electorate`` (n = its size)."""
    return status_of(block_election_outcome(block_id, electorate, votes))


def status_of(outcome):
    """The status a block's outcome shows: a STUCK block is UNDECIDED to everyone."""
    return UNDECIDED if outcome == STUCK else outcome


def block_election_outcome(block_id, electorate, votes):
    """``block_election_status``, but STUCK rather than UNDECIDED once every
    member of ``electorate`` has a vote that counts."""
    n = len(set(electorate))
    bodies = [vote["vote"] for vote in counted_votes(block_id, electorate, votes)]
    valid = [body for body in bodies if body.get("is_block_valid") is True]
    invalid = len(bodies) - len(valid)
    if invalid >= (n + 1) // 2:
        return INVALID
    if len(valid) > n // 2:
        previous = {}
        for body in valid:
            key = body.get("previous_block")
            if isinstance(key, str):  # a signed list or object names no block (and would not hash)
                previous[key] = previous.get(key, 0) + 1
        if previous and max(previous.values()) > n // 2:
            return VALID
    return STUCK if len(bodies) == n else UNDECIDED
