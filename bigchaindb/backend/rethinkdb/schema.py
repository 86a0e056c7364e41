"""The RethinkDB schema: tables, secondary indexes, and how documents are stored.

Seven tables in the configured database, every one keyed by ``id``:

  backlog       ``{"id": tx id, "tx": tx, "assignee": pk, "assignment_timestamp": t,
                "check": the writer's note or null}`` (the transaction is wrapped, so
                it comes back exactly as posted);
  bigchain      the block exactly as signed, plus ``written_at``;
  transactions  one row per transaction of every block: ``{"id": row_key(tx id,
                block id), "block_id", "position" (in the block), "tx",
                "written_at" (the block's)}``.  Every lookup by transaction,
                spent output, owner, asset or metadata reads these small rows:
                a block of 1000 transactions is a document of about a
                megabyte, which RethinkDB reads whole for every index hit;
  votes         the vote exactly as signed, plus ``id`` (``vote_key``: the same
                vote written twice is a conflict, but a row naming the same
                block and voter with another signature is not, so a forged row
                cannot take a voter's place), ``written_at`` and ``claim``;
  requeued      ``{"id": block id, "claim": ...}`` for every INVALID block
                whose transactions went back to the backlog;
  claims        ``{"id": [txid, cid], "spender": tx id, "claimed_at": t}``: the
                one transaction that may spend an output, decided by an insert
                whose primary key is the output (RethinkDB writes one document
                atomically, so of several spenders exactly one gets it);
  settings      ``{"id": "hash", "value": name}``: the hash every id in the
                store is made with, recorded by ``init``;
  words         the word index of search (RethinkDB has no full-text index):
                one row per word of a CREATE's asset data or of a
                transaction's metadata data (``common.words``), ``{"id",
                "kind": "asset" | "metadata", "word", "row": the transactions
                row, "block_id", "position", "written_at"}``, written with the
                block; its index keys a word's transactions in ledger order.

``claim`` is a random token of the write (see ``CLAIM``).

A transaction's floats (only its asset's and metadata's data may hold them)
are stored as the 8 bytes of the double, a BINARY value: RethinkDB keeps
every number as a double and hands an integral one back as an integer
(``1.0`` comes back as ``1``), and the id hashes ``1.0``, not ``1``
(``floats_as_binary``, undone by ``binary_as_floats`` on every read).

``written_at`` is the server's clock (epoch seconds) when the write arrived,
nudged to be later than anything already in the table (``next_written_at``).
It gives the order of writing (of blocks holding a transaction, of a voter's
votes for ``last_vote_by``) and lets a change feed that lost its connection
re-read what was written while it was away.  It is stripped from
everything handed back, so a block is dict-equal to what was written (its id
is the hash of it).

Every lookup of the storage interface is an index read.  The index functions
run on the server over the stored documents, so nothing is duplicated.
"""

import base64
import struct

from rethinkdb import r

from bigchaindb.backend.exceptions import InvalidPosition
from bigchaindb.common.crypto import hash_data
from bigchaindb.common.exceptions import NotSupported
from bigchaindb.common.utils import dumps, flatten, holds_float, map_floats
from bigchaindb.common.words import words_in

BACKLOG = "backlog"
BIGCHAIN = "bigchain"
TRANSACTIONS = "transactions"
VOTES = "votes"
REQUEUED = "requeued"
CLAIMS = "claims"
SETTINGS = "settings"
WORDS = "words"
TABLES = (BACKLOG, BIGCHAIN, TRANSACTIONS, VOTES, REQUEUED, CLAIMS, SETTINGS, WORDS)

WRITTEN_AT = "written_at"
CLAIM = "claim"
"""A random token stored with a vote or a requeue mark, by which a write run
again after a lost answer recognises its own first attempt."""

VOTE_EXTRAS = ("id", WRITTEN_AT, CLAIM)
"""Fields a stored vote has that the vote itself has not."""

BLOCK_HEADER = ("id", "signature", {"block": ["timestamp", "node_pubkey", "voters"]})
"""``pluck`` selector of a block header (see ``base.Connection.get_block_header``)."""

OWNER_DEPTH = 8
"""How deep nested ``owners_after`` lists are searched by the ``outputs`` index.
ReQL has no recursion, so the flattening is unrolled to this depth.  A
threshold holds at most 8 subconditions, so 8 levels name up to 8**8 owners;
keys nested deeper than that are not indexed."""

LONGEST_ARRAY = 100_000
"""RethinkDB's default ``array_limit``: a longer array is refused by the server."""

RESERVED_KEY = "$reql_type$"
"""An object with this key is read by RethinkDB as one of its own types (a time, binary data)."""

WRITE_ORDER_STEP = 0.001
"""``written_at`` has the millisecond resolution of ReQL times."""

FUTURE_MARGIN = 3600
"""Seconds ahead of the server's clock a ``written_at`` may be and still order later writes."""


def written_now():
    """The server's clock, in epoch seconds."""
    return r.now().to_epoch_time()


def next_written_at(table):
    """The ``written_at`` of a document now written to ``table``: the server's
    clock, but later than every ``written_at`` already there, so that writes
    made one after another are ordered even within one millisecond."""
    # order_by + limit, not max: on an empty table ``max`` is an error that
    # ``default`` does not catch on a real server.  Only numbers up to a little
    # ahead of the clock count: a row anyone wrote with a string there (which
    # sorts above every number) or a date far ahead must not stop or freeze
    # the order of every later write.
    now = written_now()
    return latest_written_at(table, now).map(lambda written_at: written_at + WRITE_ORDER_STEP).append(now).max()


def latest_written_at(table, now=None):
    """The latest ``written_at`` in ``table`` that orders later writes (a number
    up to ``FUTURE_MARGIN`` ahead of the clock ``now``), as an array of one, or
    empty when the table has none: a ReQL term."""
    now = written_now() if now is None else now
    return table.between(0, now + FUTURE_MARGIN, index=WRITTEN_AT).order_by(
        index=r.desc(WRITTEN_AT)).limit(1)[WRITTEN_AT].coerce_to("array")


def written_blocks_end(bigchain):
    """Where the ledger the store has written whole ends, for a read of index
    entries to stop at (a ReQL number): the ``written_at`` of the latest block
    (-1 for none).  A block's ``transactions`` and ``words`` rows are written
    before the block, and not all at once (a batch insert shows its rows one
    by one, in no set order): a row of a block not written yet may be there
    while its neighbours in the block are not.  Evaluated before the rows are
    read, the end leaves out every block still being written (with one
    writer, blocks are written one after another: see docs/protocol-choices.md)."""
    return latest_written_at(bigchain).append(-1).max()


def written_at_of(document):
    """A document's ``written_at`` if it is a number (anyone can write a row with anything there), else None."""
    written_at = document.get(WRITTEN_AT)
    return written_at if isinstance(written_at, (int, float)) and not isinstance(written_at, bool) else None


def write_order(document):
    """A sort key of stored documents in the order written: by ``written_at``
    (rows without a number there last), then by id."""
    written_at = written_at_of(document)
    return (0, written_at, str(document.get("id"))) if written_at is not None else (1, 0, str(document.get("id")))


def stored(document, extras=None):
    """The ReQL value to insert for ``document`` with the bookkeeping fields ``extras``.

    The document travels as JSON text parsed by the server (``r.json``): the
    driver's own conversion of nested Python values stops at 20 levels, and
    transactions may nest deeper (metadata, nested owners).
    """
    value = r.json(dumps(document).decode())
    return value.merge(extras) if extras else value


def stamped(table, document, **extras):
    """``stored(document)`` with the ``extras`` and the ``written_at`` of a write to ``table``."""
    return stored(document, {**extras, WRITTEN_AT: next_written_at(table)})


def check_storable(tx):
    """Raise NotSupported when ``tx`` holds something RethinkDB would not keep
    exactly as it is: an array longer than its array limit, or an object with
    its reserved key.  (Integers RethinkDB would round, of 2**53 and more, are
    refused for every engine by ``bigchaindb.common.values``.)"""
    pending = [tx]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            if RESERVED_KEY in value:
                raise NotSupported(f"the key {RESERVED_KEY} is reserved by this node's storage engine (RethinkDB)")
            pending.extend(value.values())
        elif isinstance(value, list):
            if len(value) > LONGEST_ARRAY:
                raise NotSupported(f"an array of {len(value)} items is longer than this node's storage engine "
                                   f"(RethinkDB) takes ({LONGEST_ARRAY})")
            pending.extend(value)


DATA_PARTS = ("asset", "metadata")
"""The parts of a transaction whose ``data`` may hold floats."""

_DOUBLE = struct.Struct(">d")


def floats_as_binary(tx):
    """``tx``, or a copy of it with every float in its data as a BINARY value of its 8 bytes."""
    body = tx.get("transaction") if isinstance(tx, dict) else None
    if not isinstance(body, dict):  # not a transaction: stored as it is
        return tx
    parts = {name: body[name] for name in DATA_PARTS
             if isinstance(body.get(name), dict) and holds_float(body[name].get("data"))}
    if not parts:
        return tx
    encoded = {name: dict(part, data=map_floats(part["data"], _binary)) for name, part in parts.items()}
    return dict(tx, transaction=dict(body, **encoded))


def _binary(value):
    """The BINARY value (as JSON for ``r.json``) of the 8 bytes of the double ``value``."""
    return {RESERVED_KEY: "BINARY", "data": base64.b64encode(_DOUBLE.pack(value)).decode()}


def binary_as_floats(tx):
    """Undo ``floats_as_binary`` in ``tx`` as read back (in place); returns it."""
    body = tx.get("transaction") if isinstance(tx, dict) else None
    if not isinstance(body, dict):
        return tx
    for name in DATA_PARTS:
        part = body.get(name)
        if isinstance(part, dict) and "data" in part:
            part["data"] = _floats_from_binary(part["data"])
    return tx


def _floats_from_binary(value):
    kind = type(value)
    if kind is dict or kind is list:
        for key, item in value.items() if kind is dict else enumerate(value):
            if type(item) in (dict, list) or isinstance(item, bytes):
                value[key] = _floats_from_binary(item)
    elif isinstance(value, bytes):  # the driver reads a BINARY value as bytes
        return _DOUBLE.unpack(value)[0]
    return value


def vote_key(vote):
    """Primary key of a vote: its block, voter and signature (see the module docstring)."""
    return hash_data(f"{vote['vote']['voting_for_block']}/{vote['node_pubkey']}/{vote['signature']}")


def row_key(tx_id, block_id):
    """Primary key of the ``transactions`` row of ``tx_id`` in ``block_id`` (the
    two ids side by side are longer than a primary key may be)."""
    return hash_data(f"{tx_id}/{block_id}")


def row_keys(block):
    """The ``transactions`` row keys of a block's transactions, by position; a
    stored block need not hold transactions (a member may write anything), and
    one with no string id is keyed by its position (it cannot be looked up)."""
    txs = block["block"].get("transactions") if isinstance(block.get("block"), dict) else None
    if not isinstance(txs, list):
        return []
    return [row_key(tx["id"], block["id"]) if isinstance(tx, dict) and isinstance(tx.get("id"), str)
            else hash_data(f"{block['id']}#{position}") for position, tx in enumerate(txs)]


def input_keys(tx):
    """``[txid, cid]`` of every output ``tx`` spends, as the ``spent_inputs`` index keys them."""
    return [[f["input"]["txid"], f["input"]["cid"]]
            for f in tx["transaction"]["fulfillments"] if f.get("input") is not None]


def without(document, fields):
    """``document`` without the bookkeeping ``fields`` this engine added."""
    return {key: value for key, value in document.items() if key not in fields}


# -- ReQL building blocks of the index functions and queries -----------------

def transactions(block_row):
    return block_row["block"]["transactions"]


def spent_by(tx):
    """``[txid, cid]`` of every input of the transaction ``tx`` (a ReQL value)."""
    return tx["transaction"]["fulfillments"].filter(lambda f: f["input"].ne(None)).map(
        lambda f: [f["input"]["txid"], f["input"]["cid"]])


def flattened(owners, depth=OWNER_DEPTH):
    """The keys in a possibly nested ``owners_after`` list, as one flat array."""
    if depth == 0:
        return owners.filter(lambda owner: owner.type_of().ne("ARRAY"))
    return owners.concat_map(
        lambda owner: r.branch(owner.type_of().eq("ARRAY"), flattened(owner, depth - 1), [owner]))


def metadata_id_of(tx):
    """The metadata id of a transaction, or null."""
    metadata = tx["transaction"]["metadata"]
    return r.branch(metadata.eq(None), None, metadata["id"])


def ledger_key(row):
    """Where a ``transactions`` row (or a ``words`` row) is in the ledger, in
    ledger order: ``[written_at, block id, position]`` (blocks written at the
    same moment by two nodes are told apart by their id)."""
    return [row[WRITTEN_AT], row["block_id"], row["position"]]


LEDGER_ORDER = "ledger_order"


def ledger_order(row):
    """The ``ledger_order`` index keys of a ``transactions`` row: what a list
    of transactions is read by (``owner``, ``asset``, ``operation`` of an
    asset, ``metadata``), then the row's ``ledger_key``, one key per list the
    row is in.  One index for all of them, not one each: RethinkDB's cost of
    writing a row grows with the number of indexes on its table far more
    than with the number of keys in them (about 0.07 ms of server CPU per
    index and row, measured; see docs/performance.md).  A part of the
    transaction that is not there (a row anyone may write) leaves out the
    lists it names, not the others."""
    body = row["tx"]["transaction"]
    at = ledger_key(row)

    def keys(of):
        return r.expr(of()).default([])
    return keys(lambda: body["conditions"].concat_map(lambda condition: flattened(condition["owners_after"]))
                .distinct().map(lambda owner: r.expr(["owner", owner]).add(at))).add(
        keys(lambda: [r.expr(["asset", body["asset"]["id"]]).add(at),
                      r.expr(["operation", body["asset"]["id"], body["operation"]]).add(at)]),
        keys(lambda: r.branch(metadata_id_of(row["tx"]).eq(None), [],
                              [r.expr(["metadata", metadata_id_of(row["tx"])]).add(at)])))


def check_position(position, with_cid=False):
    """A page position (a ``ledger_key``, with a cid after it for outputs) as a
    list, None for none; InvalidPosition for anything else."""
    if position is None:
        return None
    shape = (_NUMBER, str, int, int) if with_cid else (_NUMBER, str, int)
    if not (isinstance(position, list) and len(position) == len(shape)
            and all(isinstance(part, kind) and not isinstance(part, bool) for part, kind in zip(position, shape))):
        raise InvalidPosition(f"not a position of this list: {position!r}")
    return position


def check_band(position, words):
    """``(band, ledger key or None)`` of a search position (see
    ``connection.search_page``); ``(words, None)`` for none."""
    if position is None:
        return words, None
    if not (isinstance(position, list) and len(position) == 2 and type(position[0]) is int
            and 1 <= position[0] <= words):
        raise InvalidPosition(f"not a position of this search: {position!r}")
    return position[0], check_position(position[1])


_NUMBER = (int, float)


def owned_cids(tx, owner):
    """The cids of the outputs of the stored ``tx`` whose owners_after include ``owner``."""
    try:
        return [condition["cid"] for condition in tx["transaction"]["conditions"]
                if type(condition["cid"]) is int and owner in flatten(condition["owners_after"])]
    except (KeyError, TypeError):
        return []


def is_genesis(block_row):
    """A block of exactly one transaction, a GENESIS one (anything else is a block to vote on)."""
    return transactions(block_row).count().eq(1).and_(
        transactions(block_row)[0]["transaction"]["operation"].eq("GENESIS"))


INDEXES = {
    BACKLOG: {
        # backlog_assigned_to (oldest first) and backlog_feed
        "assignee_and_time": (lambda row: [row["assignee"], row["assignment_timestamp"]], False),
        # stale_backlog
        "assignment_timestamp": (lambda row: row["assignment_timestamp"], False),
        # backlog_spenders
        "spent_inputs": (lambda row: spent_by(row["tx"]).distinct(), True),
    },
    BIGCHAIN: {
        # only the genesis block has an entry: get_all(True, index="genesis")
        "genesis": (lambda block: r.branch(is_genesis(block), [True], []), True),
        # block_feed resumption; blocks_not_voted_by, in the order written
        WRITTEN_AT: (lambda block: block[WRITTEN_AT], False),
    },
    TRANSACTIONS: {
        "transaction_id": (lambda row: row["tx"]["id"], False),
        "spent_inputs": (lambda row: spent_by(row["tx"]).distinct(), True),
        # transactions_by_asset and the pages (see ``ledger_order``)
        LEDGER_ORDER: (ledger_order, True),
    },
    WORDS: {
        "word_order": (lambda entry: r.expr([entry["kind"], entry["word"]]).add(ledger_key(entry)), False),
    },
    VOTES: {
        # votes_for (any number of blocks at once)
        "block": (lambda vote: vote["vote"]["voting_for_block"], False),
        # blocks_not_voted_by (a point)
        "block_and_voter": (lambda vote: [vote["vote"]["voting_for_block"], vote["node_pubkey"]], False),
        # last_vote_by
        "voter_and_time": (lambda vote: [vote["node_pubkey"], vote[WRITTEN_AT]], False),
        # vote_feed resumption
        WRITTEN_AT: (lambda vote: vote[WRITTEN_AT], False),
    },
    REQUEUED: {},
    CLAIMS: {
        # releasing the claims of transactions leaving the backlog
        "spender": (lambda claim: claim["spender"], False),
    },
}
"""``{table: {index name: (index function, multi)}}`` (the settings table has none)."""


def word_rows(block_id, keys, transactions):
    """The ``words`` rows of a block's transactions (without ``written_at``,
    which the write adds): ``keys`` are their ``transactions`` row keys."""
    return [row for position, (key, tx) in enumerate(zip(keys, transactions))
            for row in transaction_words(key, block_id, position, tx)]


def transaction_words(key, block_id, position, tx):
    """The ``words`` rows of the transaction ``tx`` of the ``transactions`` row ``key``."""
    body = tx.get("transaction") if isinstance(tx, dict) else None
    if not isinstance(body, dict):
        return []
    return [{"id": hash_data(f"{kind}/{word}/{key}"), "kind": kind, "word": word, "row": key,
             "block_id": block_id, "position": position}
            for kind in ("asset", "metadata") if isinstance(body.get(kind), dict)
            for word in words_in(body[kind].get("data"))]


LATER_TABLES = (SETTINGS, WORDS)
LATER_INDEXES = {TRANSACTIONS: {LEDGER_ORDER}}
"""Tables and indexes a store made by an earlier version may lack: it is
complete without them, and ``upgrade`` adds them."""

FORMER_INDEXES = {TRANSACTIONS: {"asset", "owner_order", "asset_order", "asset_operation_order", "metadata_order"}}
"""Indexes an earlier version made that ``ledger_order`` replaced: ``upgrade``
drops them (each costs every block write)."""
