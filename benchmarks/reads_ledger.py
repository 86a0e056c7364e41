"""A ledger shaped for the read benchmark (``benchmarks.reads``), built once.

``count`` transactions in VALID blocks of 1000, written with the backend API
as ``benchmarks.preload`` writes its store (the node's blocks and votes,
signed in worker processes), but holding what the reads need:

* CREATEs whose asset data and metadata are words drawn from a vocabulary
  with a skewed (Zipf-like) frequency, so that searches meet both rare and
  common words; each block of them has its own owner, who so holds 1000
  outputs;
* one divisible asset with ``transfers`` TRANSFERs: its CREATE gives one
  output to each of ``CHAINS`` owners, each of whom then passes it on to
  themselves ``transfers / CHAINS`` times.  A block holds one step of every
  chain, and these blocks are spread evenly through the ledger.

Every transaction is signed and valid as the node would check it.  The
store is a SQLite file at ``path``; ``path.json`` keeps the node's keypair
and what the benchmark asks for (the hot asset's id, owners, words).

    python -m benchmarks.reads_ledger PATH [--count 1000000] [--transfers 100000]
"""

import argparse
import functools
import json
import random
import time

from bigchaindb.common.crypto import CryptoKeypair, generate_key_pair, public_key_of
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from benchmarks import preload
from benchmarks.transactions import CHUNK, pool

CHAINS = 1000
"""Owners of the hot asset, each passing one output on along a chain of transfers."""


def vocabulary(size=5000):
    """``size`` made-up words of two to four syllables, the same every run."""
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gu", "fi", "be", "ho", "ja"]
    rng = random.Random(8)
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


WORDS = vocabulary()
_WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]  # Zipf: the first word is the commonest


def phrase(rng, length):
    return " ".join(rng.choices(WORDS, _WEIGHTS, k=length))


def creates(start, count):
    """``count`` signed CREATEs of one owner, with words in their asset data and metadata."""
    owner = generate_key_pair()
    rng = random.Random(start)
    return [Transaction.create([owner.public_key], [([owner.public_key], 1)],
                               asset=Asset({"n": n, "title": phrase(rng, 3), "tags": [phrase(rng, 1), phrase(rng, 1)]}),
                               metadata={"note": phrase(rng, 4)})
            .sign([owner.private_key]).to_dict() for n in range(start, start + count)]


def chain(create, owner, cid, steps):
    """``steps`` TRANSFERs of output ``cid`` of the hot asset's CREATE, each spending the one before."""
    found, previous = [], Transaction.from_dict(create)
    inputs = previous.to_inputs([cid])
    for _ in range(steps):
        tx = Transaction.transfer(inputs, [([owner.public_key], 1)], create["transaction"]["asset"]["id"])
        tx.sign([owner.private_key])
        found.append(tx.to_dict())
        inputs = tx.to_inputs([0])
    return found


def _chain(args):
    create, secret, cid, steps = args
    return chain(create, CryptoKeypair(secret, public_key_of(secret)), cid, steps)


def _block(public_key, private_key, transactions):
    return Bigchain(None, public_key, private_key).create_block(transactions).to_dict()


def _create_block(public_key, private_key, chunk):
    return _block(public_key, private_key, creates(*chunk))


def build(path, count, transfers, processes=None):
    """Write the ledger to ``path`` and its description to ``path.json``."""
    node, connection, bigchain = preload.fresh_store(path)
    write = functools.partial(_write, connection, bigchain)

    issuer = generate_key_pair()
    owners = [generate_key_pair() for _ in range(CHAINS)]
    hot = Transaction.create([issuer.public_key], [([owner.public_key], 1) for owner in owners],
                             asset=Asset({"title": "the hot asset"}, divisible=True)).sign([issuer.private_key]).to_dict()
    write([_block(node.public_key, node.private_key, [hot])])
    steps = transfers // CHAINS
    started, written = time.monotonic(), 1
    with pool(processes) as workers:
        chains = workers.map(_chain, [(hot, owner.private_key, cid, steps) for cid, owner in enumerate(owners)],
                             chunksize=20)
        print(f"reads ledger: {CHAINS * steps} transfers signed in {time.monotonic() - started:.0f} s", flush=True)
        transfer_blocks = [[chains[c][step] for c in range(CHAINS)] for step in range(steps)]
        del chains
        create_count = count - 1 - CHAINS * steps
        chunks = [(start, min(CHUNK, create_count - start)) for start in range(0, create_count, CHUNK)]
        every = max(1, len(chunks) // max(1, steps))  # a transfer block after every ``every`` CREATE blocks
        make = functools.partial(_create_block, node.public_key, node.private_key)
        for index, block in enumerate(workers.imap(make, chunks, chunksize=4)):
            write([block])
            written += len(block["block"]["transactions"])
            if transfer_blocks and index % every == every - 1:
                written += CHAINS
                write([_block(node.public_key, node.private_key, transfer_blocks.pop(0))])
            if index % 50 == 0:
                print(f"reads ledger: {written}/{count} ({written / (time.monotonic() - started):.0f} tx/s)",
                      flush=True)
        for transactions in transfer_blocks:
            write([_block(node.public_key, node.private_key, transactions)])
    connection.close()
    description = {"keypair": node._asdict(), "hot_asset": hot["transaction"]["asset"]["id"],
                   "hot_owner": owners[0].public_key, "transfers": CHAINS * steps, "count": count,
                   "common_word": WORDS[0], "rare_words": WORDS[-3:]}
    with open(path + ".json", "w", encoding="utf-8") as handle:
        json.dump(description, handle, indent=2)
    return description


def _write(connection, bigchain, blocks):
    for block in blocks:
        connection.write_block(block)
        connection.write_vote(bigchain.vote(block["id"], True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--transfers", type=int, default=100_000)
    options = parser.parse_args()
    print(json.dumps(build(options.path, options.count, options.transfers), indent=2))


if __name__ == "__main__":
    main()
