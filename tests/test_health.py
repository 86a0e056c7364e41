"""The run directory and what /health makes of the heartbeats in it (the files, without a node)."""

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bigchaindb import health
from bigchaindb.processes import RunDirectory
from bigchaindb.streams.hub import Hub


def test_a_run_directory_is_new_private_and_replaces_those_of_dead_nodes():
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tempfile.mkdtemp(prefix=f"{RunDirectory.PREFIX}{int(dead.stdout)}-")
    alive = tempfile.mkdtemp(prefix=f"{RunDirectory.PREFIX}{os.getppid()}-")  # a running process's
    run = RunDirectory(["block", "vote"])
    try:
        assert not os.path.exists(leftover) and os.path.isdir(alive)
        assert os.stat(run.path).st_mode & 0o077 == 0
        assert health.stage_problems(run.path, 2) == ["stage block has not reported since it started",
                                                      "stage vote has not reported since it started"]
    finally:
        run.remove()
        os.rmdir(alive)
    assert not os.path.exists(run.path)


def test_each_stage_state_is_named_in_the_problems():
    run = RunDirectory(["block", "vote", "election", "stale"])
    try:
        health.Heartbeat(run.path, "block", 2).beat()
        health.Heartbeat(run.path, "vote", 2).beat(lag=7.5)
        run.stage_down("election", "it died (exit code 1) after 0.3 s; restarting it in 1 s")
        health.write_state(os.path.join(run.path, "stages", "stale.json"),
                           {"pid": os.getpid(), "at": time.time() - 30, "lag": 0})
        assert health.stage_problems(run.path, 2) == [
            "stage vote is 7.5 s behind (limit 2 s)",
            "stage election is down: it died (exit code 1) after 0.3 s; restarting it in 1 s",
            "stage stale has not come around for 30.0 s (limit 2 s): it is stuck"]
    finally:
        run.remove()


def test_a_beat_comes_at_most_every_quarter_of_the_limit():
    run = RunDirectory(["block"])
    try:
        heartbeat = health.Heartbeat(run.path, "block", 2)
        heartbeat.beat(lag=5)
        heartbeat.beat(lag=0)  # too soon: not written
        assert health.stage_problems(run.path, 2) == ["stage block is 5.0 s behind (limit 2 s)"]
        time.sleep(0.5)
        heartbeat.beat(lag=0)
        assert health.stage_problems(run.path, 2) == []
    finally:
        run.remove()


def test_timestamps_a_member_could_write_count_as_no_lag():
    for stamp in (None, "soon", "nan", "inf", "-inf", [1], time.time() + 60):
        assert health.seconds_since(stamp) == 0.0
    assert 9 < health.seconds_since(str(int(time.time()) - 10)) < 12
    assert health.timestamp_in({"block": "x"}, "block") is None and health.timestamp_in(None, "vote") is None


def test_a_stream_reader_that_cannot_read_is_behind_by_as_long():
    """``Hub.lag`` (what the streams stage beats with): the time since its reader last read."""
    readable = threading.Event()
    readable.set()

    class Source:  # what a hub reads: nothing new, once it may read
        def read(self):
            readable.wait()
            return []

    async def follow():
        hub = Hub("blocks", None, lambda position: Source(), None, executor)
        await hub.start()
        try:
            await asyncio.sleep(0.2)
            assert hub.lag < 0.15  # it reads every POLL s
            readable.clear()  # the store hangs
            await asyncio.sleep(0.6)
            assert 0.5 < hub.lag < 1
            readable.set()
            await asyncio.sleep(0.2)
            assert hub.lag < 0.15
        finally:
            hub.stop()
            readable.set()

    with ThreadPoolExecutor(1) as executor:
        asyncio.run(follow())
