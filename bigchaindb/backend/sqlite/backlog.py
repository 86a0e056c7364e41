"""SQL of the backlog: transactions accepted but not yet in a block.

Every function takes an open ``sqlite3`` connection; the ones that write run
inside the ``BEGIN IMMEDIATE`` transaction the caller opened, which is what
makes the double-spend check and the insert one atomic step across processes.
"""

from bigchaindb.backend.sqlite.documents import load
from bigchaindb.backend.sqlite.fields import spent_inputs
from bigchaindb.common.utils import dumps


def write(db, tx, assignee, timestamp, check=None):
    """Insert ``tx`` unless it is already there or one of its inputs is taken;
    returns the id of the backlog transaction that took it, else None."""
    tx_id = tx["id"]
    if db.execute("SELECT 1 FROM backlog WHERE tx_id = ?", (tx_id,)).fetchone():
        return None
    inputs = spent_inputs(tx)
    for txid, cid in inputs:
        taken = db.execute("SELECT spender FROM backlog_inputs WHERE txid = ? AND cid = ? LIMIT 1",
                           (txid, cid)).fetchone()
        if taken:
            return taken[0]
    insert(db, tx, assignee, timestamp, check)
    # OR IGNORE: a transaction naming one input twice is invalid, not a storage error
    db.executemany("INSERT OR IGNORE INTO backlog_inputs (txid, cid, spender) VALUES (?, ?, ?)",
                   [(txid, cid, tx_id) for txid, cid in inputs])
    return None


def insert(db, tx, assignee, timestamp, check=None):
    """Insert ``tx`` unless it is already there, in one statement: atomic on its
    own, which is all a transaction spending nothing (a CREATE) needs."""
    db.execute("INSERT INTO backlog (tx_id, tx, assignee, assignment_timestamp, checked) VALUES (?, ?, ?, ?, ?)"
               " ON CONFLICT (tx_id) DO NOTHING", (tx["id"], dumps(tx), assignee, timestamp, check))


def get(db, tx_id):
    row = db.execute("SELECT tx FROM backlog WHERE tx_id = ?", (tx_id,)).fetchone()
    return load(row[0]) if row else None


def check(db, tx_id):
    row = db.execute("SELECT checked FROM backlog WHERE tx_id = ?", (tx_id,)).fetchone()
    return row[0] if row else None


def spenders_of(db, txid, cids):
    rows = db.execute("SELECT cid, spender FROM backlog_inputs WHERE txid = ?"
                      " AND cid IN (SELECT value FROM json_each(?)) ORDER BY cid", (txid, dumps(list(cids))))
    return rows.fetchall()


def delete(db, tx_ids):
    params = [(tx_id,) for tx_id in tx_ids]
    db.executemany("DELETE FROM backlog WHERE tx_id = ?", params)
    db.executemany("DELETE FROM backlog_inputs WHERE spender = ?", params)


def assigned_to(db, assignee):
    rows = db.execute("SELECT tx, assignment_timestamp FROM backlog WHERE assignee = ? ORDER BY seq",
                      (assignee,))
    return [(load(tx), timestamp) for tx, timestamp in rows.fetchall()]


def stale(db, older_than):
    rows = db.execute("SELECT tx_id, assignee FROM backlog WHERE assignment_timestamp < ?", (older_than,))
    return rows.fetchall()


def size(db):
    # SQLite counts the entries of the narrowest index (backlog_by_assignment_timestamp), not the rows
    return db.execute("SELECT count(*) FROM backlog").fetchone()[0]


def held_by(db, assignee, tx_ids):
    placeholders = ", ".join("?" * len(tx_ids))
    rows = db.execute(f"SELECT tx_id FROM backlog WHERE assignee = ? AND tx_id IN ({placeholders})",
                      (assignee, *tx_ids))
    return [tx_id for tx_id, in rows.fetchall()]


def reassign(db, tx_id, assignee, timestamp, older_than):
    """Delete and re-insert the entry if it is still assigned before
    ``older_than``, so it gets a new ``seq`` and the new assignee's feed
    (which follows ``seq``) sees it.  Its inputs and its check stay.  True when reassigned."""
    # fetchall: a RETURNING statement left half-read would keep the transaction busy
    found = db.execute("DELETE FROM backlog WHERE tx_id = ? AND assignment_timestamp < ? RETURNING tx, checked",
                       (tx_id, older_than)).fetchall()
    for tx, checked in found:
        db.execute("INSERT INTO backlog (tx_id, tx, assignee, assignment_timestamp, checked) VALUES (?, ?, ?, ?, ?)",
                   (tx_id, tx, assignee, timestamp, checked))
    return bool(found)


def entries_after(db, assignee, seq, limit):
    """``(seq, (tx, assignment_timestamp))`` of ``assignee``'s entries after ``seq``."""
    rows = db.execute("SELECT seq, tx, assignment_timestamp FROM backlog"
                      " WHERE assignee = ? AND seq > ? ORDER BY seq LIMIT ?", (assignee, seq, limit))
    return [(seq, (load(tx), timestamp)) for seq, tx, timestamp in rows.fetchall()]
