"""Storage engines behind one interface (``base.Connection``).

``connect(database_config)`` opens the engine the configuration names; no
code outside this package knows which one it got.
"""

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.common.exceptions import ConfigurationError

ENGINES = ("sqlite", "rethinkdb")


def connect(database_config):
    """A connection to the engine ``database_config["backend"]`` names."""
    engine = database_config.get("backend", "sqlite")
    if engine == "sqlite":
        from bigchaindb.backend.sqlite.connection import SQLiteConnection
        return SQLiteConnection(database_config["path"])
    if engine == "rethinkdb":
        from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection
        return RethinkDBConnection(
            database_config["host"], database_config["port"], database_config["name"],
            database_config.get("connection_timeout", 30))
    raise ConfigurationError(f"unknown database backend {engine!r}; choose one of {', '.join(ENGINES)}")


__all__ = ["connect", "DatabaseError", "ENGINES"]
