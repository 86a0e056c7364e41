"""The attacker's interface to the shared store: rows written as a federation
member (or anyone holding the store's credentials) could write them.

``RawStore`` writes rows straight into an engine, bypassing every check of
the node: raw SQL on the SQLite file, raw ReQL on RethinkDB, shaped as each
engine keeps its rows (SQLite keeps some fields in columns of their own,
RethinkDB whole documents).  ``NOT_JSON`` stands for bytes that are not
JSON at all, which only SQLite can hold; on RethinkDB it is written as a
string.
"""

import sqlite3
import time

from bigchaindb import backend
from bigchaindb.common.utils import dumps

NOT_JSON = object()
"""A stored document that is not JSON (``x``)."""


def _text(document):
    return b"x" if document is NOT_JSON else dumps(document)


class RawStore:
    """Raw rows into the store a node's ``database`` config names."""

    def __init__(self, database):
        self.database = database
        self.engine = database.get("backend", "sqlite")

    def _sql(self, statement, params):
        with sqlite3.connect(self.database["path"], timeout=30) as db:
            db.execute(statement, params)
        db.close()

    def _reql_insert(self, table, document):
        from rethinkdb import r
        connection = backend.connect(self.database)
        try:
            stamped = r.expr(document).merge({"written_at": r.now().to_epoch_time()})
            result = connection.run(connection.table(table).insert(stamped))
            assert result["inserted"] == 1, result
        finally:
            connection.close()

    def block(self, block_id, header):
        """A blocks row ``block_id`` whose header (SQLite) or document (RethinkDB) is ``header``."""
        if self.engine == "sqlite":
            self._sql("INSERT INTO blocks (id, is_genesis, header) VALUES (?, 0, ?)", (block_id, _text(header)))
        else:
            document = header if isinstance(header, dict) else {"block": "x" if header is NOT_JSON else header}
            self._reql_insert("bigchain", {**document, "id": block_id})

    def vote(self, block_id, voter, vote):
        """A votes row on ``block_id`` by ``voter`` (as the engine indexes it) holding ``vote``."""
        if self.engine == "sqlite":
            signature = vote.get("signature") if isinstance(vote, dict) else None
            self._sql("INSERT INTO votes (block_id, voter, signature, vote) VALUES (?, ?, ?, ?)",
                      (block_id, voter, str(signature), _text(vote)))
        else:
            document = vote if isinstance(vote, dict) else {"vote": "x" if vote is NOT_JSON else vote}
            self._reql_insert("votes", {**document, "id": f"raw-{time.time_ns()}"})

    def backlog(self, tx_id, tx, assignee, timestamp):
        """A backlog row ``tx_id`` holding ``tx``, assigned to ``assignee`` at ``timestamp``."""
        if self.engine == "sqlite":
            self._sql("INSERT INTO backlog (tx_id, tx, assignee, assignment_timestamp) VALUES (?, ?, ?, ?)",
                      (tx_id, _text(tx), assignee, timestamp))
        else:
            self._reql_insert("backlog", {"id": tx_id, "tx": "x" if tx is NOT_JSON else tx,
                                          "assignee": assignee, "assignment_timestamp": timestamp})
