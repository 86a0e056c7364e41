"""The two servers a run measures, started, sampled and stopped the same way.

The node is the integration tests' ``Node`` (``bigchaindb start`` with its
own config file, port and log).  ``Ceiling`` is a ``Node`` in every respect
but the program it runs, so both get the same config, the same readiness
check (GET / answers 200), the same process tree for RSS and the same stop.

``RethinkDBStore`` is where a node on the RethinkDB engine keeps its data:
one server, or a cluster of several joined servers (the test suite's own
launcher, ``tests.rethinkdb_server``) whose tables keep a replica on every
server, each in a fresh directory on free ports, removed afterwards.
"""

import os
import subprocess
import sys

import psutil

from bigchaindb import backend
from bigchaindb import config as node_config
from bigchaindb.backend.rethinkdb import admin
from bigchaindb.commands.bigchaindb import initialise
from bigchaindb.web.server import create_server
from tests.integration.node import Node, wait_until
from tests.rethinkdb_server import Cluster

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDED = ("worker_class", "workers", "worker_connections", "keepalive")

__all__ = ["Ceiling", "Node", "RethinkDBStore", "code_version", "gunicorn_settings"]


def gunicorn_settings(config):
    """The gunicorn settings that both targets run with under ``config``, for the record:
    figures of different worker classes or counts do not compare."""
    options = create_server(config).options
    return {name: options[name] for name in RECORDED if name in options}


def code_version():
    """``git describe --always --dirty`` of the repository: which code the figures are of."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Ceiling(Node):
    """``benchmarks.ceiling_app`` served with the gunicorn settings of this config's node."""

    def start(self, timeout=30):
        node_config.write_file(self.config, self.config_path)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.ceiling_app", self.config_path],
                                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        wait_until(self._answers, timeout, f"{self.name} did not answer GET / (see {self.log_path})")
        return self


class RethinkDBStore:
    """``size`` RethinkDB servers joined into one cluster in ``directory``, and
    a database on it whose tables have ``size`` replicas (the node's
    ``database`` config section is ``database_config``).  Its servers'
    processes count as the node's in the measurement: the embedded engine's
    work is done inside the node's own processes."""

    def __init__(self, directory, size=1, name="bigchain"):
        os.makedirs(directory, exist_ok=True)
        self.cluster = Cluster(size, directory)
        self.database_config = None
        self.name = name

    def start(self):
        self.cluster.start()
        self.database_config = {**self.cluster.servers[0].database_config, "name": self.name}
        return self

    def initialise(self, config):
        """Initialise the database for the node of ``config`` (tables, genesis
        block) as ``bigchaindb init`` does, and put a replica of every table
        on every server."""
        initialise(config)
        if len(self.cluster.servers) > 1:
            connection = backend.connect(self.database_config)
            try:
                admin.set_replicas(connection, len(self.cluster.servers))
            finally:
                connection.close()

    def processes(self):
        return [psutil.Process(server.process.pid) for server in self.cluster.servers if server.running]

    def remove(self):
        self.cluster.remove()
