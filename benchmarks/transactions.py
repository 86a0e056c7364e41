"""Signed CREATE transactions, built in several processes before any clock starts.

Building and signing costs far more CPU than posting, so doing it while the
node runs would measure the harness, not the node.  Each chunk has its own
owner key; every transaction has its own asset (a fresh uuid4), so no two
are ever the same, not even across runs.
"""

import multiprocessing
import os

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import serialize

CHUNK = 1000


def signed_creates(start, count):
    """``count`` signed CREATE dicts with assets ``{"n": start}``, ``{"n": start + 1}``, ..."""
    owner = generate_key_pair()
    return [Transaction.create([owner.public_key], [([owner.public_key], 1)], asset=Asset({"n": n}))
            .sign([owner.private_key]).to_dict()
            for n in range(start, start + count)]


def chunks(total, size=CHUNK):
    """``(start, count)`` pairs covering ``range(total)`` in pieces of ``size``."""
    return [(start, min(size, total - start)) for start in range(0, total, size)]


def pool(processes=None):
    """A process pool for building: one process per core unless told otherwise."""
    return multiprocessing.get_context("fork").Pool(processes or os.cpu_count())


def _bodies(chunk):
    return [(tx["id"], serialize(tx)) for tx in signed_creates(*chunk)]


def build_bodies(count, processes=None):
    """``count`` distinct transactions as ``(id, JSON body bytes)``, ready to post."""
    with pool(processes) as workers:
        return [item for part in workers.imap(_bodies, chunks(count, 250)) for item in part]
