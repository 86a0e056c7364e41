"""SQL of votes and of the election's requeue bookkeeping."""

from bigchaindb.backend.sqlite.documents import load

from bigchaindb.common.utils import dumps


BATCH = 100
"""Votes read at a time while looking for the latest one that counts."""

LAST_SEQ = 2**63 - 1
"""The largest ``seq`` SQLite can give."""


def write(db, vote):
    """True when stored; False when this very vote (block, voter and
    signature) is there already: the UNIQUE constraint decides, atomically."""
    cursor = db.execute("INSERT OR IGNORE INTO votes (block_id, voter, signature, vote) VALUES (?, ?, ?, ?)",
                        (vote["vote"]["voting_for_block"], vote["node_pubkey"], vote["signature"], dumps(vote)))
    return cursor.rowcount == 1


def votes_for(db, block_id):
    rows = db.execute("SELECT vote FROM votes WHERE block_id = ? ORDER BY seq", (block_id,))
    return [load(vote) for vote, in rows.fetchall()]


def last_by(db, voter, counts):
    """The latest vote row of ``voter`` that ``counts``, read newest first a batch at a time."""
    before = LAST_SEQ
    while True:
        rows = db.execute("SELECT seq, vote FROM votes WHERE voter = ? AND seq <= ? ORDER BY seq DESC LIMIT ?",
                          (voter, before, BATCH)).fetchall()
        for seq, vote in rows:
            before = seq - 1
            vote = load(vote)
            if counts(vote):
                return vote
        if len(rows) < BATCH:
            return None


def votes_after(db, seq, limit):
    """``(seq, vote)`` of the votes written after ``seq``, for the vote feed."""
    rows = db.execute("SELECT seq, vote FROM votes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
    return [(seq, load(vote)) for seq, vote in rows.fetchall()]


def mark_requeued(db, block_id):
    cursor = db.execute("INSERT OR IGNORE INTO requeued (block_id) VALUES (?)", (block_id,))
    return cursor.rowcount == 1


def was_requeued(db, block_id):
    return db.execute("SELECT 1 FROM requeued WHERE block_id = ?", (block_id,)).fetchone() is not None
