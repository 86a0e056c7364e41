"""Which engines the suite runs on, and a fresh store of each for a test.

The storage interface (tests/backend), the HTTP server (tests/web) and the
real node processes (tests/integration) run on every engine: SQLite on a
new file, RethinkDB on a uniquely named database of the suite's own server
(``tests.rethinkdb_server``, started once per test process), dropped
afterwards.  A RethinkDB already running can be chosen instead the way the
node is configured (BIGCHAINDB_DATABASE_BACKEND=rethinkdb,
BIGCHAINDB_DATABASE_HOST, BIGCHAINDB_DATABASE_PORT).  Without either, the
RethinkDB cases skip, saying why (or fail, under CI's
BIGCHAINDB_TEST_REQUIRE_RETHINKDB).
"""

import contextlib
import os
import socket
import uuid

import pytest

from bigchaindb import backend, config
from bigchaindb.backend.exceptions import DatabaseError

ENGINES = ["sqlite", "rethinkdb"]


def _environment_database():
    database = config.from_environment(os.environ).get("database", {})
    return {**config.DEFAULTS["database"], **database} if database.get("backend") == "rethinkdb" else None


def store_config(engine, directory, request):
    """The database section of a node's config for a fresh, uninitialised store."""
    if engine == "rethinkdb":
        return {**rethinkdb_config(request), "name": f"test_{uuid.uuid4().hex}"}
    # a directory that does not exist yet: the engine must create it
    return {"backend": "sqlite", "path": os.path.join(str(directory), "store", "bigchaindb.sqlite")}


@contextlib.contextmanager
def fresh_store(engine, directory, request):
    """``store_config`` for the duration of a test; a RethinkDB database is
    dropped afterwards (a SQLite file goes with its directory), so that one
    server carries a whole run."""
    database = store_config(engine, directory, request)
    try:
        yield database
    finally:
        if engine == "rethinkdb":
            drop_if_present(database)


def drop_if_present(database):
    """Drop the RethinkDB database ``database`` names, if it is there and the server answers."""
    try:
        connection = backend.connect({**database, "connection_timeout": 5})
    except DatabaseError:
        return  # the server is gone (a test stopped it): nothing to clean
    try:
        connection.drop()
    except DatabaseError:
        pass  # never created, or already dropped
    finally:
        connection.close()


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
