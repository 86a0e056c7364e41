"""Cluster administration: how many shards and replicas every table has.

Used by ``bigchaindb set-shards N`` and ``bigchaindb set-replicas N``.
RethinkDB's ``reconfigure`` needs both numbers at once, so each function
keeps the other one as every table has it now, then waits until all
replicas are ready again.
"""

from rethinkdb import r

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection
from bigchaindb.backend.rethinkdb.schema import TABLES


def set_shards(connection, shards):
    """Split every table into ``shards`` shards (1 to 64, at most one per server)."""
    _reconfigure(connection, shards=shards)


def set_replicas(connection, replicas):
    """Keep ``replicas`` copies of every shard (at most one per server)."""
    _reconfigure(connection, replicas=replicas)


def _reconfigure(connection, **wanted):
    if not isinstance(connection, RethinkDBConnection):
        raise DatabaseError("shards and replicas can only be set on the rethinkdb backend")
    for name in TABLES:
        table = connection.table(name)
        shards = connection.run(table.config())["shards"]
        settings = {"shards": len(shards), "replicas": len(shards[0]["replicas"])}
        settings.update(wanted)
        connection.run(table.reconfigure(**settings), retry=False)
    connection.run(r.db(connection.dbname).wait(wait_for="all_replicas_ready"))
