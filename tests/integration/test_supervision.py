"""The supervisor: a dead stage comes back, after longer pauses if it keeps
dying; SIGTERM and Ctrl-C stop every process."""

import os
import re
import signal
import time

import psutil

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.processes import Backoff
from bigchaindb.common.transaction import Asset, Transaction
from tests.helpers import wait_until


def new_tx():
    owner = generate_key_pair()
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset({})).sign([owner.private_key])


STAGES = 5
"""Stages without children of their own: the four pipelines and the streams server."""


def pipeline_children(node):
    """The supervisor's children that are pipelines or the streams server (the web server is the one with workers)."""
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
    assert len(stages) == STAGES
    for stage in stages:
        stage.kill()
    wait_until(lambda: len(pipeline_children(node)) == STAGES and not set(pipeline_children(node)) & set(stages), 15,
               "the killed stages were not restarted")
    assert "died" in node.log() and "restarting" in node.log()
    tx = new_tx()
    assert node.post(tx.to_dict()).status_code == 202
    node.wait_for_status(tx.id, "valid")


def test_sigterm_stops_every_process(node):
    processes = node.processes()
    assert len(processes) >= 8  # supervisor, 5 stages, gunicorn master and its workers
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


def test_a_stage_that_keeps_dying_is_restarted_after_growing_pauses(node):
    """Killed as soon as it is back, three times: pauses of 1, 2 and 4 s, each logged once."""
    known = set(pipeline_children(node))
    victim = next(iter(known))
    pauses = []
    for _ in range(3):
        victim.kill()
        killed = time.monotonic()
        wait_until(lambda: set(pipeline_children(node)) - known, 15, "the killed stage was not restarted")
        pauses.append(time.monotonic() - killed)
        victim = (set(pipeline_children(node)) - known).pop()
        known.add(victim)
    for pause, expected in zip(pauses, (1, 2, 4)):
        assert expected - 0.1 <= pause <= expected + 1.5, pauses
    restarts = re.findall(r"stage (\w+) died \(exit code -9\) after [\d.]+ s; restarting it in (\d+) s "
                          r"\(death (\d) in a row\)", node.log())
    assert [(pause, deaths) for _, pause, deaths in restarts] == [("1", "1"), ("2", "2"), ("4", "3")]
    assert len({stage for stage, _, _ in restarts}) == 1  # the one stage, and no other, died
    tx = new_tx()
    assert node.post(tx.to_dict()).status_code == 202
    node.wait_for_status(tx.id, "valid")


def test_backoff_doubles_to_a_ceiling_and_starts_over_after_a_steady_run():
    backoff = Backoff()
    assert [backoff.delay(uptime=0.5) for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(uptime=Backoff.STEADY) == 1  # it ran fine for a while: a new case
    assert backoff.delay(uptime=Backoff.STEADY - 1) == 2
