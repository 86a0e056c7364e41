"""Which engines the backend suite runs on, and the store config of each.

Every test of the storage interface runs on every engine: SQLite on a new
file per test, RethinkDB on a uniquely named database of the suite's own
server (``tests.rethinkdb_server``, started once per test process).  A
RethinkDB already running can be chosen instead the way the node is
configured (BIGCHAINDB_DATABASE_BACKEND=rethinkdb, BIGCHAINDB_DATABASE_HOST,
BIGCHAINDB_DATABASE_PORT).  Without either, the RethinkDB cases skip, saying why.
"""

import os
import socket
import uuid

import pytest

from bigchaindb import config

ENGINES = ["sqlite", "rethinkdb"]


def _environment_database():
    database = config.from_environment(os.environ).get("database", {})
    return {**config.DEFAULTS["database"], **database} if database.get("backend") == "rethinkdb" else None


def store_config(engine, tmp_path, request):
    """The database section of a node's config for a fresh, uninitialised store."""
    if engine == "rethinkdb":
        return {**rethinkdb_config(request), "name": f"test_{uuid.uuid4().hex}"}
    # a directory that does not exist yet: the engine must create it
    return {"backend": "sqlite", "path": str(tmp_path / "store" / "bigchaindb.sqlite")}


def rethinkdb_config(request):
    """Where the suite's RethinkDB answers: the environment's server, else the suite's own."""
    database = _environment_database()
    if database is None:
        return request.getfixturevalue("rethinkdb_server").database_config
    host, port = database["host"], database["port"]
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"no RethinkDB server answers at {host}:{port}: {exc}")
    return {"backend": "rethinkdb", "host": host, "port": port, "connection_timeout": 5}


ATOMIC_BACKLOG_ENGINES = {"sqlite"}
"""Engines whose write_backlog checks and writes as one atomic step; the
others check then write, as ``base.Connection.write_backlog`` allows."""
