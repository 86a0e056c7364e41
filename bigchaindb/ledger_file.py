"""A whole ledger as one file: exported from a store, imported into a new one.

The file is JSON lines.  The first line says what the file is; then one
line per block, in the order the blocks were written, each with the votes
cast on it so far:

    {"format": "bigchaindb-ledger", "version": 1}
    {"block": {...genesis...}, "votes": []}
    {"block": {...}, "votes": [{...}, ...]}

That is everything the ledger is: transactions live in blocks, statuses
follow from the votes.  The backlog (transactions not yet in a block) is
not part of it.  Both directions stream, a block at a time, so memory
stays bounded by the largest block whatever the ledger's size.

An import checks the whole file before it writes anything: every block's
id and signature, every vote's signature and the block it is for, and that
the first block is a genesis block; a file that fails names the line and
the reason, and the store is left untouched.  It then writes into a store
it creates, so a ledger is never merged into another.
"""

import hashlib

import orjson

from bigchaindb.backend.exceptions import DatabaseAlreadyExists
from bigchaindb.common.exceptions import BigchainDBError, InvalidBlock
from bigchaindb.common.transaction import GENESIS
from bigchaindb.common.utils import serialize
from bigchaindb.consensus import vote_is_authentic
from bigchaindb.models import Block

FORMAT = "bigchaindb-ledger"
VERSION = 1
HEADER = {"format": FORMAT, "version": VERSION}
BATCH = 20
"""Blocks read from the store per query: bounds memory (a block holds at most 1,000 transactions)."""


class LedgerFileError(BigchainDBError):
    """A ledger file that cannot be imported; the message names the line."""


def export_ledger(connection, out):
    """Write the ledger of ``connection`` to the binary file ``out``; returns (blocks, votes) written."""
    out.write(serialize(HEADER) + b"\n")
    blocks = votes = 0
    position = None
    while batch := connection.blocks_after(position, BATCH):
        for position, block in batch:
            # rows anyone could have written in a voter's name stay behind: only signed votes travel
            cast = [vote for vote in connection.votes_for(block["id"]) if vote_is_authentic(vote)]
            out.write(serialize({"block": block, "votes": cast}) + b"\n")
            blocks += 1
            votes += len(cast)
    return blocks, votes


def import_ledger(connection, path):
    """Check the ledger file at ``path``, then write it into the new store of ``connection``.

    Returns (blocks, votes) written.  Raises LedgerFileError naming the first
    bad line (nothing is written then), and DatabaseAlreadyExists when the
    store already holds a ledger.
    """
    if connection.is_initialised():
        raise DatabaseAlreadyExists("the store already holds a ledger; import into a new one "
                                    "(`bigchaindb drop` first, or another database)")
    checked = check_ledger_file(path)
    connection.init()
    digest = hashlib.sha256()
    blocks = votes = 0
    for _, entry in _entries(path, digest):
        if entry is None:
            continue
        connection.write_block(entry["block"])
        for vote in entry["votes"]:
            connection.write_vote(vote)
        blocks += 1
        votes += len(entry["votes"])
    if digest.digest() != checked:
        raise LedgerFileError(f"{path} changed while it was being imported; the store holds a partial "
                              "ledger: drop it and import again")
    return blocks, votes


def check_ledger_file(path):
    """Check every line of the ledger file at ``path``; returns the file's SHA-256 digest."""
    digest = hashlib.sha256()
    blocks = 0
    for number, entry in _entries(path, digest):
        if entry is None:
            continue
        try:
            _check_entry(entry, first=blocks == 0)
        except (InvalidBlock, LedgerFileError, KeyError, TypeError, ValueError) as exc:
            raise LedgerFileError(f"{path}, line {number}: {exc}") from None
        blocks += 1
    if blocks == 0:
        raise LedgerFileError(f"{path} holds no blocks: a ledger starts with its genesis block")
    return digest.digest()


def _entries(path, digest):
    """``(line number, entry)`` for every line (None for the header), fed to ``digest`` as read."""
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, start=1):
            digest.update(raw)
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise LedgerFileError(f"{path}, line {number}: not JSON ({exc})") from None
            if number == 1:
                if entry != HEADER:
                    raise LedgerFileError(f"{path}, line 1: not a {FORMAT} file of version {VERSION}")
                entry = None
            elif not (isinstance(entry, dict) and set(entry) == {"block", "votes"}
                      and isinstance(entry["votes"], list)):
                raise LedgerFileError(f"{path}, line {number}: a line holds exactly a block and its votes")
            yield number, entry


def _check_entry(entry, first):
    block = Block.from_dict(entry["block"])  # id and signature
    is_genesis = len(block.transactions) == 1 and _operation(block.transactions[0]) == GENESIS
    if first and not is_genesis:
        raise LedgerFileError("the first block is not a genesis block")
    if not first and is_genesis:
        raise LedgerFileError(f"block {block.id} is a second genesis block")
    for index, vote in enumerate(entry["votes"]):
        body = vote.get("vote") if isinstance(vote, dict) else None
        if not isinstance(body, dict) or body.get("voting_for_block") != block.id:
            raise LedgerFileError(f"vote {index} is not a vote on block {block.id}")
        if not vote_is_authentic(vote):
            raise LedgerFileError(f"vote {index} on block {block.id} is not signed by its voter")


def _operation(tx):
    try:
        return tx["transaction"]["operation"]
    except (KeyError, TypeError):
        return None
