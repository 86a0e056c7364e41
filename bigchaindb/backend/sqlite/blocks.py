"""SQL of blocks: the block store and the lookups over its transactions.

A block is stored as its header (the block without its transactions) plus one
row per transaction, so each transaction is stored once and a lookup reads
only what it needs; ``get`` puts the block back together, dict-equal to what
was written (its id is the hash of it).  Index tables (spends, outputs,
assets, metadata) point at a transaction by ``(block_seq, position)``.
"""

from bigchaindb.backend.sqlite.documents import load
from bigchaindb.backend.sqlite.fields import conditions, owners, spent_inputs
from bigchaindb.common.utils import dumps
from bigchaindb.common.words import words_in

GENESIS = "GENESIS"
UPGRADE_BATCH = 10_000
"""Stored transactions indexed at a time by a schema upgrade."""

_INDEX_INSERTS = {
    "spends": "INSERT OR IGNORE INTO spends (txid, cid, block_seq, spender) VALUES (?, ?, ?, ?)",
    "outputs": "INSERT OR IGNORE INTO outputs (owner, block_seq, position, cid, tx_id) VALUES (?, ?, ?, ?, ?)",
    "conditions": "INSERT OR IGNORE INTO conditions (block_seq, position, cid, uri, amount, asset_id)"
                  " VALUES (?, ?, ?, ?, ?, ?)",
    "assets": "INSERT OR IGNORE INTO assets (asset_id, operation, block_seq, position) VALUES (?, ?, ?, ?)",
    "metadata": "INSERT OR IGNORE INTO metadata (metadata_id, block_seq, position) VALUES (?, ?, ?)",
    "asset_words": "INSERT INTO asset_words (rowid, words) VALUES (?, ?)",
    "metadata_words": "INSERT INTO metadata_words (rowid, words) VALUES (?, ?)",
}
# OR IGNORE: the store keeps whatever block it is given; a duplicate index row
# (say an invalid transaction spending one input twice) adds nothing.
_INSERTS = {"block_transactions": "INSERT INTO block_transactions (block_seq, position, tx_id, tx) VALUES (?, ?, ?, ?)",
            **_INDEX_INSERTS}
"""Every table of a block's rows but ``blocks``, its transactions first."""
_HEADER_INSERT = "INSERT INTO blocks (id, is_genesis, header) VALUES (?, ?, ?)"


def write(db, block):
    """Store the block and its index rows, unless a block with its id is there."""
    if db.execute("SELECT 1 FROM blocks WHERE id = ?", (block["id"],)).fetchone():
        return
    cursor = db.execute(_HEADER_INSERT, header_row(block))
    _insert_rows(db, rows(cursor.lastrowid, block))


def header_row(block):
    """The ``blocks`` row of ``block``: ``(id, is genesis, header JSON)``."""
    transactions = block["block"]["transactions"]
    is_genesis = len(transactions) == 1 and transactions[0]["transaction"]["operation"] == GENESIS
    return block["id"], is_genesis, dumps(_header(block))


def rows(block_seq, block):
    """Every other row that storing ``block`` as block ``block_seq`` writes, by table:
    its transactions and their index rows.  Made apart from the writing so that
    a bulk writer (benchmarks/preload.py) can make them in other processes."""
    transactions = block["block"]["transactions"]
    by_table = _index_rows(block_seq, transactions)
    by_table["block_transactions"] = [(block_seq, position, tx["id"], dumps(tx))
                                      for position, tx in enumerate(transactions)]
    return by_table


def write_rows(db, header, by_table):
    """Store a block given as its ``header_row`` and its ``rows``; its ``seq``."""
    block_seq = db.execute(_HEADER_INSERT, header).lastrowid
    _insert_rows(db, by_table)
    return block_seq


def _insert_rows(db, by_table):
    for table in _INSERTS:
        db.executemany(_INSERTS[table], by_table[table])


def _header(block):
    """The block without its transactions (every other key kept, for round trips)."""
    header = {key: value for key, value in block.items() if key != "block"}
    header["block"] = {key: value for key, value in block["block"].items() if key != "transactions"}
    return header


def ledger_key(block_seq, position):
    """One integer for a transaction's place in the ledger, in ledger order:
    the rowid of its rows in the word tables (FTS5 rows have one integer key)."""
    return block_seq << 32 | position


def _index_rows(block_seq, transactions):
    rows = {table: [] for table in _INDEX_INSERTS}
    for position, tx in enumerate(transactions):
        _add_index_rows(rows, block_seq, position, tx)
    return rows


def _add_index_rows(rows, block_seq, position, tx):
    """Add the index rows of ``tx`` at ``position`` in block ``block_seq`` to ``rows`` (by table)."""
    tx_id, body = tx["id"], tx["transaction"]
    rows["spends"] += [(txid, cid, block_seq, tx_id) for txid, cid in spent_inputs(tx)]
    rows["conditions"] += [(block_seq, position, *output) for output in conditions(tx)]
    for condition in body["conditions"]:
        rows["outputs"] += [(owner, block_seq, position, condition["cid"], tx_id)
                            for owner in owners(condition["owners_after"])]
    rows["assets"].append((body["asset"]["id"], body["operation"], block_seq, position))
    key = ledger_key(block_seq, position)
    asset_words = searched_words(body["asset"])
    if asset_words:
        rows["asset_words"].append((key, asset_words))
    if body.get("metadata"):
        rows["metadata"].append((body["metadata"]["id"], block_seq, position))
        metadata_words = searched_words(body["metadata"])
        if metadata_words:
            rows["metadata_words"].append((key, metadata_words))


def searched_words(part):
    """The words of an asset's or metadata's ``data`` as the word tables hold them: space-separated."""
    return " ".join(words_in(part.get("data")))


def _with_transactions(db, block_seq, header):
    """The block: its header with its transactions put back (a header that
    is not shaped as one comes back as it is)."""
    header = load(header)
    if not isinstance(header, dict) or not isinstance(header.get("block"), dict):
        return header
    rows = db.execute("SELECT tx FROM block_transactions WHERE block_seq = ? ORDER BY position", (block_seq,))
    header["block"]["transactions"] = [load(tx) for tx, in rows.fetchall()]
    return header


def get(db, block_id):
    row = db.execute("SELECT seq, header FROM blocks WHERE id = ?", (block_id,)).fetchone()
    return _with_transactions(db, *row) if row else None


def header(db, block_id):
    row = db.execute("SELECT header FROM blocks WHERE id = ?", (block_id,)).fetchone()
    return load(row[0]) if row else None


def genesis(db):
    row = db.execute("SELECT seq, header FROM blocks WHERE is_genesis = 1 ORDER BY seq LIMIT 1").fetchone()
    return _with_transactions(db, *row) if row else None


def with_transaction(db, tx_id):
    rows = db.execute("SELECT b.id FROM block_transactions t JOIN blocks b ON b.seq = t.block_seq"
                      " WHERE t.tx_id = ? ORDER BY t.block_seq", (tx_id,))
    return [block_id for block_id, in rows.fetchall()]


def transaction_copies(db, tx_id):
    """``(block id, transaction as stored there)`` for each block holding ``tx_id``,
    in one statement: what ``with_transaction`` then ``transaction_in`` for each
    block found read in one more per block (a block listing the id twice is
    named twice, each time with its first copy, as they read it)."""
    rows = db.execute("SELECT b.id, t.tx FROM block_transactions t JOIN blocks b ON b.seq = t.block_seq"
                      " WHERE t.tx_id = ? ORDER BY t.block_seq, t.position", (tx_id,)).fetchall()
    return _first_copies(rows)


def held_copies(db, tx_id):
    """``(the backlog's copy or None, transaction_copies(db, tx_id))`` in one
    statement, so of one snapshot: what accepting a post asks first."""
    rows = db.execute("SELECT NULL, NULL, NULL, tx FROM backlog WHERE tx_id = ?1"
                      " UNION ALL SELECT b.id, t.block_seq, t.position, t.tx"
                      " FROM block_transactions t JOIN blocks b ON b.seq = t.block_seq WHERE t.tx_id = ?1"
                      " ORDER BY 2, 3", (tx_id,)).fetchall()  # the backlog's (NULLs first), then as above
    in_backlog = load(rows.pop(0)[3]) if rows and rows[0][0] is None else None
    return in_backlog, _first_copies([(block_id, tx) for block_id, _, _, tx in rows])


def _first_copies(rows):
    """``(block id, transaction)`` of each ``(block id, stored transaction)`` row, each
    block's first copy for every row naming it."""
    first = {}
    for block_id, tx in rows:
        first.setdefault(block_id, tx)
    return [(block_id, load(first[block_id])) for block_id, _ in rows]


def transaction_in(db, tx_id, block_id):
    row = db.execute("SELECT t.tx FROM blocks b JOIN block_transactions t ON t.block_seq = b.seq"
                     " WHERE b.id = ? AND t.tx_id = ? LIMIT 1", (block_id, tx_id)).fetchone()
    return load(row[0]) if row else None


def spenders_of(db, txid, cids):
    rows = db.execute("SELECT s.cid, s.spender, b.id FROM spends s JOIN blocks b ON b.seq = s.block_seq"
                      " WHERE s.txid = ? AND s.cid IN (SELECT value FROM json_each(?))"
                      " ORDER BY s.cid, s.block_seq", (txid, dumps(list(cids))))
    return rows.fetchall()


def outputs(db, tx_id, block_id, cids):
    """``(cid, uri, amount, asset id)`` of the outputs ``cids`` of ``tx_id`` in ``block_id`` that exist.

    The cids travel as one JSON array: a transaction may spend thousands of
    outputs, more than SQLite takes parameters.
    """
    # CROSS JOIN fixes the order (block, then transaction, then its outputs),
    # so that the outputs are read by their whole key, never the block's all
    rows = db.execute("SELECT c.cid, c.uri, c.amount, c.asset_id"
                      " FROM blocks b CROSS JOIN block_transactions t CROSS JOIN conditions c"
                      " WHERE b.id = ? AND t.tx_id = ? AND t.block_seq = b.seq"
                      " AND c.block_seq = t.block_seq AND c.position = t.position"
                      " AND c.cid IN (SELECT value FROM json_each(?)) ORDER BY c.cid",
                      (block_id, tx_id, dumps(list(cids))))
    return rows.fetchall()


def index_stored_transactions(db, tables):
    """Fill the index ``tables`` from every stored block transaction (a schema upgrade, once).

    A stored transaction the indexes cannot read (any member may write a row)
    gets no index rows, as its block could not have been written with them.
    """
    stored = db.execute("SELECT block_seq, position, tx FROM block_transactions ORDER BY block_seq, position")
    while batch := stored.fetchmany(UPGRADE_BATCH):
        rows = {table: [] for table in _INDEX_INSERTS}
        for block_seq, position, tx in batch:
            try:
                _add_index_rows(rows, block_seq, position, load(tx))
            except (KeyError, TypeError, AttributeError, IndexError):
                continue
        for table in tables:
            db.executemany(_INDEX_INSERTS[table], rows[table])


def not_voted_by(db, voter, counts):
    """Headers of the blocks with no vote by ``voter`` that ``counts``, oldest first.

    The one query here that reads every block (with an index probe into the
    votes of each): the vote pipeline calls it once, at start-up, to catch up.
    """
    # +v.voter: the votes of each block are found by its id; the planner would
    # otherwise read every vote of the voter again for each block (votes_by_voter)
    rows = db.execute("SELECT b.seq, b.header, v.vote FROM blocks b"
                      " LEFT JOIN votes v ON v.block_id = b.id AND +v.voter = ?"
                      " WHERE NOT b.is_genesis ORDER BY b.seq, v.seq", (voter,))
    headers, voted = {}, set()
    for seq, header, vote in rows.fetchall():
        headers.setdefault(seq, header)
        if vote is not None and seq not in voted and counts(load(vote)):
            voted.add(seq)
    return [load(header) for seq, header in headers.items() if seq not in voted]


def in_write_order(db, block_ids):
    """Those of ``block_ids`` that are stored, in the order written (``seq``: commits are serial here)."""
    rows = db.execute("SELECT b.id FROM json_each(?) j JOIN blocks b ON b.id = j.value ORDER BY b.seq",
                      (dumps(block_ids).decode(),))
    return [block_id for block_id, in rows.fetchall()]


def headers_after(db, seq, limit):
    """``(seq, header)`` of the blocks written after ``seq``, for the block feed."""
    rows = db.execute("SELECT seq, header FROM blocks WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
    return [(seq, load(header)) for seq, header in rows.fetchall()]


def after(db, seq, limit):
    """``(seq, block)`` of the blocks written after ``seq`` (None: from the first), in order."""
    rows = db.execute("SELECT seq, header FROM blocks WHERE seq > ? ORDER BY seq LIMIT ?", (seq or 0, limit))
    return [(seq, _with_transactions(db, seq, header)) for seq, header in rows.fetchall()]
