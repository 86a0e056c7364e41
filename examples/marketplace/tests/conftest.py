"""A node and three marketplace servers (buyer, vendor, moderator), started once for the session.

Each server is its own process (``python -m marketplace``) with its own
keypair and login; the test suite plays the currency's mint, issuing coins
to the buyer, and otherwise speaks to the servers over HTTP only.
"""

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bigchaindb.client import BigchainDB
from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import ServedProcess, free_port
from tests.integration.node import Node

EXAMPLE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COINS = [250] * 16
"""What the mint issues to the buyer: several coins, so that purchases can be under way at once."""


class MarketServer(ServedProcess):
    """One participant's marketplace server; ``session`` is logged in."""

    def __init__(self, directory, name, node_url, currency, profile, keypair=None):
        self.name = name
        self.keypair = keypair or generate_key_pair()
        self.guid = self.keypair.public_key
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api = f"{self.url}/api/v1"
        self.password = f"{name}-secret"
        self.config_path = os.path.join(directory, f"{name}.json")
        self.log_path = os.path.join(directory, f"{name}.log")
        self.config = {"username": name, "password": self.password, "node": node_url, "currency": currency,
                       "keypair": {"public": self.keypair.public_key, "private": self.keypair.private_key},
                       "host": "127.0.0.1", "port": self.port, "profile": profile}
        self.session = None

    def start(self, timeout=30):
        with open(self.config_path, "w") as config_file:
            json.dump(self.config, config_file)
        environment = dict(os.environ, PYTHONPATH=EXAMPLE)
        self.launch([sys.executable, "-m", "marketplace", self.config_path], timeout, env=environment, cwd=EXAMPLE)
        self.session = requests.Session()
        login = self.session.post(f"{self.api}/login", data={"username": self.name, "password": self.password})
        assert login.json() == {"success": True}
        return self

    def _answers(self):
        """Up once it answers a login (its profile is on the ledger by then)."""
        if self.process.poll() is not None:
            raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()}")
        try:
            return requests.post(f"{self.api}/login", data={"username": "", "password": ""}, timeout=1).status_code == 401
        except requests.RequestException:
            return False

    def post(self, route, **fields):
        """POST a form to ``route``; its JSON answer, which must be a success."""
        answer = self.session.post(f"{self.api}/{route}", data=fields, timeout=60).json()
        assert answer["success"] is True, answer
        return answer

    def get(self, route, **params):
        response = self.session.get(f"{self.api}/{route}", params=params, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()


class Market:
    """The node, the mint's currency and the three participants' servers."""

    def __init__(self, directory):
        self.node = Node(directory, "node", {"backend": "sqlite", "path": os.path.join(directory, "ledger.sqlite")})
        self.mint = generate_key_pair()
        self.directory = directory
        self.bdb = None
        self.currency = None
        self.servers = []

    def start(self):
        self.node.start()
        self.bdb = BigchainDB(self.node.url)
        buyer = generate_key_pair()
        issue = self.bdb.transactions.fulfill(self.bdb.transactions.prepare(
            operation="CREATE", owners_before=self.mint.public_key,
            owners_after=[([buyer.public_key], coin) for coin in COINS],
            asset={"data": {"currency": "Test Coin", "code": "TST"}, "divisible": True}), self.mint.private_key)
        self.bdb.transactions.send(issue)
        self.currency = issue["transaction"]["asset"]["id"]  # known before it is valid: the servers start meanwhile
        self.buyer = self.server("buyer", {"name": "Bea Buyer", "handle": "@bea"}, buyer)
        self.vendor = self.server("vendor", {"name": "Vic's Records", "handle": "@vic"})
        self.moderator = self.server("moderator", {"name": "Mo Moderator", "handle": "@mo", "moderator": True})
        with ThreadPoolExecutor(len(self.servers)) as pool:  # each waits for its profile to be on the ledger
            list(pool.map(MarketServer.start, self.servers))
        self.node.wait_for_status(issue["id"])
        return self

    def server(self, name, profile, keypair=None):
        made = MarketServer(self.directory, name, self.node.url, self.currency, profile, keypair)
        self.servers.append(made)
        return made

    def stop(self):
        for server in self.servers:
            server.stop()
        self.node.stop()


@pytest.fixture(scope="session")
def market(tmp_path_factory):
    started = Market(str(tmp_path_factory.mktemp("marketplace"))).start()
    yield started
    started.stop()
