"""The node's Prometheus metrics, counted in every process of the node and summed by ``GET /metrics``.

A node is many processes: the supervisor, gunicorn's workers, one per
pipeline stage; each counts what it does.  prometheus_client's
multiprocess mode keeps each process's counts in memory-mapped files of one
directory, the node's own (``count_in``, called by the supervisor before it
starts any stage, with a directory made anew at each start); ``exposition``
reads them all and sums them: requests answered by any worker, and those of
a worker or stage that has since died and been replaced, all count.

The metrics are made on first use (``metrics()``), so that they are made
after ``count_in`` chose where they count.  A process that never called
it (a lone web server, a stage under test) counts in its own memory.
"""

import functools
import glob
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess,
    values)

CONTENT_TYPE = CONTENT_TYPE_LATEST
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
"""Methods counted by name; any other counts as "other", so a client cannot make up label values."""

# seconds: an answer from the memory of one process, up to a block's worth of work
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
ELECTION_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600)


def directory_in(run_directory):
    """Where the processes of the node whose run directory this is count."""
    return os.path.join(run_directory, "metrics")


def count_in(directory):
    """This process, and every process it forks from now on, counts in files in ``directory``.

    prometheus_client reads its environment variable when first imported;
    its value class is chosen again here, for a process that imported it
    before (the CLI does, to start the node).
    """
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    values.ValueClass = values.get_value_class()


class Metrics:
    def __init__(self):
        self.requests = Counter("bigchaindb_http_requests", "HTTP requests answered, by route, method and status code",
                                ["route", "method", "code"])
        self.latency = Histogram("bigchaindb_http_request_duration_seconds",
                                 "Time from a request reaching the app to its answer, by route and method",
                                 ["route", "method"], buckets=LATENCY_BUCKETS)
        self.backlog = Gauge("bigchaindb_backlog_transactions",
                             "Transactions in the backlog (accepted, not yet in a block), as last counted by the "
                             "stale stage", multiprocess_mode="mostrecent")
        self.blocks = Counter("bigchaindb_blocks_written", "Blocks this node's block stage wrote")
        self.block_transactions = Counter("bigchaindb_block_transactions_written",
                                          "Transactions in the blocks this node's block stage wrote")
        self.votes = Counter("bigchaindb_votes_written", "Votes this node wrote, by verdict", ["verdict"])
        self.election_lag = Histogram("bigchaindb_election_lag_seconds",
                                      "Time from a block's timestamp to this node's election stage seeing it "
                                      "decided", buckets=ELECTION_BUCKETS)
        self.stream_subscribers = Gauge("bigchaindb_stream_subscribers",
                                        "Clients following a stream (WebSocket and server-sent events)",
                                        multiprocess_mode="mostrecent")
        self.stream_refusals = Counter("bigchaindb_stream_refusals",
                                       "Stream clients refused because streams.max_subscribers were connected")
        self.restarts = Counter("bigchaindb_stage_restarts", "Stages the supervisor started again after they died",
                                ["stage"])


@functools.cache
def metrics():
    """This process's metrics (made on first use)."""
    return Metrics()


def exposition(directory=None):
    """The text format of every process's metrics counted in ``directory``; of this process's alone if None."""
    if directory is None:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    SizedFilesCollector(registry, path=directory)
    return generate_latest(registry)


class SizedFilesCollector(multiprocess.MultiProcessCollector):
    """Sums the files of every process but those not yet sized.

    A process makes its file empty and sizes it a moment later; prometheus_client
    fails the whole scrape on an empty file (prometheus/client_python#1199), and
    one whose process was killed in that moment stays empty for good.  An empty
    file holds no count, so leaving it out loses nothing.
    """

    def collect(self):
        return self.merge([path for path in glob.glob(os.path.join(self._path, "*.db")) if _sized(path)])


def _sized(path):
    try:
        return os.path.getsize(path) > 0
    except FileNotFoundError:  # a live gauge's file, removed as its process died
        return False
