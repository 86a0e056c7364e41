"""The backlog: writing with the atomic double-spend refusal, reading, reassigning."""

from bigchaindb.common.transaction import Transaction

from .documents import create, transfer, valid_vectors


def spending_pair():
    """Two different transactions spending the same output."""
    tx, private = create()
    return tx, transfer(tx, 0, private), transfer(tx, 0, private)


def test_written_transaction_comes_back_equal(connection):
    tx, _ = create(metadata={"n": 1})
    assert connection.write_backlog(tx, "node", 10) is None
    assert connection.get_backlog_transaction(tx["id"]) == tx


def test_unknown_transaction_is_none(connection):
    assert connection.get_backlog_transaction("0" * 64) is None


def test_every_valid_vector_fits_in_the_backlog(connection):
    vectors = valid_vectors()
    for tx in vectors:
        assert connection.write_backlog(tx, "node", 1) is None
    for tx in vectors:
        assert connection.get_backlog_transaction(tx["id"]) == tx


def test_writing_the_same_transaction_again_is_harmless(connection):
    _, spend, _ = spending_pair()
    assert connection.write_backlog(spend, "node", 1) is None
    assert connection.write_backlog(spend, "node", 2) is None
    assert [entry for entry, _ in connection.backlog_assigned_to("node")] == [spend]


def test_second_spender_of_an_output_is_refused_with_the_first_ones_id(connection):
    create_tx, first, second = spending_pair()
    assert connection.write_backlog(first, "node", 1) is None
    assert connection.write_backlog(second, "other", 1) == first["id"]
    assert connection.get_backlog_transaction(second["id"]) is None
    assert connection.backlog_spenders(create_tx["id"], 0) == [first["id"]]


def test_spending_another_output_of_the_same_transaction_is_no_conflict(connection):
    tx, private = create(amounts=(1, 1))
    assert connection.write_backlog(transfer(tx, 0, private), "node", 1) is None
    assert connection.write_backlog(transfer(tx, 1, private), "node", 1) is None


def test_backlog_spenders_of_many_outputs_come_in_one_answer_by_cid(connection):
    tx, private = create(amounts=(1, 1, 1))
    parsed = Transaction.from_dict(tx)
    both = Transaction.transfer(parsed.to_inputs([2, 0]), [([parsed.conditions[0].owners_after[0]], 2)],
                                parsed.asset.id).sign([private]).to_dict()
    assert connection.write_backlog(both, "node", 1) is None
    assert connection.backlog_spenders_of(tx["id"], [2, 1, 0]) == [(0, both["id"]), (2, both["id"])]
    assert connection.backlog_spenders_of(tx["id"], [1]) == connection.backlog_spenders_of(tx["id"], []) == []
    assert connection.backlog_spenders(tx["id"], 2) == [both["id"]]


def test_deleting_frees_the_spent_outputs(connection):
    create_tx, first, second = spending_pair()
    connection.write_backlog(first, "node", 1)
    connection.delete_backlog([first["id"], "0" * 64])  # unknown ids are ignored
    assert connection.get_backlog_transaction(first["id"]) is None
    assert connection.backlog_spenders(create_tx["id"], 0) == []
    assert connection.write_backlog(second, "node", 1) is None


def test_assigned_entries_come_oldest_first_with_their_timestamps(connection):
    txs = [create()[0] for _ in range(3)]
    for timestamp, tx in enumerate(txs):
        connection.write_backlog(tx, "node", 100 + timestamp)
    connection.write_backlog(create()[0], "other", 1)
    assert connection.backlog_assigned_to("node") == [(tx, 100 + n) for n, tx in enumerate(txs)]
    assert connection.backlog_assigned_to("nobody") == []


def test_stale_entries_are_those_assigned_before_the_limit(connection):
    old, recent = create()[0], create()[0]
    connection.write_backlog(old, "node", 1000.5)
    connection.write_backlog(recent, "other", 2000.5)
    assert connection.stale_backlog(1500) == [(old["id"], "node")]
    assert sorted(connection.stale_backlog(3000)) == sorted([(old["id"], "node"), (recent["id"], "other")])
    assert connection.stale_backlog(1000) == []


def test_the_backlog_size_counts_entries_whoever_they_are_assigned_to(connection):
    assert connection.backlog_size() == 0
    first, second = create()[0], create()[0]
    connection.write_backlog(first, "node", 1)
    connection.write_backlog(second, "other", 2)
    connection.write_backlog(second, "other", 3)  # the same transaction again: one entry
    assert connection.backlog_size() == 2
    connection.delete_backlog([first["id"]])
    assert connection.backlog_size() == 1


def test_reassigning_moves_an_entry_to_another_node(connection):
    create_tx, first, second = spending_pair()
    connection.write_backlog(first, "node", 1)
    assert connection.reassign_backlog(first["id"], "other", 5, 2) is True
    assert connection.backlog_assigned_to("node") == []
    assert connection.backlog_assigned_to("other") == [(first, 5)]
    assert connection.stale_backlog(3) == []
    # still guarding its input
    assert connection.write_backlog(second, "node", 6) == first["id"]
    assert connection.backlog_spenders(create_tx["id"], 0) == [first["id"]]


def test_reassigning_an_unknown_entry_does_nothing(connection):
    assert connection.reassign_backlog("0" * 64, "other", 5, 2) is False
    assert connection.backlog_assigned_to("other") == []


def test_held_by_names_the_entries_still_assigned_to_a_node(connection):
    mine, moved = create()[0], create()[0]
    connection.write_backlog(mine, "node", 1)
    connection.write_backlog(moved, "node", 1)
    connection.reassign_backlog(moved["id"], "other", 2, 5)
    held = connection.backlog_held_by("node", [mine["id"], moved["id"], "0" * 64])
    assert held == [mine["id"]]
    assert connection.backlog_held_by("node", []) == []


def test_an_entry_is_reassigned_only_while_it_is_stale(connection):
    """Two stale stages that saw the same stale entry: the second finds it
    reassigned already and leaves it where the first put it."""
    tx = create()[0]
    connection.write_backlog(tx, "dead", 1)
    assert connection.reassign_backlog(tx["id"], "first", 10, 5) is True
    assert connection.reassign_backlog(tx["id"], "second", 10.5, 5) is False
    assert connection.backlog_assigned_to("first") == [(tx, 10)]
    assert connection.backlog_assigned_to("second") == []
    assert connection.reassign_backlog(tx["id"], "second", 20, 15) is True  # stale again later
    assert connection.backlog_assigned_to("second") == [(tx, 20)]

