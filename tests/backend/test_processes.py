"""Several processes on one store: a federation's nodes, or a node killed mid-flight.

Children are forked and open their own connection from the config, as a node
process does.
"""

import multiprocessing
import os
import signal
import time

from bigchaindb import backend

from .engines import ATOMIC_BACKLOG_ENGINES
from .documents import block_of, create, transfer

WRITERS = 20
fork = multiprocessing.get_context("fork")


def _post(store_config, tx, start, results):
    """Write ``tx`` to the backlog as soon as every writer is ready; report the answer."""
    conn = backend.connect(store_config)
    start.wait()
    results.put((tx["id"], conn.write_backlog(tx, "node", time.time())))
    conn.close()


def test_of_many_processes_spending_one_output_exactly_one_wins(connection, store_config):
    tx, private = create()
    connection.write_block(block_of([tx]))
    rivals = [transfer(tx, 0, private) for _ in range(WRITERS)]
    start, results = fork.Barrier(WRITERS), fork.Queue()
    workers = [fork.Process(target=_post, args=(store_config, rival, start, results)) for rival in rivals]
    for worker in workers:
        worker.start()
    answers = dict(results.get(timeout=60) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    winners = {tx_id for tx_id, conflict in answers.items() if conflict is None}
    if store_config["backend"] in ATOMIC_BACKLOG_ENGINES:
        assert len(winners) == 1
    else:  # check then write: a few may slip through, for the pipelines to catch
        assert winners
    assert set(answers.values()) - {None} <= winners  # every loser names a winner
    assert set(connection.backlog_spenders(tx["id"], 0)) == winners
    assert {entry["id"] for entry, _ in connection.backlog_assigned_to("node")} == winners


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
