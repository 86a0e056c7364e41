"""The ``connection`` fixture: a fresh, initialised store on every engine chosen.

SQLite always runs (a new file per test).  RethinkDB runs when the environment
chooses it, the way the node is configured (BIGCHAINDB_DATABASE_BACKEND=rethinkdb,
BIGCHAINDB_DATABASE_HOST, BIGCHAINDB_DATABASE_PORT), on a uniquely named
database dropped afterwards; it skips, saying why, when no server answers.
"""

import os
import socket
import uuid

import pytest

from bigchaindb import backend, config
from bigchaindb.backend.exceptions import DatabaseDoesNotExist


def _environment_database():
    return {**config.DEFAULTS["database"], **config.from_environment(os.environ).get("database", {})}


ENGINES = ["sqlite"] + (["rethinkdb"] if _environment_database()["backend"] == "rethinkdb" else [])


def _rethinkdb_config():
    database = _environment_database()
    host, port = database["host"], database["port"]
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"no RethinkDB server answers at {host}:{port}: {exc}")
    return {"backend": "rethinkdb", "host": host, "port": port,
            "name": f"test_{uuid.uuid4().hex}", "connection_timeout": 5}


@pytest.fixture(params=ENGINES)
def store_config(request, tmp_path):
    """The database section of a node's config for a fresh store (not yet initialised)."""
    if request.param == "rethinkdb":
        return _rethinkdb_config()
    # a directory that does not exist yet: the engine must create it
    return {"backend": "sqlite", "path": str(tmp_path / "store" / "bigchaindb.sqlite")}


@pytest.fixture
def fresh_connection(store_config):
    """A connection to a store not yet initialised; dropped and closed afterwards."""
    conn = backend.connect(store_config)
    yield conn
    if store_config["backend"] != "sqlite":  # the sqlite file goes with tmp_path
        try:
            conn.drop()
        except DatabaseDoesNotExist:
            pass  # never initialised, or the test dropped it itself
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
