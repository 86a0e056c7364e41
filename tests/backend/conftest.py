"""Fixtures: a fresh store on every engine (see ``tests.engines``)."""

import pytest

from bigchaindb import backend
from tests import engines


@pytest.fixture(params=engines.ENGINES)
def store_config(request, tmp_path):
    """The database section of a node's config for a fresh store (not yet initialised); removed afterwards."""
    with engines.fresh_store(request.param, tmp_path, request) as database:
        yield database


@pytest.fixture
def fresh_connection(store_config):
    """A connection to a store not yet initialised; closed afterwards."""
    conn = backend.connect(store_config)
    yield conn
    conn.close()


@pytest.fixture
def connection(fresh_connection):
    """A connection to an initialised, empty store."""
    fresh_connection.init()
    return fresh_connection


@pytest.fixture
def other_connection(store_config, connection):  # after ``connection``: the store exists
    """A second, independent connection to the same store as ``connection``."""
    conn = backend.connect(store_config)
    yield conn
    conn.close()
