"""Change feeds by polling: follow a table's ``seq`` column.

SQLite has no notifications across processes, so a feed asks "rows with a
seq above the last one I saw?" every ``POLL_INTERVAL`` seconds: one index
range read on the primary key, cheap enough to run in every node process.
Rows appear in seq order because every writer holds the write lock from
taking its seq to committing it, so a feed never skips a row.
"""

import time

from bigchaindb.backend.base import POLL_INTERVAL

BATCH = 1000
"""Rows read per poll: one full block's worth of backlog."""


def newest(db, table):
    """The largest ``seq`` in ``table`` now: a feed starts after it."""
    return db.execute(f"SELECT max(seq) FROM {table}").fetchone()[0] or 0


def follow(fetch, last):
    """Yield the items ``fetch(seq, BATCH)`` returns as ``(seq, item)`` pairs,
    endlessly, starting after ``last``; when nothing is new, sleep
    ``POLL_INTERVAL`` and yield None so the consumer can act on time."""
    while True:
        rows = fetch(last, BATCH)
        for last, item in rows:
            yield item
        if not rows:
            time.sleep(POLL_INTERVAL)
            yield None


def before_last(db, table, count):
    """The ``seq`` after which the last ``count`` rows of ``table`` were written, or None."""
    # a range below the newest row (a key search, then count + 1 steps back), not a scan
    row = db.execute(f"SELECT seq FROM {table} WHERE seq <= (SELECT max(seq) FROM {table})"
                     " ORDER BY seq DESC LIMIT 1 OFFSET ?", (count,)).fetchone()
    return row[0] if row else None
