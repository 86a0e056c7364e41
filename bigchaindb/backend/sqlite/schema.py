"""The tables and indexes of the SQLite engine, and creating and dropping them.

Documents (transactions, block headers, votes) are stored whole as JSON blobs,
exactly as written, so they come back dict-equal; every field a lookup needs is
copied into an indexed column or a small index table next to them.

Index tables refer to a block by its ``seq`` (an integer, the order blocks
were written in) rather than its 64-character id: rows stay small, and results
come out in ledger order straight from the index.  ``seq`` columns use
AUTOINCREMENT so a value is never reused after a delete; the change feeds
depend on that.
"""

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.backend.sqlite import blocks
from bigchaindb.common.crypto import DEFAULT_HASH, hash_in_use

SCHEMA_VERSION = 6
"""Kept in ``PRAGMA user_version``: 0 means not initialised.  Earlier
versions are brought up to this one by ``upgrade``."""

TABLES = {
    # -- backlog: transactions waiting for a block ---------------------------
    "backlog": """
        CREATE TABLE backlog (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            tx_id TEXT NOT NULL UNIQUE,
            tx BLOB NOT NULL,
            assignee TEXT NOT NULL,
            assignment_timestamp NOT NULL,  -- no type: a number comes back as given
            checked TEXT  -- what the writing node notes (get_backlog_check)
        )""",
    # (txid, cid) spent by backlog transaction ``spender``
    "backlog_inputs": """
        CREATE TABLE backlog_inputs (
            txid TEXT NOT NULL,
            cid INTEGER NOT NULL,
            spender TEXT NOT NULL,
            PRIMARY KEY (txid, cid, spender)
        ) WITHOUT ROWID""",
    # -- blocks --------------------------------------------------------------
    # header: the block without its transactions, as get_block_header returns it
    "blocks": """
        CREATE TABLE blocks (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            is_genesis INTEGER NOT NULL,
            header BLOB NOT NULL
        )""",
    "block_transactions": """
        CREATE TABLE block_transactions (
            block_seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            tx_id TEXT NOT NULL,
            tx BLOB NOT NULL,
            PRIMARY KEY (block_seq, position)
        )""",
    "spends": """
        CREATE TABLE spends (
            txid TEXT NOT NULL,
            cid INTEGER NOT NULL,
            block_seq INTEGER NOT NULL,
            spender TEXT NOT NULL,
            PRIMARY KEY (txid, cid, block_seq, spender)
        ) WITHOUT ROWID""",
    # in ledger order (block, then position in it, then output) by owner:
    # the key of GET /outputs and GET /transactions?owners_after= pages
    "outputs": """
        CREATE TABLE outputs (
            owner TEXT NOT NULL,
            block_seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            cid INTEGER NOT NULL,
            tx_id TEXT NOT NULL,
            PRIMARY KEY (owner, block_seq, position, cid)
        ) WITHOUT ROWID""",
    # what spending an output needs, so that validation reads one row per
    # input instead of the whole (up to body-size) transaction holding it
    "conditions": """
        CREATE TABLE conditions (
            block_seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            cid INTEGER NOT NULL,
            uri TEXT NOT NULL,
            amount INTEGER NOT NULL,
            asset_id TEXT NOT NULL,
            PRIMARY KEY (block_seq, position, cid)
        ) WITHOUT ROWID""",
    "assets": """
        CREATE TABLE assets (
            asset_id TEXT NOT NULL,
            operation TEXT NOT NULL,
            block_seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (asset_id, operation, block_seq, position)
        ) WITHOUT ROWID""",
    "metadata": """
        CREATE TABLE metadata (
            metadata_id TEXT NOT NULL,
            block_seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (metadata_id, block_seq, position)
        ) WITHOUT ROWID""",
    # the words of a CREATE's asset data and of a transaction's metadata data
    # (``common.words``), given space-separated: FTS5 finds them again as
    # they are.  Contentless (only the index is kept; the text is in the
    # transaction), without positions or counts (detail=none: a search asks
    # only which documents hold a word).  The rowid is the transaction's
    # place in the ledger, ``ledger_key(block_seq, position)``, so that
    # matches come out in ledger order, which pages go by.
    "asset_words": """
        CREATE VIRTUAL TABLE asset_words USING fts5(
            words, content='', columnsize=0, detail=none, tokenize='unicode61 remove_diacritics 0')""",
    "metadata_words": """
        CREATE VIRTUAL TABLE metadata_words USING fts5(
            words, content='', columnsize=0, detail=none, tokenize='unicode61 remove_diacritics 0')""",
    # -- votes and election bookkeeping --------------------------------------
    # by block id, not seq: a vote may be stored before its block is.  Not
    # unique per (block, voter): any member can write a row naming any voter,
    # and a forged row must not keep the voter's real vote out (core counts
    # only votes whose signature verifies).
    "votes": """
        CREATE TABLE votes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            block_id TEXT NOT NULL,
            voter TEXT NOT NULL,
            signature TEXT NOT NULL,
            vote BLOB NOT NULL,
            UNIQUE (block_id, voter, signature)
        )""",
    "requeued": """
        CREATE TABLE requeued (
            block_id TEXT PRIMARY KEY
        ) WITHOUT ROWID""",
    # -- what the store was made under: the ``hash`` of every id in it --------
    "settings": """
        CREATE TABLE settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID""",
}

INDEXES = (
    # the assignee's change feed and backlog_assigned_to, in arrival order
    "CREATE INDEX backlog_by_assignee ON backlog (assignee, seq)",
    "CREATE INDEX backlog_by_assignment_timestamp ON backlog (assignment_timestamp)",
    # delete_backlog removes a transaction's inputs by its id
    "CREATE INDEX backlog_inputs_by_spender ON backlog_inputs (spender)",
    # partial: holds the genesis block(s) only
    "CREATE INDEX blocks_genesis ON blocks (is_genesis) WHERE is_genesis = 1",
    "CREATE INDEX block_transactions_by_tx_id ON block_transactions (tx_id, block_seq)",
    # an asset's transactions of every operation in ledger order (pages of ?asset_id=)
    "CREATE INDEX assets_in_order ON assets (asset_id, block_seq, position)",
    "CREATE INDEX votes_by_voter ON votes (voter, seq)",
)


def version(db):
    return db.execute("PRAGMA user_version").fetchone()[0]


def is_initialised(db):
    return version(db) != 0


def is_outdated(db):
    """True when the store was made by an earlier version of the schema (see ``upgrade``)."""
    found = version(db)
    if found > SCHEMA_VERSION:
        raise DatabaseError(f"the store was made by a newer version of bigchaindb (schema {found}, "
                            f"this one knows {SCHEMA_VERSION}): run that version")
    return 0 < found < SCHEMA_VERSION


def upgrade(db):
    """Bring a store of an earlier schema version up to this one (inside the caller's transaction).

    1 to 2: the ``conditions`` table, filled from the stored transactions.
    2 to 3: votes unique by (block, voter, signature), no longer by (block,
    voter): the table is made again, its rows (and their seq) kept.
    3 to 4: the ``settings`` table, recording the hash of every id; stores
    made before it was recorded all hashed with the default, SHA3-256.
    4 to 5: the backlog's ``checked`` column (empty in the entries already there).
    5 to 6: ``outputs`` keyed in ledger order (by position in the block, no
    longer by transaction id), the ``assets_in_order`` index and the word
    tables of search, all filled from the stored transactions.
    """
    if version(db) == 1:
        db.execute(TABLES["conditions"])
        blocks.index_stored_transactions(db, ("conditions",))
        db.execute("PRAGMA user_version = 2")
    if version(db) == 2:
        db.execute("ALTER TABLE votes RENAME TO votes_before_3")
        db.execute(TABLES["votes"])
        # a row whose vote is not JSON, or has no signature, keeps a signature of its own
        db.execute("INSERT INTO votes (seq, block_id, voter, signature, vote) SELECT seq, block_id, voter,"
                   " coalesce(CASE WHEN json_valid(vote) AND json_type(vote) = 'object'"
                   " THEN json_extract(vote, '$.signature') END, 'row ' || seq), vote FROM votes_before_3")
        db.execute("DROP TABLE votes_before_3")  # and its index
        db.execute(next(index for index in INDEXES if " ON votes " in index))
        db.execute("PRAGMA user_version = 3")
    if version(db) == 3:
        db.execute(TABLES["settings"])
        _record_hash(db, DEFAULT_HASH)
        db.execute("PRAGMA user_version = 4")
    if version(db) == 4:
        if "checked" not in {column for _, column, *_ in db.execute("PRAGMA table_info(backlog)")}:
            db.execute("ALTER TABLE backlog ADD COLUMN checked TEXT")
        db.execute("PRAGMA user_version = 5")
    if version(db) == 5:
        db.execute("DROP TABLE outputs")
        for table in ("outputs", "asset_words", "metadata_words"):
            db.execute(TABLES[table])
        db.execute(next(index for index in INDEXES if " assets_in_order " in index))
        blocks.index_stored_transactions(db, ("outputs", "asset_words", "metadata_words"))
        db.execute("PRAGMA user_version = 6")


def create(db):
    """Create every table and index, recording the hash in use (inside the caller's transaction)."""
    for statement in (*TABLES.values(), *INDEXES):
        db.execute(statement)
    _record_hash(db, hash_in_use())
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _record_hash(db, name):
    db.execute("INSERT INTO settings (name, value) VALUES ('hash', ?)", (name,))


def stored_hash(db):
    """The hash the store was made under, or None if it is not initialised."""
    if not is_initialised(db):
        return None
    return db.execute("SELECT value FROM settings WHERE name = 'hash'").fetchone()[0]


def drop(db):
    """Drop every table, and with them their indexes (inside the caller's transaction)."""
    for table in TABLES:
        db.execute(f"DROP TABLE {table}")
    db.execute("PRAGMA user_version = 0")
