"""SQL of the paged lists: outputs by owner, transactions by asset or metadata, search.

Each reads one page in ledger order (blocks in the order written, then
transactions in their block, then outputs) from an index whose key is that
order, starting after a position the previous page ended at: keyset
pagination, so that a page costs the same wherever it is in a long list, and
rows added meanwhile (always at the end: ``seq`` only grows) shift nothing.
Positions are tuples of integers; ``check`` refuses any other.
"""

from itertools import combinations

from bigchaindb.backend.exceptions import InvalidPosition
from bigchaindb.backend.sqlite.documents import load

SEARCHED = {"asset": "asset_words", "metadata": "metadata_words"}

_FROM_TRANSACTIONS = (" JOIN block_transactions t ON t.block_seq = i.block_seq AND t.position = i.position"
                      " JOIN blocks b ON b.seq = i.block_seq")


def check(position, length):
    """``position`` as a tuple of ``length`` integers (None: the start), or InvalidPosition."""
    if position is None:
        return None
    if (not isinstance(position, (list, tuple)) or len(position) != length
            or not all(type(part) is int and 0 <= part < 2**63 for part in position)):
        raise InvalidPosition(f"not a position of this list: {position!r}")
    return tuple(position)


def outputs(db, owner, after, limit):
    """``(position, tx, block id, cid)`` of ``owner``'s outputs after ``after`` ``(block_seq, position, cid)``."""
    after = check(after, 3) or (-1, -1, -1)
    rows = db.execute("SELECT i.block_seq, i.position, i.cid, t.tx, b.id FROM outputs i" + _FROM_TRANSACTIONS +
                      " WHERE i.owner = ? AND (i.block_seq, i.position, i.cid) > (?, ?, ?)"
                      " ORDER BY i.block_seq, i.position, i.cid LIMIT ?", (owner, *after, limit))
    return [((block_seq, position, cid), load(tx), block_id, cid)
            for block_seq, position, cid, tx, block_id in rows.fetchall()]


def by_asset(db, asset_id, operation, after, limit):
    """``(position, tx, block id)`` of the transactions of ``asset_id`` (of ``operation``, unless None)."""
    if operation is None:
        return _transactions(db, "assets", "i.asset_id = ?", (asset_id,), after, limit)
    return _transactions(db, "assets", "i.asset_id = ? AND i.operation = ?", (asset_id, operation), after, limit)


def by_metadata(db, metadata_id, after, limit):
    """``(position, tx, block id)`` of the transactions with metadata ``metadata_id``."""
    return _transactions(db, "metadata", "i.metadata_id = ?", (metadata_id,), after, limit)


def _transactions(db, index_table, where, params, after, limit):
    after = check(after, 2) or (-1, -1)
    rows = db.execute(f"SELECT i.block_seq, i.position, t.tx, b.id FROM {index_table} i" + _FROM_TRANSACTIONS +
                      f" WHERE {where} AND (i.block_seq, i.position) > (?, ?)"
                      " ORDER BY i.block_seq, i.position LIMIT ?", (*params, *after, limit))
    return [((block_seq, position), load(tx), block_id) for block_seq, position, tx, block_id in rows.fetchall()]


def search(db, kind, words, after, limit):
    """``(entries, next)`` (see ``base.Connection.search_page``): ``(position,
    tx, block id)`` of the transactions whose ``kind`` ("asset" or
    "metadata") data holds the most of ``words``, then the next most, and so on
    (a band per number of words held, highest first), each band in ledger order.

    One FTS5 query per band: "exactly n of the words" is "some n of them" and
    not "some n + 1 of them", which FTS5 answers in rowid (ledger) order from
    its doclists, starting at the rowid the page starts after.  A position is
    ``(words held, ledger key)``.
    """
    band, after_key = check(after, 2) or (len(words), -1)
    if not 1 <= band <= len(words):
        raise InvalidPosition(f"not a position of this search: {after!r}")
    found = []
    while band >= 1 and len(found) < limit:
        expression = _some(words, band)
        if band < len(words):
            expression = f"({expression}) NOT ({_some(words, band + 1)})"
        rows = db.execute(f"SELECT w.rowid, t.tx, b.id FROM {SEARCHED[kind]} w"
                          " JOIN block_transactions t ON t.block_seq = w.rowid >> 32"
                          " AND t.position = w.rowid & 4294967295 JOIN blocks b ON b.seq = t.block_seq"
                          f" WHERE {SEARCHED[kind]} MATCH ? AND w.rowid > ? ORDER BY w.rowid LIMIT ?",
                          (expression, after_key, limit - len(found)))
        found += [((band, key), load(tx), block_id) for key, tx, block_id in rows.fetchall()]
        band, after_key = band - 1, -1
    return found, (found[-1][0] if len(found) == limit else None)


def _some(words, count):
    """An FTS5 expression true of a document holding at least ``count`` of ``words`` (all distinct)."""
    return " OR ".join("(" + " AND ".join(f'"{word}"' for word in chosen) + ")"
                       for chosen in combinations(words, count))


