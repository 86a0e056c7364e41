"""Which engines the backend suite runs on, and the store config of each.

SQLite always runs (a new file per test).  RethinkDB runs when the environment
chooses it, the way the node is configured (BIGCHAINDB_DATABASE_BACKEND=rethinkdb,
BIGCHAINDB_DATABASE_HOST, BIGCHAINDB_DATABASE_PORT), on a uniquely named
database; it skips, saying why, when no server answers.
"""

import os
import socket
import uuid

import pytest

from bigchaindb import config


def _environment_database():
    return {**config.DEFAULTS["database"], **config.from_environment(os.environ).get("database", {})}


ENGINES = ["sqlite"] + (["rethinkdb"] if _environment_database()["backend"] == "rethinkdb" else [])

ATOMIC_BACKLOG_ENGINES = {"sqlite"}
"""Engines whose write_backlog checks and writes as one atomic step; the
others check then write, as ``base.Connection.write_backlog`` allows."""


def store_config(engine, tmp_path):
    """The database section of a node's config for a fresh, uninitialised store."""
    if engine == "rethinkdb":
        return _rethinkdb_config()
    # a directory that does not exist yet: the engine must create it
    return {"backend": "sqlite", "path": str(tmp_path / "store" / "bigchaindb.sqlite")}


def _rethinkdb_config():
    database = _environment_database()
    host, port = database["host"], database["port"]
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"no RethinkDB server answers at {host}:{port}: {exc}")
    return {"backend": "rethinkdb", "host": host, "port": port,
            "name": f"test_{uuid.uuid4().hex}", "connection_timeout": 5}
