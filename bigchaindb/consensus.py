"""The election rule: a block's status as a pure function of its votes.

With n voters, only votes whose ``node_pubkey`` is one of the block's
voters, that are about this block, and whose signature verifies count, one
per voter (the first one).  Votes from anyone else are ignored rather than
counted against the block.
"""

from bigchaindb.common.crypto import verify
from bigchaindb.common.utils import serialize

VALID, UNDECIDED, INVALID = "VALID", "UNDECIDED", "INVALID"


def vote_is_authentic(vote):
    """True when the vote's signature is its node's, over its ``vote`` body."""
    try:
        return verify(vote["node_pubkey"], vote["signature"], serialize(vote["vote"]))
    except (KeyError, TypeError):
        return False


def countable_votes(block_id, voters, votes):
    """The votes that count for ``block_id``: one authentic vote per voter."""
    voters = set(voters)
    counted = {}
    for vote in votes:
        voter = vote.get("node_pubkey")
        if voter not in voters or voter in counted:
            continue
        body = vote.get("vote")
        if not isinstance(body, dict) or body.get("voting_for_block") != block_id:
            continue
        if vote_is_authentic(vote):
            counted[voter] = body
    return list(counted.values())


def block_election_status(block_id, voters, votes):
    """VALID, INVALID or UNDECIDED for a block with ``voters`` and ``votes``."""
    n = len(voters)
    counted = countable_votes(block_id, voters, votes)
    valid = [body for body in counted if body.get("is_block_valid") is True]
    invalid = len(counted) - len(valid)
    if invalid >= (n + 1) // 2:
        return INVALID
    if len(valid) > n // 2:
        previous = {}
        for body in valid:
            previous[body.get("previous_block")] = previous.get(body.get("previous_block"), 0) + 1
        if max(previous.values()) > n // 2:
            return VALID
    return UNDECIDED
