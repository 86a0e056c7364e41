"""Each stage driven step by step on a real store: blocks, votes, elections, stale entries."""

import json
import time

import pytest

from bigchaindb.backend import connect
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.exceptions import DuplicateTransaction
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.consensus import INVALID, STUCK, UNDECIDED, VALID
from bigchaindb.core import Bigchain
from bigchaindb.models import Block
from bigchaindb.pipelines.block import QUIET, BlockPipeline
from bigchaindb.pipelines.election import ElectionPipeline
from bigchaindb.pipelines.stale import StalePipeline
from bigchaindb.pipelines.vote import VotePipeline
from bigchaindb.streams.events import BlockSource
from tests.attacker import RawStore
from tests.helpers import CountingConnection, write_block


def backlog_ids(bigchain):
    return {tx["id"] for tx, _ in bigchain.connection.backlog_assigned_to(bigchain.me)}


def make_block_of(bigchain, txs):
    """Run the block stage once over what the backlog holds (one batch)."""
    stage = BlockPipeline(bigchain, max_wait=0)
    stage.add_all(bigchain.connection.backlog_assigned_to(bigchain.me))
    stage.close_if_due()
    return [bid for tx in txs for bid in bigchain.connection.blocks_with_transaction(tx.id)]


def settle(bigchain, txs):
    """Block the backlog and vote on the block: the transactions become valid."""
    block_ids = set(make_block_of(bigchain, txs))
    for block_id in block_ids:
        VotePipeline(bigchain).vote_on(block_id)
    return block_ids


def test_block_stage_blocks_valid_transactions_and_empties_the_backlog(bigchain, make_create):
    txs = [make_create({"i": i}) for i in range(3)]
    for tx in txs:
        bigchain.accept_transaction(tx.to_dict())
    (block_id,) = set(make_block_of(bigchain, txs))
    block = bigchain.connection.get_block(block_id)
    assert [tx["id"] for tx in block["block"]["transactions"]] == [tx.id for tx in txs]
    assert block["block"]["voters"] == [bigchain.me]
    assert backlog_ids(bigchain) == set()


def test_block_stage_closes_a_full_block_at_once(bigchain, make_create):
    stage = BlockPipeline(bigchain, max_size=2, max_wait=3600)
    txs = [make_create({"i": i}) for i in range(2)]
    for tx in txs:
        bigchain.connection.write_backlog(tx.to_dict(), bigchain.me, time.time())
        stage.add(tx.to_dict())
    stage.close_if_due()
    assert stage.transactions == []
    assert len(set(b for tx in txs for b in bigchain.connection.blocks_with_transaction(tx.id))) == 1


def test_block_stage_waits_for_max_wait(bigchain, make_create):
    stage = BlockPipeline(bigchain, max_wait=0.3)
    stage.add(make_create().to_dict())
    stage.close_if_due()
    assert len(stage.transactions) == 1
    time.sleep(0.35)
    stage.close_if_due()
    assert stage.transactions == []


def test_block_stage_drops_a_transaction_already_blocked(bigchain, make_create):
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())
    settle(bigchain, [tx])
    bigchain.connection.write_backlog(tx.to_dict(), bigchain.me, time.time())  # e.g. a crash left it there
    stage = BlockPipeline(bigchain, max_wait=0)
    stage.add(tx.to_dict())
    assert stage.transactions == []
    assert backlog_ids(bigchain) == set()


def test_block_stage_drops_a_transfer_whose_input_got_spent(bigchain, make_create, alice):
    create = make_create()
    bigchain.accept_transaction(create.to_dict())
    settle(bigchain, [create])
    first, second = (Transaction.transfer(create.to_inputs([0]), [([generate_key_pair().public_key], 1)],
                                          create.asset.id).sign([alice.private_key]) for _ in range(2))
    bigchain.accept_transaction(first.to_dict())
    settle(bigchain, [first])
    stage = BlockPipeline(bigchain, max_wait=0)
    stage.add(second.to_dict())
    assert stage.transactions == []


def test_vote_stage_votes_valid_blocks_valid(bigchain, make_create):
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())
    (block_id,) = settle(bigchain, [tx])
    (vote,) = bigchain.get_votes(block_id)
    assert vote["vote"]["is_block_valid"] is True
    assert vote["vote"]["previous_block"] == bigchain.genesis_id
    assert bigchain.block_status(block_id) == VALID
    assert bigchain.get_transaction_status(tx.id) == "valid"


def test_votes_chain_to_the_previous_vote(bigchain, make_create):
    first_ids = settle_one(bigchain, make_create())
    second_ids = settle_one(bigchain, make_create())
    (vote,) = bigchain.get_votes(second_ids)
    assert vote["vote"]["previous_block"] == first_ids


def settle_one(bigchain, tx):
    bigchain.accept_transaction(tx.to_dict())
    (block_id,) = settle(bigchain, [tx])
    return block_id


def rogue_block(bigchain, txs, creator=None):
    creator = creator or bigchain
    block = creator.create_block([tx if isinstance(tx, dict) else tx.to_dict() for tx in txs])
    bigchain.write_block(block)
    return block.id


def test_vote_stage_votes_invalid_on_a_forged_transaction(bigchain, make_create):
    forged = make_create().to_dict()
    forged["transaction"]["asset"]["data"] = {"changed": True}
    block_id = rogue_block(bigchain, [make_create(), forged])
    VotePipeline(bigchain).vote_on(block_id)
    (vote,) = bigchain.get_votes(block_id)
    assert vote["vote"]["is_block_valid"] is False
    assert "does not match" in vote["vote"]["invalid_reason"]
    assert bigchain.block_status(block_id) == INVALID


def test_vote_stage_votes_invalid_on_a_stranger_block(bigchain, make_create):
    stranger = generate_key_pair()
    outsider = Bigchain(bigchain.connection, stranger.public_key, stranger.private_key, [bigchain.me])
    block_id = rogue_block(bigchain, [make_create()], creator=outsider)
    assert VotePipeline(bigchain).invalid_reason(bigchain.connection.get_block(block_id)) == \
        f"block creator {stranger.public_key} is not a federation member"


def test_vote_stage_votes_invalid_on_a_duplicate_and_a_double_spend(bigchain, make_create, alice):
    tx = make_create()
    block_id = rogue_block(bigchain, [tx, tx])
    assert "appears twice" in VotePipeline(bigchain).invalid_reason(bigchain.connection.get_block(block_id))

    create = make_create()
    bigchain.accept_transaction(create.to_dict())
    settle(bigchain, [create])
    spends = [Transaction.transfer(create.to_inputs([0]), [([generate_key_pair().public_key], 1)],
                                   create.asset.id).sign([alice.private_key]) for _ in range(2)]
    block_id = rogue_block(bigchain, spends)
    assert "spent twice" in VotePipeline(bigchain).invalid_reason(bigchain.connection.get_block(block_id))


def test_election_requeues_an_invalid_block_once(bigchain, make_create):
    good = make_create()
    forged = make_create().to_dict()
    forged["id"] = "0" * 64
    block_id = rogue_block(bigchain, [good, forged])
    VotePipeline(bigchain).vote_on(block_id)
    election = ElectionPipeline(bigchain)
    (vote,) = bigchain.get_votes(block_id)
    election.on_vote(vote)
    assert bigchain.connection.was_requeued(block_id)
    assert good.id in backlog_ids(bigchain)
    assert bigchain.get_transaction_status(good.id) == "backlog"

    # the block stage re-validates: the good one is blocked again, the forged one dropped
    stage = BlockPipeline(bigchain, max_wait=0)
    for tx, _ in bigchain.connection.backlog_assigned_to(bigchain.me):
        stage.add(tx)
    stage.close_if_due()
    assert backlog_ids(bigchain) == set()
    assert bigchain.get_transaction_status(forged["id"]) == "invalid"

    ElectionPipeline(bigchain).on_vote(vote)  # a second election stage: no second requeue
    assert backlog_ids(bigchain) == set()


def test_a_block_stuck_undecided_gives_its_transactions_back_once(connection, make_create, alice):
    """Three members whose vote chains parted around one block, as a block
    write that stalled across a RethinkDB failover leaves them: each voted
    it valid, after a different block.  Every member has cast its vote, so
    it is UNDECIDED for good; its transaction goes back to the backlog once
    and ends up in exactly one VALID block."""
    keys = [generate_key_pair() for _ in range(3)]
    members = [Bigchain(connection, key.public_key, key.private_key,
                        [other.public_key for other in keys if other is not key]) for key in keys]
    a, b, c = members
    a.create_genesis_block()

    def block_the_backlog():
        """Every member's block stage, once; the blocks it wrote holding ``tx``."""
        before = set(connection.blocks_with_transaction(tx.id))
        for member in members:
            make_block_of(member, [tx])
        return list(set(connection.blocks_with_transaction(tx.id)) - before)
    tx = make_create({"stuck": True})
    # written seconds before its votes, as around a failover (a block of the
    # same transactions by the same node in the same second has the same id)
    stuck = Block([tx.to_dict()], a.me, a.federation, str(int(time.time()) - 10)).sign(a.me_private)
    a.write_block(stuck)
    stuck = stuck.id
    first, second = (rogue_block(a, [make_create({"i": i})]) for i in range(2))
    for member, order in ((a, [first, second, stuck]), (b, [first, stuck, second]), (c, [stuck, first, second])):
        for block_id in order:
            VotePipeline(member).vote_on(block_id)
    assert {vote["vote"]["previous_block"] for vote in a.get_votes(stuck)} == {a.genesis_id, first, second}
    assert [a.block_status(block_id) for block_id in (stuck, first, second)] == [UNDECIDED, VALID, VALID]
    assert a.block_outcome(stuck) == STUCK and a.get_transaction_status(tx.id) == "undecided"

    for member in members:  # every node's election stage sees every vote
        election = ElectionPipeline(member)
        for vote in a.get_votes(stuck):
            election.on_vote(vote)
    assert connection.was_requeued(stuck)
    (again,) = block_the_backlog()  # the block stage does not take it for a duplicate of the stuck one
    for member in members:
        VotePipeline(member).vote_on(again)
    assert a.get_transaction_status(tx.id) == "valid"
    assert [block["id"] for block in a.get_blocks_with_transaction(tx.id, VALID).items] == [again]
    assert [found["id"] for found in a.get_transactions_by_owner(alice.public_key).items].count(tx.id) == 1
    for member in members:  # no second requeue, whoever counts the votes again
        ElectionPipeline(member).on_vote(a.get_votes(stuck)[0])
    assert block_the_backlog() == []

    # the streams of decided blocks go past it, in the ledger's order, naming its status
    events = [json.loads(item.events["blocks"][0].message) for item in BlockSource(b).read()]
    assert [(event["block_id"], event["status"]) for event in events[1:]] == [
        (stuck, UNDECIDED), (first, VALID), (second, VALID), (again, VALID)]


def test_block_stage_leaves_out_what_was_reassigned_before_the_block_closed(bigchain, make_create):
    stage = BlockPipeline(bigchain, max_wait=3600)
    kept, taken = make_create({"kept": 1}), make_create({"taken": 1})
    for tx in (kept, taken):
        bigchain.connection.write_backlog(tx.to_dict(), bigchain.me, time.time() - 10)
        stage.add(tx.to_dict())
    assert bigchain.connection.reassign_backlog(taken.id, "other node", time.time(), time.time() - 5)
    stage.max_wait = 0
    stage.close_if_due()
    assert len(bigchain.connection.blocks_with_transaction(kept.id)) == 1
    assert bigchain.connection.blocks_with_transaction(taken.id) == []
    assert [tx["id"] for tx, _ in bigchain.connection.backlog_assigned_to("other node")] == [taken.id]


def test_block_stage_leaves_out_what_is_about_to_turn_stale(bigchain, make_create):
    stage = BlockPipeline(bigchain, max_wait=0)
    fresh, old = make_create({"fresh": 1}), make_create({"old": 1})
    for tx, assigned_at in ((fresh, time.time()), (old, time.time() - bigchain.backlog_reassign_delay * 0.6)):
        bigchain.connection.write_backlog(tx.to_dict(), bigchain.me, assigned_at)
        stage.add(tx.to_dict(), assigned_at)
    stage.close_if_due()
    assert len(bigchain.connection.blocks_with_transaction(fresh.id)) == 1
    assert bigchain.connection.blocks_with_transaction(old.id) == []
    assert backlog_ids(bigchain) == {old.id}  # for the stale stage to hand on


def test_block_stage_closes_a_block_when_the_feed_falls_quiet(bigchain, make_create):
    stage = BlockPipeline(bigchain, max_wait=3600)
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())

    def feed():  # an entry; nothing new at the next poll; nor for QUIET seconds
        yield tx.to_dict(), time.time()
        yield None
        time.sleep(QUIET)
        yield None
    batches = stage.batches(feed())
    batch, quiet = next(batches)
    assert [entry[0]["id"] for entry in batch] == [tx.id] and not quiet
    stage.add_all(batch)
    stage.close_if_due(quiet)
    assert stage.transactions  # a feed polled under load has nothing new for a moment after each poll
    batch, quiet = next(batches)
    assert batch == [] and quiet
    stage.close_if_due(quiet)
    assert stage.transactions == [] and len(bigchain.connection.blocks_with_transaction(tx.id)) == 1


def counting_verifications(monkeypatch):
    """The ids of the transactions whose fulfillments get verified from now on, as verified."""
    verified, verify = [], Transaction.validate_fulfillment

    def counted(tx, *args):
        verified.append(tx.id)
        return verify(tx, *args)
    monkeypatch.setattr(Transaction, "validate_fulfillment", counted)
    return verified


def test_block_stage_trusts_the_signature_check_of_its_own_web_workers(bigchain, make_create, monkeypatch):
    posted, written = make_create({"posted": 1}), make_create({"written": 1})
    bigchain.accept_transaction(posted.to_dict())  # as a web worker does: its check goes with the entry
    bigchain.connection.write_backlog(written.to_dict(), bigchain.me, time.time())  # with no check
    verified = counting_verifications(monkeypatch)
    block_ids = make_block_of(bigchain, [posted, written])
    assert len(block_ids) == 2 and len(set(block_ids)) == 1
    assert verified == [written.id]


def test_a_check_written_by_anyone_but_this_node_does_not_skip_verification(bigchain, make_create, store_config,
                                                                           monkeypatch):
    member = generate_key_pair()
    other_node = Bigchain(bigchain.connection, member.public_key, member.private_key, [bigchain.me])
    honest = make_create({"honest": 1}).to_dict()
    # the same id (it does not cover the fulfillments) with a forged signature, and this node's check of the original
    same_id = {**honest, "transaction": {**honest["transaction"], "fulfillments": [
        {**honest["transaction"]["fulfillments"][0], "fulfillment": make_create().to_dict()[
            "transaction"]["fulfillments"][0]["fulfillment"]}]}}
    forged = [(same_id, bigchain.check_of(honest))]
    for data in ({"member's own check": 1}, {"junk check": 1}, {"no check": 1}):
        tx = make_create(data).to_dict()
        tx["transaction"]["fulfillments"][0]["fulfillment"] = same_id["transaction"]["fulfillments"][0]["fulfillment"]
        forged.append((tx, {"member's own check": other_node.check_of(tx), "junk check": "0" * 64}.get(
            next(iter(data)))))
    raw = RawStore(store_config)  # rows as another member writes them, past every check of this node
    for tx, check in forged:
        raw.backlog(tx["id"], tx, bigchain.me, time.time(), check)
    verified = counting_verifications(monkeypatch)
    make_block_of(bigchain, [])
    assert [tx["id"] for tx, _ in forged if bigchain.connection.blocks_with_transaction(tx["id"])] == []
    assert sorted(verified) == sorted(tx["id"] for tx, _ in forged)
    assert backlog_ids(bigchain) == set()


def test_stale_stage_reassigns_old_entries(bigchain, make_create):
    other = generate_key_pair()
    chain = Bigchain(bigchain.connection, bigchain.me, bigchain.me_private, [other.public_key],
                     backlog_reassign_delay=0)
    tx = make_create()
    bigchain.connection.write_backlog(tx.to_dict(), bigchain.me, time.time() - 10)
    StalePipeline(chain).reassign_stale()
    assert [t["id"] for t, _ in bigchain.connection.backlog_assigned_to(other.public_key)] == [tx.id]
    assert backlog_ids(bigchain) == set()


def test_reposting_a_held_transaction_is_accepted_but_not_with_other_fulfillments(bigchain, make_create):
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())
    bigchain.accept_transaction(tx.to_dict())  # a client's retry: harmless
    assert backlog_ids(bigchain) == {tx.id}
    forged = tx.to_dict()
    forged["transaction"]["fulfillments"][0]["fulfillment"] = "cf:4:AAAA"
    with pytest.raises(DuplicateTransaction, match="other fulfillments"):
        bigchain.accept_transaction(forged)
    settle(bigchain, [tx])
    bigchain.accept_transaction(tx.to_dict())
    with pytest.raises(DuplicateTransaction):
        bigchain.accept_transaction(forged)
    assert backlog_ids(bigchain) == set()


def test_a_bad_signature_in_another_members_block_is_voted_invalid(bigchain, make_create):
    member = generate_key_pair()
    chain = Bigchain(bigchain.connection, bigchain.me, bigchain.me_private, [member.public_key])
    creator = Bigchain(bigchain.connection, member.public_key, member.private_key, [bigchain.me])
    tampered = make_create().to_dict()
    uri = tampered["transaction"]["fulfillments"][0]["fulfillment"]
    flipped = "A" if uri[-1] != "A" else "B"  # the signature's last character: the id does not cover it
    tampered["transaction"]["fulfillments"][0]["fulfillment"] = uri[:-1] + flipped
    block_id = rogue_block(chain, [tampered], creator=creator)
    reason = VotePipeline(chain).invalid_reason(chain.connection.get_block(block_id))
    assert reason is not None and "fulfillment 0" in reason


def test_a_status_read_straddling_the_move_from_backlog_to_block_finds_the_block(bigchain, make_create,
                                                                               store_config):
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())
    # the real store, with the block stage running between a reader's two looks
    store = connect(store_config)
    look_in_backlog = store.get_backlog_transaction

    def blocked_meanwhile(tx_id):
        make_block_of(bigchain, [tx])
        return look_in_backlog(tx_id)
    store.get_backlog_transaction = blocked_meanwhile
    reader = Bigchain(store, bigchain.me, bigchain.me_private)
    try:
        assert reader.get_transaction_status(tx.id) == "undecided"
        assert reader.get_held_copy(tx.id) == tx.to_dict()
    finally:
        store.close()


def test_a_transaction_that_trips_a_bug_leaves_the_backlog_instead_of_killing_the_stage(
        bigchain, make_create, monkeypatch, caplog):
    tx = make_create()
    bigchain.accept_transaction(tx.to_dict())

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")
    monkeypatch.setattr("bigchaindb.pipelines.block.validate_transaction", broken)
    stage = BlockPipeline(bigchain, max_wait=0)
    stage.add(tx.to_dict())
    assert stage.transactions == [] and backlog_ids(bigchain) == set()
    assert "could not be checked" in caplog.text


def test_a_block_that_trips_a_bug_is_voted_invalid_instead_of_killing_the_stage(
        bigchain, make_create, monkeypatch):
    block_id = rogue_block(bigchain, [make_create()])

    def broken(*args, **kwargs):
        raise ValueError("a bug")
    monkeypatch.setattr("bigchaindb.pipelines.vote.validate_transaction", broken)
    VotePipeline(bigchain).vote_on(block_id)
    (vote,) = bigchain.get_votes(block_id)
    assert vote["vote"]["is_block_valid"] is False
    assert vote["vote"]["invalid_reason"] == "block could not be checked: ValueError('a bug')"


def test_on_start_the_election_stage_catches_up_on_votes_cast_while_it_was_down(bigchain, make_create):
    settle_one(bigchain, make_create())
    good = make_create()
    forged = make_create().to_dict()
    forged["id"] = "0" * 64
    invalid_id = rogue_block(bigchain, [good, forged])
    VotePipeline(bigchain).vote_on(invalid_id)  # no election stage ran meanwhile
    settle_one(bigchain, make_create())  # and the node voted on since

    caught_up = [vote["vote"]["voting_for_block"] for vote in ElectionPipeline(bigchain).own_recent_votes()]
    assert len(caught_up) == 3 and caught_up[1] == invalid_id
    election = ElectionPipeline(bigchain)
    for vote in election.own_recent_votes():
        election.count(vote)
    assert bigchain.connection.was_requeued(invalid_id)
    assert good.id in backlog_ids(bigchain)


@pytest.mark.parametrize("voters", [[], ["outsider"], ["me", "me"], ["me", "outsider"]])
def test_vote_stage_votes_invalid_on_a_block_whose_voters_are_not_the_federation(bigchain, make_create, voters):
    outsider = generate_key_pair().public_key
    named = [bigchain.me if voter == "me" else outsider for voter in voters]
    block = Block([make_create().to_dict()], bigchain.me, named).sign(bigchain.me_private)
    bigchain.write_block(block)
    VotePipeline(bigchain).vote_on(block.id)
    (vote,) = bigchain.get_votes(block.id)
    assert vote["vote"]["is_block_valid"] is False
    assert vote["vote"]["invalid_reason"] == "block voters are not the federation"
    assert bigchain.block_status(block.id) == INVALID


def test_vote_stage_votes_once_on_a_block_even_when_asked_twice(bigchain, make_create):
    block_id = rogue_block(bigchain, [make_create()])
    stage = VotePipeline(bigchain)
    stage.vote_on(block_id)
    stage.vote_on(block_id)  # as when a block is both pending at start and on the feed
    assert len(bigchain.connection.votes_for(block_id)) == 1


def forged_transfers(bigchain, owner, count, inputs, other_voters=()):
    """``count`` TRANSFERs of ``inputs`` outputs each of one CREATE (VALID: ``bigchain`` and
    ``other_voters`` vote for it), every fulfillment forged: the right key, well formed, a
    signature over another message."""
    create = Transaction.create([owner.public_key], [([owner.public_key], 1)] * (count * inputs),
                                Asset(divisible=True)).sign([owner.private_key])
    block = write_block(bigchain, [create], valid=True)
    for voter in other_voters:
        voter.connection.write_vote(voter.vote(block.id, True))
    forged = []
    for n in range(count):
        tx = Transaction.transfer(create.to_inputs(range(n * inputs, (n + 1) * inputs)),
                                  [([owner.public_key], inputs)], create.asset.id).sign([owner.private_key])
        for ffill in tx.fulfillments:
            ffill.uri = tx.fulfillments[-1].uri
        forged.append(tx.to_dict())
    return forged


def counting(bigchain):
    """``bigchain`` on a connection that counts its calls (``.connection.calls``)."""
    return Bigchain(CountingConnection(bigchain.connection), bigchain.me, bigchain.me_private, bigchain.keyring)


def output_reads(connection):
    """How many reads of spent outputs a counting connection answered: ``get_outputs``
    (by transaction and block), or ``outputs_in_blocks`` (by transaction, where reads
    are batched)."""
    return connection.calls["get_outputs"] + connection.calls["outputs_in_blocks"]


def test_forged_many_input_transfers_leave_the_backlog_after_one_lookup_each(bigchain, alice):
    forged = forged_transfers(bigchain, alice, 3, 200)
    for tx in forged:  # as a member could write them, past any API
        assert bigchain.connection.write_backlog(tx, bigchain.me, time.time()) is None
    chain = counting(bigchain)
    stage = BlockPipeline(chain, max_wait=0)
    for tx in forged:
        stage.add(tx)
    assert stage.transactions == [] and backlog_ids(bigchain) == set()
    assert output_reads(chain.connection) == 3
    assert chain.connection.calls["get_transaction_in_block"] == 0


def test_a_member_s_block_of_forged_many_input_transfers_is_voted_invalid_after_one_lookup(bigchain, alice):
    member = generate_key_pair()
    chain = Bigchain(bigchain.connection, bigchain.me, bigchain.me_private, [member.public_key])
    creator = Bigchain(bigchain.connection, member.public_key, member.private_key, [bigchain.me])
    block_id = rogue_block(chain, forged_transfers(bigchain, alice, 3, 200, [creator]), creator=creator)
    chain = counting(chain)
    reason = VotePipeline(chain).invalid_reason(chain.connection.get_block(block_id))
    assert reason == "fulfillment 0 does not validate"
    calls = chain.connection.calls
    if chain.connection.READS_IN_BATCHES:  # the whole block's lookups read ahead: two queries
        assert calls["read_many"] == 2 and output_reads(chain.connection) == 3
    else:
        assert output_reads(chain.connection) == 1
    assert calls["get_transaction_in_block"] == 0


@pytest.fixture
def members(connection):
    """The Bigchains of a federation of three on one store, the first with the genesis block."""
    keys = [generate_key_pair() for _ in range(3)]
    chains = [Bigchain(connection, key.public_key, key.private_key,
                       [other.public_key for other in keys if other != key]) for key in keys]
    chains[0].create_genesis_block()
    return chains


def votes_in(chain, delivered):
    """``chain``'s vote stage voting on the blocks ``delivered`` (ids, in the
    order its feed delivered them, all settled): the previous block each vote names."""
    VotePipeline(chain).vote_in_turn(dict.fromkeys(delivered, time.monotonic() - 1), time.monotonic())
    return [chain.get_votes(block_id, chain.me)[0]["vote"]["previous_block"] for block_id in delivered]


def test_members_vote_in_the_order_written_whatever_order_their_feeds_delivered(members, make_create):
    """A feed that resumed (or a stage that restarted) delivers a batch in an
    order of its own: each node delivered the blocks in another order, as
    in a fresh-clone CI run, where this left blocks with three valid votes
    naming three previous blocks UNDECIDED for good.  Voting in the order
    written, every node names the same previous blocks."""
    written = [rogue_block(members[index], [make_create({"block": index})]) for index in range(3)]
    for chain, delivered in zip(members, (written, written[::-1], written[1:] + written[:1])):
        votes_in(chain, delivered)
    for block_id in written:
        assert {vote["vote"]["previous_block"] for vote in members[0].get_votes(block_id)} == {
            ([members[0].genesis_id] + written)[written.index(block_id)]}
        assert members[0].block_status(block_id) == VALID


def test_a_late_voter_joins_the_chain_the_others_voted(members, make_create):
    """Two members voted two blocks against the order written (as their feeds
    delivered two writes that committed out of that order); the third,
    behind, finds both waiting: it votes them in the order the others
    chained them, so both become VALID with its vote too."""
    written = [rogue_block(members[index], [make_create({"block": index})]) for index in range(2)]
    for chain in members[:2]:
        for block_id in written[::-1]:
            VotePipeline(chain).vote_on(block_id)
    assert votes_in(members[2], written) == [written[1], members[2].genesis_id]
    for block_id in written:
        assert len({vote["vote"]["previous_block"] for vote in members[0].get_votes(block_id)}) == 1
        assert members[0].block_status(block_id) == VALID
