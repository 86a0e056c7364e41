"""Blocks: the round trip, and every lookup over the transactions inside them."""

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Transaction

from .documents import (any_vote, block_of, create, genesis_block, header_of, transfer, unless_forged, valid_vectors,
                        vote)


def test_a_block_comes_back_exactly_as_written(connection):
    block = block_of(valid_vectors())
    connection.write_block(block)
    assert connection.get_block(block["id"]) == block


def test_a_header_is_the_block_without_its_transactions(connection):
    block = block_of([create()[0]], voters=["a", "b"])
    connection.write_block(block)
    assert connection.get_block_header(block["id"]) == header_of(block)


def test_unknown_blocks_are_none(connection):
    assert connection.get_block("0" * 64) is None
    assert connection.get_block_header("0" * 64) is None


def test_writing_a_block_again_changes_nothing(connection):
    tx, private = create()
    spend = transfer(tx, 0, private)
    block = block_of([tx, spend])
    connection.write_block(block)
    connection.write_block(block)
    assert connection.get_block(block["id"]) == block
    assert connection.blocks_with_transaction(spend["id"]) == [block["id"]]
    assert connection.spenders(tx["id"], 0) == [(spend["id"], block["id"])]
    assert connection.blocks_not_voted_by("voter", any_vote) == [header_of(block)]


def test_the_transactions_a_block_took_leave_the_backlog_with_its_write(connection):
    taken, kept = create()[0], create()[0]
    for tx in (taken, kept):
        connection.write_backlog(tx, "node", 1)
    block = block_of([taken])
    connection.write_block(block, taken=[taken["id"], "0" * 64])  # unknown ids are ignored
    assert connection.get_block(block["id"]) == block
    assert connection.backlog_assigned_to("node") == [(kept, 1)]
    connection.write_backlog(taken, "node", 2)  # given back by a stale stage while its block was written
    connection.write_block(block, taken=[taken["id"]])  # the block written again: the entry goes too
    assert connection.backlog_assigned_to("node") == [(kept, 1)]


def test_the_genesis_block_is_found_and_never_waits_for_votes(connection):
    genesis = genesis_block()
    block = block_of([create()[0]])
    connection.write_block(genesis)
    connection.write_block(block)
    assert connection.get_genesis_block() == genesis
    assert connection.blocks_not_voted_by("voter", any_vote) == [header_of(block)]


def test_a_block_with_one_ordinary_transaction_is_not_genesis(connection):
    connection.write_block(block_of([create()[0]]))
    assert connection.get_genesis_block() is None


def test_blocks_holding_a_transaction_come_in_the_order_written(connection):
    tx = create()[0]
    first, second = block_of([tx], timestamp="1"), block_of([create()[0], tx], timestamp="2")
    connection.write_block(first)
    connection.write_block(second)
    connection.write_block(block_of([create()[0]]))
    assert connection.blocks_with_transaction(tx["id"]) == [first["id"], second["id"]]
    assert connection.blocks_with_transaction("0" * 64) == []
    # with it as stored in each, or the outputs asked for
    assert connection.transaction_copies(tx["id"]) == [(first["id"], tx), (second["id"], tx)]
    uri = tx["transaction"]["conditions"][0]["condition"]["uri"]
    outputs = [(0, uri, 1, tx["transaction"]["asset"]["id"])]
    assert connection.outputs_in_blocks(tx["id"], [0, 3]) == [(first["id"], outputs), (second["id"], outputs)]
    assert connection.read_many([("outputs_in_blocks", (tx["id"], (3,))), ("outputs_in_blocks", (tx["id"], (0,)))]) == [
        [(first["id"], []), (second["id"], [])], [(first["id"], outputs), (second["id"], outputs)]]
    assert connection.transaction_copies("0" * 64) == connection.outputs_in_blocks("0" * 64, [0]) == []


def test_the_copies_held_of_a_transaction_are_the_backlogs_and_every_blocks(connection):
    tx = create()[0]
    assert connection.held_copies(tx["id"]) == (None, [])
    connection.write_backlog(tx, "node", 1)
    assert connection.held_copies(tx["id"]) == (tx, [])
    first, second = block_of([tx], timestamp="1"), block_of([create()[0], tx], timestamp="2")
    connection.write_block(first)
    assert connection.held_copies(tx["id"]) == (tx, [(first["id"], tx)])
    connection.write_block(second, taken=[tx["id"]])
    assert connection.held_copies(tx["id"]) == (None, [(first["id"], tx), (second["id"], tx)])
    assert connection.held_copies(tx["id"]) == (None, connection.transaction_copies(tx["id"]))


def test_a_transaction_is_read_from_the_block_named(connection):
    tx, other = create()[0], create()[0]
    block, other_block = block_of([other, tx]), block_of([other])
    connection.write_block(block)
    connection.write_block(other_block)
    assert connection.get_transaction_in_block(tx["id"], block["id"]) == tx
    assert connection.get_transaction_in_block(tx["id"], other_block["id"]) is None
    assert connection.get_transaction_in_block(tx["id"], "0" * 64) is None


def test_spenders_name_the_spending_transaction_and_its_block(connection):
    tx, private = create(amounts=(1, 1))
    spend, rival = transfer(tx, 0, private), transfer(tx, 0, private)
    first, second = block_of([tx, spend]), block_of([rival])
    connection.write_block(first)
    connection.write_block(second)
    assert connection.spenders(tx["id"], 0) == [(spend["id"], first["id"]), (rival["id"], second["id"])]
    assert connection.spenders(tx["id"], 1) == []


def test_spenders_of_many_outputs_come_in_one_answer_by_cid(connection):
    tx, private = create(amounts=(1, 1, 1, 1))
    parsed = Transaction.from_dict(tx)
    both = Transaction.transfer(parsed.to_inputs([3, 1]), [([parsed.conditions[0].owners_after[0]], 2)],
                                parsed.asset.id).sign([private]).to_dict()
    rival = transfer(tx, 1, private)
    first, second = block_of([tx, both]), block_of([rival])
    connection.write_block(first)
    connection.write_block(second)
    assert connection.spenders_of(tx["id"], [3, 2, 1, 9]) == [
        (1, both["id"], first["id"]), (1, rival["id"], second["id"]), (3, both["id"], first["id"])]
    assert connection.spenders_of(tx["id"], [0, 2]) == connection.spenders_of(tx["id"], []) == []
    assert connection.spenders(tx["id"], 1) == [(both["id"], first["id"]), (rival["id"], second["id"])]


def outputs_of(connection, owner):
    """``(tx id, cid, block id)`` of every output of ``owner``, from one page."""
    return [(tx["id"], cid, block_id) for _, tx, block_id, cid in connection.outputs_page(owner, None, 100)]


def by_metadata(connection, metadata_id):
    return [(tx, block_id) for _, tx, block_id in connection.metadata_page(metadata_id, None, 100)]


def test_outputs_are_found_by_every_owner_nested_ones_included(connection):
    alice, bob, carol = (generate_key_pair().public_key for _ in range(3))
    shared, private = create(owners_after=[[alice, bob], carol])
    block = block_of([shared])
    connection.write_block(block)
    for owner in (alice, bob, carol):
        assert outputs_of(connection, owner) == [(shared["id"], 0, block["id"])]
    assert outputs_of(connection, generate_key_pair().public_key) == []


def test_outputs_of_an_owner_span_transactions_and_blocks(connection):
    alice = generate_key_pair().public_key
    tx, private = create(owners_after=[alice], amounts=(1, 2))
    mine, theirs = create()
    given = transfer(mine, 0, theirs, recipient=alice)
    first, second = block_of([tx]), block_of([mine, given])
    connection.write_block(first)
    connection.write_block(second)
    assert outputs_of(connection, alice) == [(tx["id"], 0, first["id"]), (tx["id"], 1, first["id"]),
                                            (given["id"], 0, second["id"])]


def test_transactions_are_found_by_asset_and_operation(connection):
    tx, private = create()
    spend = transfer(tx, 0, private)
    first, second = block_of([tx]), block_of([create()[0], spend])
    connection.write_block(first)
    connection.write_block(second)
    asset_id = tx["transaction"]["asset"]["id"]
    assert connection.transactions_by_asset(asset_id) == [(tx, first["id"]), (spend, second["id"])]
    assert connection.transactions_by_asset(asset_id, "CREATE") == [(tx, first["id"])]
    assert connection.transactions_by_asset(asset_id, "TRANSFER") == [(spend, second["id"])]
    assert connection.transactions_by_asset("no-such-asset") == []


def test_transactions_are_found_by_metadata(connection):
    tagged, untagged = create(metadata={"planet": "earth"})[0], create()[0]
    block = block_of([untagged, tagged])
    connection.write_block(block)
    metadata_id = tagged["transaction"]["metadata"]["id"]
    assert by_metadata(connection, metadata_id) == [(tagged, block["id"])]
    assert by_metadata(connection, "no-such-metadata") == []


def test_blocks_not_voted_by_a_voter_come_oldest_first(connection):
    blocks = [block_of([create()[0]], timestamp=str(n)) for n in range(3)]
    for block in blocks:
        connection.write_block(block)
    connection.write_vote(vote(blocks[1]["id"], "voter"))
    connection.write_vote(vote(blocks[0]["id"], "someone else"))
    assert connection.blocks_not_voted_by("voter", any_vote) == [header_of(blocks[0]), header_of(blocks[2])]
    assert connection.blocks_not_voted_by("someone else", any_vote) == [header_of(blocks[1]), header_of(blocks[2])]


def test_a_vote_row_that_does_not_count_leaves_its_block_not_voted_on(connection):
    blocks = [block_of([create()[0]], timestamp=str(n)) for n in range(3)]
    for block in blocks:
        connection.write_block(block)
    connection.write_vote(vote(blocks[0]["id"], "voter", signature="forged"))
    connection.write_vote(vote(blocks[1]["id"], "voter", signature="forged"))
    connection.write_vote(vote(blocks[1]["id"], "voter"))  # the real one, written after a forged one
    connection.write_vote(vote(blocks[2]["id"], "voter"))
    connection.write_vote(vote(blocks[2]["id"], "voter", signature="forged"))
    assert connection.blocks_not_voted_by("voter", unless_forged) == [header_of(blocks[0])]


def test_outputs_are_read_by_cid_from_the_block_named(connection):
    tx, _ = create(amounts=(3, 1, 2))
    asset_id, uris = tx["transaction"]["asset"]["id"], [c["condition"]["uri"] for c in tx["transaction"]["conditions"]]
    block, other_block = block_of([create()[0], tx]), block_of([create()[0]])
    connection.write_block(block)
    connection.write_block(other_block)
    assert connection.get_outputs(tx["id"], block["id"], [2, 0]) == [(0, uris[0], 3, asset_id),
                                                                     (2, uris[2], 2, asset_id)]
    assert connection.get_outputs(tx["id"], block["id"], [1, 7]) == [(1, uris[1], 1, asset_id)]
    assert connection.get_outputs(tx["id"], block["id"], []) == []
    assert connection.get_outputs(tx["id"], other_block["id"], [0]) == []
    assert connection.get_outputs("0" * 64, block["id"], [0]) == []


def test_a_transfer_s_outputs_carry_the_asset_of_its_inputs(connection):
    tx, private = create()
    spend = transfer(tx, 0, private)
    block = block_of([tx, spend])
    connection.write_block(block)
    (output,) = connection.get_outputs(spend["id"], block["id"], [0])
    assert output[3] == tx["transaction"]["asset"]["id"] == spend["transaction"]["asset"]["id"]


def test_thousands_of_outputs_are_read_in_one_query(connection):
    tx, _ = create(amounts=[1] * 3000)
    block = block_of([tx])
    connection.write_block(block)
    wanted = list(range(0, 3000, 2)) + [5000]
    assert [output[0] for output in connection.get_outputs(tx["id"], block["id"], wanted)] == wanted[:-1]


def test_every_block_is_read_in_batches_in_the_order_written(connection):
    written = [block_of([create()[0]], timestamp=str(index % 2)) for index in range(7)]
    for block in written:
        connection.write_block(block)
    read, position = [], None
    while batch := connection.blocks_after(position, 3):
        assert len(batch) <= 3
        read += [block for _, block in batch]
        position = batch[-1][0]
    assert read == written
    assert connection.blocks_after(position, 3) == []


def test_outputs_of_an_owner_come_in_block_order_within_a_block(connection):
    alice = generate_key_pair().public_key
    made = [create(owners_after=[alice])[0] for _ in range(6)]
    block = block_of(made)
    connection.write_block(block)
    assert outputs_of(connection, alice) == [(tx["id"], 0, block["id"]) for tx in made]
