"""A store holding K transactions before the run, built once and cached.

Posting a million transactions through HTTP would take hours, so the store
is written directly with the backend API, the way the node's own pipelines
would have written it: blocks of 1000 signed CREATEs made by the node's key
(``Bigchain.create_block``), each followed by the node's VALID vote, chained
as the vote pipeline chains them.  Worker processes build and sign the
blocks; the parent writes them in order.

The store is tied to its node's keypair (the blocks name it as creator and
voter), so the cache is two files: ``preload-K.sqlite`` and ``preload-K.json``
(the keypair, and a sample of stored ids for the GET phase).  A run copies
the store and starts its node with that keypair.

    python -m benchmarks.preload K   # build the cache now (run.py --preload K does it on demand)

A build stopped with SIGTERM or SIGINT (Ctrl-C) ends after the block being
written, and is cached as a store of the transactions written so far
(``preload-<written>.*``, the count it printed last): for sizes whose build
outlasts the time at hand.  A build starts from a copy of the largest
smaller store cached, if any, and writes only the transactions it lacks,
so that a large size can be reached over several sittings.
"""

import functools
import json
import os
import random
import shutil
import signal
import sqlite3
import sys
import time

from bigchaindb import backend
from bigchaindb.backend.sqlite import blocks, votes
from bigchaindb.common.crypto import CryptoKeypair, generate_key_pair
from bigchaindb.core import Bigchain
from bigchaindb.models import make_vote
from benchmarks.transactions import chunks, pool, signed_creates

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SAMPLE = 1000
"""Stored ids kept for the GET phase: reads spread over the whole store."""
BLOCKS_PER_COMMIT = 50
CACHE_KIB = 3_000_000
"""The build's page cache: about the id indexes of ten million transactions."""


def cached(count, processes=None, directory=RESULTS):
    """``(store path, keypair, sample ids)`` of a store preloaded with ``count`` transactions."""
    path = os.path.join(directory, f"preload-{count}.sqlite")
    meta_path = os.path.join(directory, f"preload-{count}.json")
    if not (os.path.exists(path) and os.path.exists(meta_path)):
        partial = path + ".partial"  # renamed only once complete: a killed build is not cached
        keypair, sample, written = build(partial, count, processes, start=largest_below(count, directory))
        if written < count:  # stopped: cached under the size it reached
            path, meta_path = (os.path.join(directory, f"preload-{written}.{kind}") for kind in ("sqlite", "json"))
        with open(meta_path, "w", encoding="utf-8") as handle:
            json.dump({"keypair": keypair._asdict(), "sample": sample}, handle)
        os.replace(partial, path)
    with open(meta_path, encoding="utf-8") as handle:
        meta = json.load(handle)
    return path, CryptoKeypair(**meta["keypair"]), meta["sample"]


def copy(count, destination, processes=None):
    """Copy the cached store of ``count`` transactions (built if need be) to ``destination``;
    ``(keypair, sample ids)``."""
    path, keypair, sample = cached(count, processes)
    shutil.copyfile(path, destination)
    return keypair, sample


def fresh_store(path):
    """A new SQLite store at ``path`` (any old one removed) holding its genesis block:
    ``(node keypair, connection, bigchain)``."""
    for leftover in (path, path + "-wal", path + "-shm"):
        if os.path.exists(leftover):
            os.remove(leftover)
    keypair = generate_key_pair()
    connection = backend.connect({"backend": "sqlite", "path": path})
    connection.init()
    bigchain = Bigchain(connection, keypair.public_key, keypair.private_key)
    bigchain.create_genesis_block()
    return keypair, connection, bigchain


def largest_below(count, directory=RESULTS):
    """``(transactions, store path, meta path)`` of the largest cached store smaller than ``count``, or None."""
    sizes = []
    for name in os.listdir(directory) if os.path.isdir(directory) else ():
        size = name.removeprefix("preload-").removesuffix(".sqlite")
        if name.startswith("preload-") and name.endswith(".sqlite") and size.isdigit() and int(size) < count:
            meta_path = os.path.join(directory, f"preload-{size}.json")
            if os.path.exists(meta_path):
                sizes.append((int(size), os.path.join(directory, name), meta_path))
    return max(sizes, default=None)


def build(path, count, processes=None, start=None):
    """Write a store at ``path`` holding ``count`` transactions in VALID blocks (fewer if
    stopped by SIGTERM or SIGINT); ``(keypair, sample, transactions written)``.  From
    ``start`` (see ``largest_below``), a copy of that store is extended instead."""
    if start is None:
        keypair, connection, bigchain = fresh_store(path)
        sample, written = [], 0
    else:
        written, store_path, meta_path = start
        shutil.copyfile(store_path, path)
        with open(meta_path, encoding="utf-8") as handle:
            meta = json.load(handle)
        keypair = CryptoKeypair(**meta["keypair"])
        sample = random.sample(meta["sample"], len(meta["sample"]) * written // count)  # store-wide still
        connection = backend.connect({"backend": "sqlite", "path": path})
        bigchain = Bigchain(connection, keypair.public_key, keypair.private_key)
        print(f"preload: extending the cached store of {written} transactions", flush=True)
    last_vote = bigchain.last_vote()  # (opening the store brings an older schema up to date)
    previous = last_vote["vote"]["voting_for_block"] if last_vote else bigchain.genesis_id
    connection.close()
    started, begun_at = time.monotonic(), written
    db = _bulk_handle(path)
    next_seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'blocks'").fetchone()[0] + 1
    make_rows = functools.partial(_block_rows, keypair.public_key, keypair.private_key, next_seq)
    jobs = [(index, written + first, size) for index, (first, size) in enumerate(chunks(count - written))]
    stop = []
    with pool(processes) as workers:
        for signum in (signal.SIGTERM, signal.SIGINT):  # the workers (forked already) keep the defaults
            signal.signal(signum, lambda *_: stop.append(True))
        for index, (header, rows) in enumerate(workers.imap(make_rows, jobs)):
            if stop:
                break
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            if blocks.write_rows(db, header, rows) != next_seq + index:
                raise RuntimeError(f"{path}: block {header[0]} was not stored as block {next_seq + index}")
            block_id = header[0]
            votes.write(db, make_vote(block_id, previous, True, None, keypair.private_key, keypair.public_key))
            previous = block_id
            if index % BLOCKS_PER_COMMIT == BLOCKS_PER_COMMIT - 1:
                db.execute("COMMIT")
            tx_ids = [tx_id for _, _, tx_id, _ in rows["block_transactions"]]
            written += len(tx_ids)
            share = max(1, SAMPLE * len(tx_ids) // count)  # about SAMPLE in all, store-wide
            sample += random.sample(tx_ids, min(share, len(tx_ids)))
            if written % 50_000 < len(tx_ids):
                print(f"preload: {written}/{count} transactions stored "
                      f"({(written - begun_at) / (time.monotonic() - started):.0f} tx/s)", flush=True)
    if db.in_transaction:
        db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")  # as the node keeps it
    db.close()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, signal.SIG_DFL)
    return keypair, sample, written


def _bulk_handle(path):
    """A handle on the store for writing many blocks fast: no rollback journal and
    no syncing (a build that fails is thrown away, never cached), a large page
    cache (the id indexes are written at random places), and commits of many
    blocks.  What it writes is what the node writes: its own SQL (``blocks``,
    ``votes``), the same rows, into the same tables and indexes."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return db


def _block_rows(public_key, private_key, first_seq, job):
    """The rows of one signed block of fresh transactions, stored as block
    ``first_seq + index`` (in a worker: no store needed to make them)."""
    index, first, size = job
    block = Bigchain(None, public_key, private_key).create_block(signed_creates(first, size)).to_dict()
    return blocks.header_row(block), blocks.rows(first_seq + index, block)


if __name__ == "__main__":
    print(cached(int(sys.argv[1]))[0])
