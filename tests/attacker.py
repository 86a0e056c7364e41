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

BLOCKS = ["x", NOT_JSON, {"signature": "s"}, {"block": "x"}, {"block": {"voters": "x"}},
          {"block": {"timestamp": ["x"], "transactions": "x"}}]
"""Headers (SQLite) or documents (RethinkDB) of block rows that are no blocks."""

VOTES = [{}, "x", NOT_JSON, [], {"vote": "x"}, {"node_pubkey": "voter", "vote": {"voting_for_block": ["x"]}},
         {"node_pubkey": "voter", "signature": None, "vote": {"voting_for_block": "block"}}]
"""Vote rows that are no votes."""

BACKLOG = ["x", NOT_JSON, {}, {"id": 5}, {"transaction": "x"}]
"""Backlog rows that hold no transaction."""


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

    def _reql_insert(self, table, document, written_at=None):
        from rethinkdb import r
        connection = backend.connect(self.database)
        try:
            stamped = r.expr(document).merge(
                {"written_at": r.now().to_epoch_time() if written_at is None else written_at})
            result = connection.run(connection.table(table).insert(stamped))
            assert result["inserted"] == 1, result
        finally:
            connection.close()

    def block(self, block_id, header, written_at=None):
        """A blocks row ``block_id`` whose header (SQLite) or document (RethinkDB) is ``header``;
        on RethinkDB, ``written_at`` (default: the server's clock) is written too."""
        if self.engine == "sqlite":
            self._sql("INSERT INTO blocks (id, is_genesis, header) VALUES (?, 0, ?)", (block_id, _text(header)))
        else:
            document = header if isinstance(header, dict) else {"block": "x" if header is NOT_JSON else header}
            self._reql_insert("bigchain", {**document, "id": block_id}, written_at)

    def vote(self, block_id, voter, vote, written_at=None):
        """A votes row on ``block_id`` by ``voter`` (as SQLite's columns index it) holding ``vote``."""
        if self.engine == "sqlite":
            signature = vote.get("signature") if isinstance(vote, dict) else None
            signature = signature if isinstance(signature, str) else f"raw-{time.time_ns()}"  # unique per row
            self._sql("INSERT INTO votes (block_id, voter, signature, vote) VALUES (?, ?, ?, ?)",
                      (block_id, voter, signature, _text(vote)))
        else:
            document = vote if isinstance(vote, dict) else {"vote": "x" if vote is NOT_JSON else vote}
            self._reql_insert("votes", {**document, "id": f"raw-{time.time_ns()}"}, written_at)

    def block_of(self, block, transactions):
        """The signed ``block`` (a dict, holding no transactions) stored with ``transactions``
        (anything, keyed by their ``id``, if any) as its transactions, without the engine's
        checks: SQLite rows of block_transactions, a RethinkDB document and its rows
        of the transactions table."""
        if self.engine == "sqlite":
            self.block(block["id"], block)
            with sqlite3.connect(self.database["path"], timeout=30) as db:
                (seq,) = db.execute("SELECT seq FROM blocks WHERE id = ?", (block["id"],)).fetchone()
                db.executemany("INSERT INTO block_transactions (block_seq, position, tx_id, tx) VALUES (?, ?, ?, ?)",
                               [(seq, position, str(tx.get("id")) if isinstance(tx, dict) else "", _text(tx))
                                for position, tx in enumerate(transactions)])
            db.close()
        else:  # the document, and its transactions rows as the engine writes them
            from bigchaindb.backend.rethinkdb.schema import row_keys
            document = {**block, "block": {**block["block"], "transactions": transactions}}
            written_at = time.time()
            for position, key in enumerate(row_keys(document)):
                self._reql_insert("transactions", {"id": key, "block_id": block["id"], "position": position,
                                                   "tx": transactions[position]}, written_at)
            self.block(block["id"], document, written_at)

    def backlog(self, tx_id, tx, assignee, timestamp, check=None):
        """A backlog row ``tx_id`` holding ``tx``, assigned to ``assignee`` at ``timestamp``,
        with ``check`` as its writer's note (see ``Connection.get_backlog_check``)."""
        if self.engine == "sqlite":
            self._sql("INSERT INTO backlog (tx_id, tx, assignee, assignment_timestamp, checked) VALUES (?, ?, ?, ?, ?)",
                      (tx_id, _text(tx), assignee, timestamp, check))
        else:
            self._reql_insert("backlog", {"id": tx_id, "tx": "x" if tx is NOT_JSON else tx,
                                          "assignee": assignee, "assignment_timestamp": timestamp, "check": check})
