"""SQL of votes and of the election's requeue bookkeeping."""

import orjson

from bigchaindb.common.utils import dumps


def write(db, vote):
    """True when stored; False when its voter already voted on that block
    (the UNIQUE (block_id, voter) constraint decides, atomically)."""
    cursor = db.execute("INSERT OR IGNORE INTO votes (block_id, voter, vote) VALUES (?, ?, ?)",
                        (vote["vote"]["voting_for_block"], vote["node_pubkey"], dumps(vote)))
    return cursor.rowcount == 1


def votes_for(db, block_id):
    rows = db.execute("SELECT vote FROM votes WHERE block_id = ?", (block_id,))
    return [orjson.loads(vote) for vote, in rows.fetchall()]


def last_by(db, voter):
    row = db.execute("SELECT vote FROM votes WHERE voter = ? ORDER BY seq DESC LIMIT 1", (voter,)).fetchone()
    return orjson.loads(row[0]) if row else None


def votes_after(db, seq, limit):
    """``(seq, vote)`` of the votes written after ``seq``, for the vote feed."""
    rows = db.execute("SELECT seq, vote FROM votes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
    return [(seq, orjson.loads(vote)) for seq, vote in rows.fetchall()]


def mark_requeued(db, block_id):
    cursor = db.execute("INSERT OR IGNORE INTO requeued (block_id) VALUES (?)", (block_id,))
    return cursor.rowcount == 1


def was_requeued(db, block_id):
    return db.execute("SELECT 1 FROM requeued WHERE block_id = ?", (block_id,)).fetchone() is not None
