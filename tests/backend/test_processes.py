"""Several processes on one store: a federation's nodes, or a node killed mid-flight.

Children are forked and open their own connection from the config, as a node
process does.
"""

import multiprocessing
import os
import signal
import time

from bigchaindb import backend

from .documents import block_of, create, transfer
from .engines import ATOMIC_BACKLOG_ENGINES

WRITERS = 20
fork = multiprocessing.get_context("fork")


def _call(store_config, method, args, start, answers):
    conn = backend.connect(store_config)
    start.wait()
    answers.put(getattr(conn, method)(*args))
    conn.close()


def race(store_config, method, calls):
    """Call ``method`` with each of ``calls`` (argument tuples), each in its own
    process, all at the same moment; returns their answers."""
    start, answers = fork.Barrier(len(calls)), fork.Queue()
    workers = [fork.Process(target=_call, args=(store_config, method, args, start, answers)) for args in calls]
    for worker in workers:
        worker.start()
    found = [answers.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return found


def test_of_many_processes_spending_one_output_exactly_one_wins(connection, store_config):
    tx, private = create()
    connection.write_block(block_of([tx]))
    rivals = [transfer(tx, 0, private) for _ in range(WRITERS)]
    answers = race(store_config, "write_backlog", [(rival, "node", time.time()) for rival in rivals])
    winners = connection.backlog_spenders(tx["id"], 0)
    if store_config["backend"] in ATOMIC_BACKLOG_ENGINES:
        assert len(winners) == 1
    else:  # check then write: a few may slip through, for the pipelines to catch
        assert winners
    assert answers.count(None) == len(winners)
    assert set(answers) - {None} <= set(winners)  # every loser names a winner
    assert [entry["id"] for entry, _ in connection.backlog_assigned_to("node")] == winners


def test_of_many_processes_reassigning_one_stale_entry_exactly_one_does(connection, store_config):
    """Every node's stale stage reassigns: only one may move an entry, or
    two block stages would put it in two blocks."""
    tx, _ = create()
    connection.write_backlog(tx, "dead", 1)
    rivals = [f"node{n}" for n in range(WRITERS)]
    answers = race(store_config, "reassign_backlog", [(tx["id"], rival, 10, 5) for rival in rivals])
    assert answers.count(True) == 1
    assert sum(len(connection.backlog_assigned_to(rival)) for rival in rivals) == 1


def test_a_block_written_by_many_processes_at_once_is_stored_once(connection, store_config):
    tx, private = create()
    spend = transfer(tx, 0, private)
    block = block_of([tx, spend])
    race(store_config, "write_block", [(block,)] * 8)
    assert connection.get_block(block["id"]) == block
    assert connection.blocks_with_transaction(spend["id"]) == [block["id"]]
    assert connection.spenders(tx["id"], 0) == [(spend["id"], block["id"])]


def test_of_many_election_stages_marking_a_block_requeued_one_is_first(connection, store_config):
    assert sorted(race(store_config, "mark_requeued", [("block",)] * 8)) == [False] * 7 + [True]


def _write_and_die(store_config, tx, block):
    conn = backend.connect(store_config)
    conn.write_backlog(tx, "node", 1)
    conn.write_block(block)
    os.kill(os.getpid(), signal.SIGKILL)  # no clean-up, no close: as if the node crashed


def test_a_write_that_returned_survives_the_process_being_killed(connection, store_config):
    tx, block = create()[0], block_of([create()[0]])
    child = fork.Process(target=_write_and_die, args=(store_config, tx, block))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == -signal.SIGKILL
    survivor = backend.connect(store_config)
    try:
        assert survivor.get_backlog_transaction(tx["id"]) == tx
        assert survivor.get_block(block["id"]) == block
    finally:
        survivor.close()
