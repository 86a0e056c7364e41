"""Real RethinkDB servers for tests: one for the suite, or a cluster of several.

Tests start the servers they use, the way they start nginx: each in a fresh
directory, on free ports, stopped by its pid.  The executable is found on
``$BIGCHAINDB_TEST_RETHINKDB``, then on PATH, then where
``../shared/rethinkdb/install.sh`` (CI) unpacks it, ``~/.local/rethinkdb-2.4.4``.
A machine without it skips the tests that need it, saying why, unless
``BIGCHAINDB_TEST_REQUIRE_RETHINKDB`` is set (CI sets it), which makes a
missing server a failure instead.

``RethinkDBServer`` is one server process; ``Cluster`` is several joined
into one cluster (``--join``), which survives the loss of a minority.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile

import psutil
import pytest

from tests.helpers import free_port, wait_until

ENVIRONMENT_BINARY = "BIGCHAINDB_TEST_RETHINKDB"
REQUIRE = "BIGCHAINDB_TEST_REQUIRE_RETHINKDB"
INSTALLED = os.path.expanduser("~/.local/rethinkdb-2.4.4/bin/rethinkdb")
SKIP_REASON = ("no RethinkDB server executable (install one, or set "
               f"{ENVIRONMENT_BINARY}; CI installs ../shared/rethinkdb)")
START_TIMEOUT = 60


def find_rethinkdb():
    """The rethinkdb executable, or None."""
    for candidate in (os.environ.get(ENVIRONMENT_BINARY), shutil.which("rethinkdb"), INSTALLED):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_rethinkdb():
    """The executable; skips the calling test (fails it under CI's requirement) when missing."""
    binary = find_rethinkdb()
    if binary is None:
        if os.environ.get(REQUIRE):
            pytest.fail(f"{REQUIRE} is set but {SKIP_REASON}")
        pytest.skip(SKIP_REASON)
    return binary


def answers(port, host="127.0.0.1"):
    """True when something accepts TCP connections on ``host:port``."""
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


class RethinkDBServer:
    """One ``rethinkdb`` process on 127.0.0.1 with its own data directory and ports.

    ``join`` is the cluster port of a server to join.  ``restart`` brings a
    stopped or killed server back on the same directory and ports, as an
    operator restarting it would.
    """

    def __init__(self, directory=None, name="rethinkdb", join=None):
        self.binary = require_rethinkdb()
        self.directory = directory or tempfile.mkdtemp(prefix="rethinkdb-")
        self.name = name
        self.join = join
        self.driver_port = free_port()
        self.cluster_port = free_port()
        self.data = os.path.join(self.directory, f"{name}-data")
        self.log_path = os.path.join(self.directory, f"{name}.log")
        self.process = None

    @property
    def database_config(self):
        """The ``database`` section of a node's config pointing at this server (no database name)."""
        return {"backend": "rethinkdb", "host": "127.0.0.1", "port": self.driver_port, "connection_timeout": 30}

    def start(self, timeout=START_TIMEOUT):
        command = [self.binary, "--bind", "127.0.0.1", "--driver-port", str(self.driver_port),
                   "--cluster-port", str(self.cluster_port), "--no-http-admin", "--no-update-check",
                   "--server-name", self.name, "--directory", self.data]
        if self.join is not None:
            command += ["--join", f"127.0.0.1:{self.join}"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until(self._ready, timeout, f"RethinkDB {self.name} did not answer on port {self.driver_port} "
                                         f"within {timeout} s (see {self.log_path})", interval=0.1)
        return self

    def _ready(self):
        if self.process.poll() is not None:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                raise RuntimeError(f"RethinkDB {self.name} exited with {self.process.returncode}:\n{log.read()}")
        return answers(self.driver_port)

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout=30):
        """SIGTERM (a clean shutdown), then SIGKILL if it takes longer than ``timeout`` seconds."""
        self._end(signal.SIGTERM, timeout)

    def kill(self):
        """SIGKILL, as a crash or a power cut would end it."""
        self._end(signal.SIGKILL, 10)

    def _end(self, signum, timeout):
        """Send ``signum``, SIGKILL after ``timeout`` seconds, then end the helpers."""
        if not self.running:
            return
        helpers = self._helpers()  # found while the server is their parent
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._end_helpers(helpers)

    def _helpers(self):
        """The processes the server forked (in sessions of their own, so not
        reached through its process group)."""
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    @staticmethod
    def _end_helpers(helpers):
        """Kill the server's forked helpers and wait until each is gone: they
        share the open file that locks the data directory, so a restart made
        while one lingers fails with "Directory ... already in use".  A zombie
        holds no files (nobody may reap an orphan here)."""
        def ended(process):
            try:
                return process.status() == psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return True
        for process in helpers:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        wait_until(lambda: all(ended(process) for process in helpers), 10,
                   "the RethinkDB server's helper processes did not end", interval=0.05)

    def restart(self, timeout=START_TIMEOUT):
        self.stop()
        return self.start(timeout)

    def remove(self):
        """Stop the server and delete its data."""
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)


class Cluster:
    """``size`` RethinkDB servers on this machine joined into one cluster."""

    def __init__(self, size=3, directory=None):
        directory = directory or tempfile.mkdtemp(prefix="rethinkdb-cluster-")
        first = RethinkDBServer(directory, "rethinkdb0")
        self.servers = [first] + [RethinkDBServer(directory, f"rethinkdb{index}", join=first.cluster_port)
                                  for index in range(1, size)]

    def start(self):
        for server in self.servers:
            server.start()
        wait_until(self._all_joined, START_TIMEOUT, "the RethinkDB servers did not join into one cluster",
                   interval=0.2)
        return self

    def _all_joined(self):
        from rethinkdb import r
        connection = r.connect("127.0.0.1", self.servers[0].driver_port)
        try:
            return r.db("rethinkdb").table("server_status").count().run(connection) == len(self.servers)
        finally:
            connection.close()

    def remove(self):
        for server in self.servers:
            server.remove()

