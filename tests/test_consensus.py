"""The election rule of docs/protocol.md §6, case by case."""

import pytest

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.consensus import (INVALID, STUCK, UNDECIDED, VALID, block_election_outcome, block_election_status,
                                  counted_votes)
from bigchaindb.models import make_vote

BLOCK = "b" * 64
PREVIOUS = "a" * 64


@pytest.fixture(scope="module")
def nodes():
    return [generate_key_pair() for _ in range(4)]


def vote(node, valid=True, block=BLOCK, previous=PREVIOUS):
    return make_vote(block, previous, valid, None if valid else "bad", node.private_key, node.public_key)


def voters(nodes, n):
    return [node.public_key for node in nodes[:n]]


@pytest.mark.parametrize("n, valid_votes, invalid_votes, expected", [
    (1, 1, 0, VALID),
    (1, 0, 1, INVALID),
    (1, 0, 0, UNDECIDED),
    (2, 1, 0, UNDECIDED),       # valid needs more than floor(2/2) = 1
    (2, 2, 0, VALID),
    (2, 1, 1, INVALID),         # invalid needs ceil(2/2) = 1
    (3, 2, 0, VALID),
    (3, 1, 1, UNDECIDED),
    (3, 1, 2, INVALID),
    (4, 2, 1, UNDECIDED),
    (4, 3, 0, VALID),
    (4, 2, 2, INVALID),
])
def test_thresholds(nodes, n, valid_votes, invalid_votes, expected):
    cast = [vote(node, True) for node in nodes[:valid_votes]]
    cast += [vote(node, False) for node in nodes[valid_votes:valid_votes + invalid_votes]]
    assert block_election_status(BLOCK, voters(nodes, n), cast) == expected


def test_valid_votes_must_agree_on_the_previous_block(nodes):
    cast = [vote(nodes[0], previous="1" * 64), vote(nodes[1], previous="2" * 64), vote(nodes[2], previous="3" * 64)]
    assert block_election_status(BLOCK, voters(nodes, 3), cast) == UNDECIDED
    cast[1] = vote(nodes[1], previous="1" * 64)
    assert block_election_status(BLOCK, voters(nodes, 3), cast) == VALID


@pytest.mark.parametrize("n, previous, outcome", [
    (3, "123", STUCK),      # every member voted, no majority names one previous block: UNDECIDED for good
    (3, "12", UNDECIDED),   # the third vote may still agree with one of them
    (4, "1122", STUCK),     # two pairs: neither above floor(4/2)
    (4, "1123", STUCK),
    (4, "112", UNDECIDED),
])
def test_a_block_every_member_voted_on_without_a_majority_is_stuck(nodes, n, previous, outcome):
    cast = [vote(node, previous=mark * 64) for node, mark in zip(nodes, previous)]
    assert block_election_outcome(BLOCK, voters(nodes, n), cast) == outcome
    assert block_election_status(BLOCK, voters(nodes, n), cast) == UNDECIDED  # its status, all the same


def test_a_stuck_outcome_needs_every_members_counted_vote(nodes):
    split = [vote(nodes[0], previous="1" * 64), vote(nodes[1], previous="2" * 64)]
    outsider = generate_key_pair()
    forged = vote(nodes[3], previous="3" * 64)
    forged["node_pubkey"] = nodes[2].public_key  # in a member's name, not signed by it
    assert block_election_outcome(BLOCK, voters(nodes, 3), split + [vote(outsider), forged]) == UNDECIDED
    assert block_election_outcome(BLOCK, voters(nodes, 3), split + [vote(nodes[2], valid=False)]) == STUCK
    assert block_election_outcome(BLOCK, voters(nodes, 3), split + [vote(nodes[2], previous="1" * 64)]) == VALID


def test_votes_from_outsiders_are_ignored_not_counted_against(nodes):
    outsider = generate_key_pair()
    cast = [vote(nodes[0]), vote(outsider, False), vote(outsider, False)]
    assert block_election_status(BLOCK, voters(nodes, 1), cast) == VALID


def test_forged_signature_is_ignored(nodes):
    forged = vote(nodes[1], False)
    forged["signature"] = vote(nodes[1], True)["signature"]  # signs another body
    assert block_election_status(BLOCK, voters(nodes, 2), [vote(nodes[0]), forged]) == UNDECIDED


def test_one_vote_per_voter(nodes):
    cast = [vote(nodes[0]), vote(nodes[0]), vote(nodes[0])]
    assert block_election_status(BLOCK, voters(nodes, 3), cast) == UNDECIDED


def test_a_vote_for_another_block_does_not_count(nodes):
    cast = [vote(nodes[0], block="c" * 64)]
    assert block_election_status(BLOCK, voters(nodes, 1), cast) == UNDECIDED


def test_malformed_votes_are_ignored(nodes):
    cast = [{"node_pubkey": nodes[0].public_key}, {"vote": "x"}, {}, vote(nodes[0])]
    assert block_election_status(BLOCK, voters(nodes, 1), cast) == VALID


def test_a_voter_who_signs_two_votes_is_counted_by_the_first(nodes):
    first, second = vote(nodes[0], valid=False), vote(nodes[0], valid=True)
    assert block_election_status(BLOCK, voters(nodes, 1), [first, second]) == INVALID
    assert block_election_status(BLOCK, voters(nodes, 1), [second, first]) == VALID


def test_a_forged_row_in_a_voters_name_does_not_take_its_place(nodes):
    forged = vote(nodes[1], valid=False)
    forged["node_pubkey"] = nodes[0].public_key  # signed by another key
    assert block_election_status(BLOCK, voters(nodes, 1), [forged, vote(nodes[0])]) == VALID
    assert counted_votes(BLOCK, voters(nodes, 1), [forged, vote(nodes[0])]) == [vote(nodes[0])]


def test_the_electorate_not_the_votes_sets_n(nodes):
    outsiders = [generate_key_pair() for _ in range(3)]
    cast = [vote(outsider) for outsider in outsiders] + [vote(nodes[0], valid=False)]
    assert block_election_status(BLOCK, voters(nodes, 2), cast) == INVALID
