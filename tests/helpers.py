"""Running the node's HTTP server as a real process, for tests over real HTTP.

``WebNode`` writes a config, initialises a store (with its genesis block)
and serves it with ``bigchaindb.web.server`` in a subprocess on a free port.
No pipelines run: ``write_block`` puts transactions into blocks and votes
on them directly in the store, as the block and vote pipelines would.
"""

import collections
import copy
import itertools
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time

import psutil
import requests

from bigchaindb import config as bigchaindb_config
from bigchaindb.backend import connect
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from tests.openapi_check import register_node

SERVE = ("import json, sys; from bigchaindb.web.server import create_server; "
         "create_server(json.load(open(sys.argv[1]))).run()")


def _ports_of_this_worker():
    """Ports for the servers this test process starts, endlessly, in a random order.

    They lie below the kernel's ephemeral range, so no outgoing connection of
    any process takes one as its source port between a test choosing it and
    its server binding it (a port the kernel hands out with ``bind(0)`` can
    be); and each pytest-xdist worker has its own share, so two workers never
    choose the same one.
    """
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            ephemeral_low = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    share = (ephemeral_low - 10000) // max(workers, 1)
    ports = list(range(10000 + worker * share, 10000 + (worker + 1) * share))
    random.shuffle(ports)
    return itertools.cycle(ports)


_PORTS = _ports_of_this_worker()


def free_port():
    """A TCP port of this test process's share that nothing listens on right now."""
    for port in _PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def wait_until(predicate, timeout, message, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(message)


def node_environment(**variables):
    """This process's environment for a node process, plus ``variables``: without
    the ``BIGCHAINDB_*`` settings, which would override the config a test wrote
    (a user may have them set, e.g. to point the suite at a RethinkDB server)."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("BIGCHAINDB_")}
    return {**environment, **variables}


def node_config(directory, **settings):
    """A complete config: a store in ``directory``, a new keypair, 2 workers on a free port.

    ``settings`` are merged in section by section, e.g. ``server={"trusted_proxies": 1}``.
    """
    keypair = generate_key_pair()
    config = copy.deepcopy(bigchaindb_config.DEFAULTS)
    config["database"]["path"] = os.path.join(directory, "bigchaindb.sqlite")
    config["keypair"] = {"public": keypair.public_key, "private": keypair.private_key}
    config["server"].update(bind=f"127.0.0.1:{free_port()}", workers=2)
    config["streams"]["bind"] = f"127.0.0.1:{free_port()}"
    return bigchaindb_config.merge(config, settings)


def init_store(config):
    """Create the store's tables and genesis block; the node's Bigchain in this process."""
    connection = connect(config["database"])
    connection.init()
    ledger = Bigchain.from_config(config, connection)
    ledger.create_genesis_block()
    return ledger


class ServedProcess:
    """A server in a subprocess, logging to a file, ready once GET ``url`` answers 200."""

    url = None
    log_path = None
    process = None

    def launch(self, command, timeout=30, **popen_options):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, **popen_options)
        wait_until(self._answers, timeout, f"no answer on GET {self.url} (see {self.log_path})")
        return self

    def _answers(self):
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
        try:
            return requests.get(self.url, timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self, timeout=30):
        """SIGTERM (a graceful stop), then SIGKILL if it does not exit in ``timeout`` seconds."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class WebNode(ServedProcess):
    """The HTTP server of one node, in a subprocess, on a fresh store.

    ``ledger`` is a Bigchain on the same store with the node's keys, for
    tests to write blocks and votes through.
    """

    def __init__(self, directory, **settings):
        self.config = node_config(directory, **settings)
        self.config_path = os.path.join(directory, "config.json")
        self.log_path = os.path.join(directory, "server.log")
        self.url = f"http://{self.config['server']['bind']}"
        self.api = f"{self.url}/api/v1"
        self.ledger = None

    def start(self, timeout=30):
        bigchaindb_config.write_file(self.config, self.config_path)
        self.ledger = init_store(self.config)
        register_node(self.url)  # its answers are checked against the OpenAPI document
        return self.launch([sys.executable, "-c", SERVE, self.config_path], timeout)

    def stop(self, timeout=30):
        super().stop(timeout)
        self.ledger.connection.close()


def create_tx(keypair, amount=1, data=None, metadata=None):
    """A signed CREATE of a new asset (divisible when ``amount`` > 1) to ``keypair`` itself."""
    asset = Asset(data, divisible=amount > 1)
    tx = Transaction.create([keypair.public_key], [([keypair.public_key], amount)], asset=asset, metadata=metadata)
    return tx.sign([keypair.private_key])


def transfer_tx(tx, keypair, recipient):
    """A signed TRANSFER of every output of ``tx`` (all owned by ``keypair``) to ``recipient``."""
    amount = sum(c.amount for c in tx.conditions)
    asset_id = tx.asset.id
    transfer = Transaction.transfer(tx.to_inputs(), [([recipient], amount)], asset_id)
    return transfer.sign([keypair.private_key])


def write_block(ledger, transactions, valid=None):
    """Put ``transactions`` in a block of ``ledger``'s node and vote on it as that node.

    ``valid`` True or False decides the block (with a one-node federation);
    None leaves it UNDECIDED.  Like the block pipeline, it takes the
    transactions out of the backlog.
    """
    block = ledger.create_block([tx.to_dict() for tx in transactions])
    ledger.write_block(block)
    ledger.connection.delete_backlog([tx.id for tx in transactions], blocked=True)
    if valid is not None:
        reason = None if valid else "voted invalid by a test"
        ledger.connection.write_vote(ledger.vote(block.id, valid, reason))
    return block


def json_error(response, status):
    """The message of ``response``, after checking it is the JSON error ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "message"}, body
    assert body["status"] == status and body["message"], body
    return body["message"]


class CountingConnection:
    """A real storage connection that counts the calls made of each of its methods
    (and each read asked of ``read_many``).

    The store answers every call; only the counting is added, for tests that
    bound how many lookups an operation makes.
    """

    def __init__(self, connection):
        self._connection = connection
        self.calls = collections.Counter()

    def __getattr__(self, name):
        found = getattr(self._connection, name)
        if not callable(found):
            return found

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return found(*args, **kwargs)
        return counted

    def read_many(self, reads):
        """Counted as one call of ``read_many`` (one round trip) and one of each read in it."""
        self.calls["read_many"] += 1
        self.calls.update(name for name, _ in reads)
        return self._connection.read_many(reads)


def process_tree_cpu_seconds(process):
    """CPU seconds (user + system) used so far by ``process`` (a Popen) and its live descendants."""
    parent = psutil.Process(process.pid)
    total = 0.0
    for member in [parent] + parent.children(recursive=True):
        try:
            times = member.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def same_values(a, b):
    """``a == b`` with every number of the same type too, and zeros of the same sign:
    ``1.0`` is not ``1`` to a transaction's id, nor ``-0.0`` ``0.0``."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_values(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_values(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b
