"""Start a node: the web server and every pipeline, each in its own process.

The parent process only supervises: a stage that dies is logged and started
again after a pause that doubles with each death in a row (``Backoff``), so
a stage that cannot start does not spin; one that ran for a while before it
died starts over from the shortest pause.  The parent also holds the API's
listening socket (bound by ``start`` before any stage runs), so the web
stage, started again, listens on the same socket.
SIGTERM or SIGINT stops the node cleanly: the children get SIGTERM, the web
server finishes the requests in flight, and the parent waits for them all.
Children run in their own process group, so a Ctrl-C in the terminal
reaches only the parent, which then stops them in order; and they ask the
kernel for SIGTERM should the parent die without stopping them.
"""

import ctypes
import logging
import multiprocessing
import os
import signal
import time

from bigchaindb import backend
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
LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"
STOP_TIMEOUT = 30.0
_PR_SET_PDEATHSIG = 1


def run_web(config, listener_fd):
    from bigchaindb.web.server import create_server
    create_server(config, listener_fd).run()


def run_pipeline(name, config):
    connection = backend.connect(config["database"])
    bigchain = Bigchain.from_config(config, connection)
    options = {"max_wait": config["block"]["timeout"]} if name == "block" else {}
    PIPELINES[name](bigchain, **options).run()


def _child_main(target, args, log_level):
    """Entry point of every child: own process group, die with the parent."""
    os.setpgid(0, 0)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the parent's clean shutdown still stops the children
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
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

    def __init__(self, config, listener):
        self.config = config
        self.listener = listener
        self.stages = {"web": (run_web, (config, listener.fileno()))}
        self.stages.update({name: (run_pipeline, (name, config)) for name in PIPELINES})
        self.children = {}
        self.started_at = {}
        self.backoff = {name: Backoff() for name in self.stages}
        self.restart_at = {}  # stage -> monotonic time it is due to start again
        self.stopping = False
        self._context = multiprocessing.get_context("fork")

    def start_stage(self, name):
        target, args = self.stages[name]
        process = self._context.Process(
            target=_child_main, args=(target, args, self.config["log"]["level"]), name=name, daemon=False)
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
        for name, due in list(self.restart_at.items()):
            if due <= now and not self.stopping:
                del self.restart_at[name]
                self.start_stage(name)

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
        logger.info("node stopped")


def start(config, listener):
    """Run the node on ``listener``, the API's bound socket (``web.server.listen``), until stopped."""
    Supervisor(config, listener).run()
