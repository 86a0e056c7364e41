"""The two servers a run measures, started, sampled and stopped the same way.

The node is the integration tests' ``Node`` (``bigchaindb start`` with its
own config file, port and log), or several of them sharing one store, the
tests' ``federation``: ``Nodes`` is either, measured as one target.
``Ceiling`` is a ``Node`` in every respect but the program it runs, so both
get the same config, the same readiness check (GET / answers 200), the same
process tree for RSS and the same stop.  Each names the stage of each of its
processes (``label``), so the CPU is reported by stage.

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
from bigchaindb.processes import NAME_PREFIX
from bigchaindb.web.server import create_server
from tests.integration.node import Node, federation, wait_until
from tests.rethinkdb_server import Cluster

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDED = ("worker_class", "workers", "worker_connections", "keepalive")

__all__ = ["Ceiling", "Nodes", "RethinkDBStore", "code_version", "gunicorn_settings"]


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


class Nodes:
    """``size`` nodes sharing the store ``database``, measured as one target named ``name``:
    one node of that name, or a federation (``<name>0``, ``<name>1``, ...: each with its own
    keypair and ports, its keyring naming the others).  ``keypair`` is the one node's."""

    def __init__(self, directory, name, size, database, keypair=None, **settings):
        self.name = name
        self.members = ([Node(directory, name, database, keypair, **settings)] if size == 1 else
                        federation(directory, size, database, name=name, **settings))
        first = self.members[0]
        self.config, self.url, self.streams = first.config, first.url, first.streams  # following asks any node
        self.urls = [node.url for node in self.members]

    def start(self, timeout=30):
        """One after the other: the first makes the ledger in a store that has none."""
        for node in self.members:
            node.start(timeout)
        return self

    def stop(self):
        for node in self.members:
            node.stop()

    def processes(self):
        return [process for node in self.members for process in node.processes()]

    def label(self, process):
        """``(member, stage)`` of one of ``processes()``: its node, and ``supervisor``, ``web master``,
        ``web workers`` (gunicorn's), or the pipeline or streams stage it runs (its process name)."""
        roots = {node.process.pid: node.name for node in self.members}
        member = next(roots[p.pid] for p in [process] + process.parents() if p.pid in roots)
        if process.pid in roots:
            return member, "supervisor"
        stage = process.name().removeprefix(NAME_PREFIX)
        if stage == "web":
            return member, "web workers" if process.parent().name() == process.name() else "web master"
        return member, stage


class Ceiling(Node):
    """``benchmarks.ceiling_app`` served with the gunicorn settings of this config's node."""

    @property
    def urls(self):
        return [self.url]

    def label(self, process):
        return self.name, "web master" if process.pid == self.process.pid else "web workers"

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

    @staticmethod
    def label(_process):
        return "rethinkdb", "rethinkdb"

    def remove(self):
        self.cluster.remove()
