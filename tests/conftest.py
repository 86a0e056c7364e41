"""Fixtures shared across the suite (helpers they build on are in tests/helpers.py)."""

import pytest

from bigchaindb.common.crypto import use_hash
from tests.engines import ENGINES, fresh_store
from tests.helpers import WebNode
from tests.rethinkdb_server import RethinkDBServer


@pytest.fixture(scope="module", params=ENGINES)
def web_node(request, tmp_path_factory):
    """A node's HTTP server on a fresh store, one per test module and engine (see ``tests.helpers.WebNode``)."""
    directory = tmp_path_factory.mktemp("web_node")
    with fresh_store(request.param, directory, request) as database:
        node = WebNode(str(directory), database=database).start()
        yield node
        node.stop()


@pytest.fixture(scope="session")
def rethinkdb_server(tmp_path_factory):
    """A real RethinkDB server for the whole run (one per test process); skips
    when none can be started (see ``tests.rethinkdb_server``)."""
    server = RethinkDBServer(str(tmp_path_factory.mktemp("rethinkdb"))).start()
    yield server
    server.remove()


@pytest.fixture
def keccak():
    """This test process makes its ids with Keccak-256 (the ``hash`` setting
    ``keccak_256``), as a client of such a node does; the default comes back after."""
    previous = use_hash("keccak_256")
    yield
    use_hash(previous)
