"""A store on the suite's RethinkDB server (see ``tests.engines``)."""

import pytest

from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection
from tests import engines


@pytest.fixture
def engine(request, tmp_path):
    """An initialised store in a database of its own, dropped afterwards."""
    with engines.fresh_store("rethinkdb", tmp_path, request) as database:
        connection = RethinkDBConnection(database["host"], database["port"], database["name"], connection_timeout=5)
        connection.init()
        yield connection
        connection.close()
