"""Run real node processes (``bigchaindb start``) for integration tests.

A ``Node`` is one federation member: its own config file, keypair and
port; several share one store (a SQLite file, or a RethinkDB database) to
form a federation on one machine.
"""

import copy
import json
import os
import sys

import psutil
import requests

from bigchaindb import config as node_config
from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import ServedProcess, free_port, node_environment, wait_until
from tests.openapi_check import register_node

BIGCHAINDB = os.path.join(os.path.dirname(sys.executable), "bigchaindb")


class Node(ServedProcess):
    """``database`` is the ``database`` section of its config (see ``tests.engines``)."""

    def __init__(self, directory, name, database, keypair=None, **settings):
        self.directory = directory
        self.name = name
        self.keypair = keypair or generate_key_pair()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/v1"
        self.config_path = os.path.join(directory, f"{name}.json")
        self.log_path = os.path.join(directory, f"{name}.log")
        self.config = copy.deepcopy(node_config.DEFAULTS)
        self.config["server"].update(bind=f"127.0.0.1:{self.port}", workers=2)
        self.streams_port = free_port()
        self.streams = f"ws://127.0.0.1:{self.streams_port}/api/v1/streams"
        self.config["streams"]["bind"] = f"127.0.0.1:{self.streams_port}"
        self.config["database"].update(database)
        self.config["keypair"] = {"public": self.keypair.public_key, "private": self.keypair.private_key}
        node_config.merge(self.config, settings)
        self.process = None

    @property
    def public_key(self):
        return self.keypair.public_key

    def start(self, timeout=30):
        node_config.write_file(self.config, self.config_path)
        register_node(self.url)  # its answers are checked against the OpenAPI document
        # its own process group, as a command started in a terminal has
        return self.launch([BIGCHAINDB, "-c", self.config_path, "start"], timeout, start_new_session=True,
                           env=node_environment())

    def processes(self):
        """The supervisor and every process below it."""
        if self.process is None or self.process.poll() is not None:
            return []
        parent = psutil.Process(self.process.pid)
        return [parent] + parent.children(recursive=True)

    def stop(self, timeout=30):
        """SIGTERM, as an operator stops a node; wait for every process to exit."""
        procs = self.processes()
        super().stop(timeout)
        psutil.wait_procs(procs, timeout=timeout)

    def kill(self):
        """SIGKILL every process of the node at once, as a power cut would."""
        procs = self.processes()
        for proc in procs:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(procs, timeout=10)
        self.process.wait(10)

    # -- client side -------------------------------------------------

    def post(self, tx):
        return requests.post(f"{self.api}/transactions", data=json.dumps(tx),
                             headers={"Content-Type": "application/json"}, timeout=30)

    def status(self, tx_id):
        response = requests.get(f"{self.api}/statuses/{tx_id}", allow_redirects=False, timeout=10)
        return response.json().get("status") if response.status_code in (200, 303) else None

    def wait_for_status(self, tx_id, wanted="valid", timeout=30):
        wait_until(lambda: self.status(tx_id) == wanted, timeout,
                   f"{tx_id} did not become {wanted} on {self.name} (last: {self.status(tx_id)})")


def federation(directory, size, database, name="node", **settings):
    """``size`` nodes sharing the store ``database``, each keyring naming the others (not started),
    named ``<name>0``, ``<name>1``, ..."""
    keypairs = [generate_key_pair() for _ in range(size)]
    nodes = []
    for index, keypair in enumerate(keypairs):
        keyring = [other.public_key for other in keypairs if other is not keypair]
        nodes.append(Node(directory, f"{name}{index}", database, keypair, keyring=keyring, **settings))
    return nodes
