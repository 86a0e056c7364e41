"""Start a node: the web server and every pipeline, each in its own process.

The parent process only supervises: a stage that dies is logged and started
again after a pause that doubles with each death in a row (``Backoff``), so
a stage that cannot start does not spin; one that ran for a while before it
died starts over from the shortest pause.  The parent also holds the API's
listening socket (bound by ``start`` before any stage runs), so the web
stage, started again, listens on the same socket; and so for the streams
server's (``bigchaindb.streams``), a stage of its own.
The parent also makes the node's run directory (``RunDirectory``), anew at
each start: the stages write their heartbeats there and every process
counts its metrics there, for ``GET /health`` and ``GET /metrics``.
SIGTERM or SIGINT stops the node cleanly: the children get SIGTERM, the web
server finishes the requests in flight, and the parent waits for them all.
Children run in their own process group, so a Ctrl-C in the terminal
reaches only the parent, which then stops them in order; and they ask the
kernel for SIGTERM should the parent die without stopping them.
"""

import ctypes
import glob
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time

from bigchaindb import backend, health, logs, metrics
from bigchaindb.core import Bigchain
from bigchaindb.pipelines.block import BlockPipeline
from bigchaindb.pipelines.election import ElectionPipeline
from bigchaindb.pipelines.stale import StalePipeline
from bigchaindb.pipelines.vote import VotePipeline

logger = logging.getLogger(__name__)

PIPELINES = {
    "block": BlockPipeline,
    "vote": VotePipeline,
    "election": ElectionPipeline,
    "stale": StalePipeline,
}
STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
NAME_PREFIX = "bdb-"
"""Each stage's process is named ``bdb-<stage>`` (``ps -o comm``, ``top``), its gunicorn workers too."""


def run_web(config, listener_fd, run_directory):
    from bigchaindb.web.server import create_server
    create_server(config, listener_fd, run_directory).run()


def run_streams(config, listener_fd, run_directory):
    from bigchaindb.streams.server import run
    run(config, listener_fd, run_directory)


def run_pipeline(name, config, run_directory):
    connection = backend.connect(config["database"])
    bigchain = Bigchain.from_config(config, connection)
    limit = health.limit_of(config["backlog_reassign_delay"])
    options = {"max_wait": config["block"]["timeout"]} if name == "block" else {}
    PIPELINES[name](bigchain, heartbeat=health.Heartbeat(run_directory, name, limit), **options).run()


class RunDirectory:
    """This run's directory: ``metrics/`` (prometheus_client's files) and the heartbeats of ``stages``.

    A new private directory in the system's temporary directory, named
    after the supervisor's pid, removed when the node stops.  Those of
    nodes of this user that died without stopping (killed) are removed
    when the next node starts, so that they do not pile up.
    """

    PREFIX = "bigchaindb-node-"

    def __init__(self, stages):
        self.stages = list(stages)
        self._remove_leftovers()
        self.path = tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-")
        os.mkdir(metrics.directory_in(self.path))
        os.mkdir(os.path.join(self.path, health.STAGES_DIRECTORY))
        health.write_state(os.path.join(self.path, health.STAGES_FILE), self.stages)

    def _remove_leftovers(self):
        for leftover in glob.glob(os.path.join(tempfile.gettempdir(), self.PREFIX + "*")):
            pid = os.path.basename(leftover)[len(self.PREFIX):].partition("-")[0]
            try:
                mine = os.stat(leftover).st_uid == os.getuid()
            except FileNotFoundError:
                continue  # its node removed it meanwhile
            if pid.isdigit() and mine and not health.process_exists(int(pid)):
                shutil.rmtree(leftover, ignore_errors=True)

    def stage_down(self, stage, why):
        """Tell /health that ``stage`` is down, and why."""
        health.write_state(os.path.join(self.path, health.STAGES_DIRECTORY, f"{stage}.json"), {"down": why})

    def remove(self):
        shutil.rmtree(self.path, ignore_errors=True)


def _child_main(target, args, log_settings):
    """Entry point of every child: own process group, die with the parent, named after its stage."""
    os.setpgid(0, 0)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        libc.prctl(_PR_SET_NAME, (NAME_PREFIX + multiprocessing.current_process().name).encode()[:15])
    except (OSError, AttributeError):
        pass  # not Linux: the parent's clean shutdown still stops the children
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(log_settings)
    target(*args)


class Backoff:
    """How long to wait before starting a dead stage again.

    ``FIRST`` seconds after a first death, doubled after each further death
    in a row, up to ``LONGEST``; a stage that had run ``STEADY`` seconds when
    it died is a new case and waits ``FIRST`` again.
    """

    FIRST = 1.0
    LONGEST = 60.0
    STEADY = 60.0

    def __init__(self):
        self.deaths = 0

    def delay(self, uptime):
        """The pause before the next start, for a stage that died after ``uptime`` seconds."""
        if uptime >= self.STEADY:
            self.deaths = 0
        self.deaths += 1
        return min(self.FIRST * 2 ** (self.deaths - 1), self.LONGEST)


class Supervisor:
    """Runs the node's stages as child processes and keeps them running."""

    def __init__(self, config, listener, streams_listener=None):
        self.config = config
        self.listener = listener
        self.streams_listener = streams_listener
        # every stage but the web server, which reads their heartbeats for /health
        self.run_directory = RunDirectory((["streams"] if streams_listener is not None else []) + list(PIPELINES))
        metrics.count_in(metrics.directory_in(self.run_directory.path))
        path = self.run_directory.path
        self.stages = {"web": (run_web, (config, listener.fileno(), path))}
        if streams_listener is not None:
            self.stages["streams"] = (run_streams, (config, streams_listener.fileno(), path))
        self.stages.update({name: (run_pipeline, (name, config, path)) for name in PIPELINES})
        for name in self.stages:
            metrics.metrics().restarts.labels(name)  # shown from the start, at 0
        self.children = {}
        self.started_at = {}
        self.backoff = {name: Backoff() for name in self.stages}
        self.restart_at = {}  # stage -> monotonic time it is due to start again
        self.stopping = False
        self._context = multiprocessing.get_context("fork")

    def start_stage(self, name):
        target, args = self.stages[name]
        process = self._context.Process(
            target=_child_main, args=(target, args, self.config["log"]), name=name, daemon=False)
        process.start()
        self.children[name] = process
        self.started_at[name] = time.monotonic()

    def request_stop(self, signum, _frame):
        logger.info("received %s: stopping the node", signal.Signals(signum).name)
        self.stopping = True

    def run(self):
        """Start every stage and supervise until asked to stop."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        for name in self.stages:
            self.start_stage(name)
        while not self.stopping:
            time.sleep(0.2)
            self.supervise()
        self.stop()

    def supervise(self):
        """Schedule the start of every stage that died; start those whose pause is over."""
        now = time.monotonic()
        for name, process in self.children.items():
            if name in self.restart_at or process.is_alive() or self.stopping:
                continue
            uptime = now - self.started_at[name]
            pause = self.backoff[name].delay(uptime)
            logger.error("stage %s died (exit code %s) after %.1f s; restarting it in %g s (death %d in a row)",
                         name, process.exitcode, uptime, pause, self.backoff[name].deaths)
            self.restart_at[name] = now + pause
            if name in self.run_directory.stages:
                self.run_directory.stage_down(name, f"it died (exit code {process.exitcode}) after {uptime:.1f} s; "
                                                    f"restarting it in {pause:g} s")
        for name, due in list(self.restart_at.items()):
            if due <= now and not self.stopping:
                del self.restart_at[name]
                self.start_stage(name)
                metrics.metrics().restarts.labels(name).inc()

    def stop(self):
        # the web server first, so that no new transaction arrives while the
        # pipelines wind down
        order = ["web"] + [name for name in self.children if name != "web"]
        for name in order:
            process = self.children.get(name)
            if process is not None and process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for name in order:
            process = self.children[name]
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.warning("stage %s did not stop in time; killing it", name)
                process.kill()
                process.join()
        self.listener.close()
        if self.streams_listener is not None:
            self.streams_listener.close()
        self.run_directory.remove()
        logger.info("node stopped")


def start(config, listener, streams_listener=None):
    """Run the node on ``listener``, the API's bound socket (``web.server.listen``), and
    ``streams_listener``, the streams' (``bigchaindb.streams``), until stopped."""
    Supervisor(config, listener, streams_listener).run()
