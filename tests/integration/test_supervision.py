"""The supervisor: a dead stage comes back; SIGTERM and Ctrl-C stop every process."""

import os
import signal

import psutil

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from tests.helpers import wait_until


def new_tx():
    owner = generate_key_pair()
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({})).sign([owner.private_key])


def pipeline_children(node):
    """The supervisor's children that are pipelines (the web server is the one with workers)."""
    stages = []
    for child in psutil.Process(node.process.pid).children():
        try:
            if not child.children():
                stages.append(child)
        except psutil.NoSuchProcess:  # it died while we looked: it is not running
            pass
    return stages


def test_a_killed_stage_is_restarted_and_the_node_keeps_working(node):
    stages = pipeline_children(node)
    assert len(stages) == 4
    for stage in stages:
        stage.kill()
    wait_until(lambda: len(pipeline_children(node)) == 4 and not set(pipeline_children(node)) & set(stages), 15,
               "the killed stages were not restarted")
    assert "died" in node.log() and "restarting" in node.log()
    tx = new_tx()
    assert node.post(tx.to_dict()).status_code == 202
    node.wait_for_status(tx.id, "valid")


def test_sigterm_stops_every_process(node):
    processes = node.processes()
    assert len(processes) >= 7  # supervisor, 4 stages, gunicorn master and its workers
    node.process.send_signal(signal.SIGTERM)
    assert node.process.wait(30) == 0
    gone, alive = psutil.wait_procs(processes, timeout=30)
    assert alive == []
    assert "node stopped" in node.log()


def test_ctrl_c_in_the_terminal_stops_the_node_without_tracebacks(node):
    processes = node.processes()
    os.killpg(os.getpgid(node.process.pid), signal.SIGINT)  # what a terminal sends its foreground group
    assert node.process.wait(30) == 0
    gone, alive = psutil.wait_procs(processes, timeout=30)
    assert alive == []
    assert "Traceback" not in node.log()
