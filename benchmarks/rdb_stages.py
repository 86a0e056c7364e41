"""Where a committed transaction's round trips and RethinkDB server CPU go.

Runs the node's own code, in this process, on a RethinkDB server of its own
(started in a scratch directory, removed afterwards), one phase at a time:

- ``post``: ``--count`` CREATEs accepted (``Bigchain.accept_transaction``,
  what POST /transactions runs) from ``--threads`` threads at once;
- ``block``: the block stage taking them from the backlog in feed batches of
  ``--block-size`` and writing one block per batch;
- ``vote``: the vote stage voting on every block;
- ``election``: the election stage counting every vote.

For each phase it prints the queries sent to the server (every round trip,
counted where the engine runs them), the server's CPU seconds (``psutil`` on
its process) and this process's, each per transaction, and the phase's
rate.  Run it on two checkouts to compare them (``PYTHONPATH`` naming the
other's tree): the figures are of the ``bigchaindb`` package imported.

    .venv/bin/python benchmarks/rdb_stages.py --count 2000 --threads 16 --block-size 50
"""

import argparse
import collections
import copy
import os
import sys
import tempfile
import threading
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bigchaindb import config as node_config  # noqa: E402
from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection  # noqa: E402
from bigchaindb.commands.bigchaindb import initialise  # noqa: E402
from bigchaindb.common.crypto import generate_key_pair  # noqa: E402
from bigchaindb.core import Bigchain  # noqa: E402
from bigchaindb.pipelines.block import BlockPipeline  # noqa: E402
from bigchaindb.pipelines.election import ElectionPipeline  # noqa: E402
from bigchaindb.pipelines.vote import VotePipeline  # noqa: E402
from tests.helpers import create_tx  # noqa: E402
from tests.rethinkdb_server import RethinkDBServer  # noqa: E402

QUERIES = collections.Counter()
DETAIL = collections.defaultdict(lambda: [0, 0.0, 0.0])  # what: [queries, server CPU s, wall s]


def count_queries(server, detail):
    """Count every query any RethinkDB connection of this process sends; with
    ``detail`` (one thread at a time only) also the server's CPU and the wall
    time of each, by what it does (the tables it touches and how)."""
    run_once = RethinkDBConnection._run_once

    def counting(self, query, options, *args, **kwargs):
        QUERIES["all"] += 1
        if not detail or QUERIES.get("threads"):
            return run_once(self, query, options, *args, **kwargs)
        cpu, started = sum(server.cpu_times()[:2]), time.monotonic()
        try:
            return run_once(self, query, options, *args, **kwargs)
        finally:
            entry = DETAIL[(QUERIES.get("phase"), what(query), bool(options))]
            entry[0] += 1
            entry[1] += sum(server.cpu_times()[:2]) - cpu
            entry[2] += time.monotonic() - started
    RethinkDBConnection._run_once = counting


def what(query):
    """The tables a query touches and how (``backlog.GetAll``, ``bigchain.Insert``, ...)."""
    found = []

    def walk(term, parent):
        if type(term).__name__ == "Table":
            found.append(f"{term._args[-1].data}.{type(parent).__name__ if parent is not None else ''}")
        for child in list(getattr(term, "_args", [])) + list(getattr(term, "optargs", {}).values()):
            walk(child, term)
    walk(query, None)
    return " ".join(sorted(found))


class Phase:
    """The queries, server CPU, own CPU and wall time of what runs inside it."""

    def __init__(self, server, name, count):
        self.server, self.name, self.count = server, name, count

    def __enter__(self):
        QUERIES["phase"] = self.name
        self.queries = QUERIES["all"]
        self.server_cpu = sum(self.server.cpu_times()[:2])
        self.own_cpu = sum(psutil.Process().cpu_times()[:2])
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self.started
        queries = QUERIES["all"] - self.queries
        server = sum(self.server.cpu_times()[:2]) - self.server_cpu
        own = sum(psutil.Process().cpu_times()[:2]) - self.own_cpu
        print(f"{self.name:9} {self.count:6d} tx  {queries:6d} queries ({queries / self.count:.3f}/tx)  "
              f"server {1000 * server / self.count:.3f} ms/tx  node {1000 * own / self.count:.3f} ms/tx  "
              f"{self.count / wall:8.1f} tx/s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=50)
    parser.add_argument("--detail", action="store_true",
                        help="the server CPU and wall time of each kind of query in the stages (one thread)")
    args = parser.parse_args()

    directory = tempfile.mkdtemp(prefix="rdb-stages-")
    server = RethinkDBServer(directory).start()
    try:
        run(server, args)
    finally:
        server.remove()


def run(server, args):
    config = copy.deepcopy(node_config.DEFAULTS)
    keypair = generate_key_pair()
    config["keypair"] = {"public": keypair.public_key, "private": keypair.private_key}
    config["database"].update(server.database_config, name="bigchain")
    initialise(config)

    def process_ledger():
        # each stage runs in a process of its own, with its own connection and caches
        return Bigchain.from_config(config, RethinkDBConnection("127.0.0.1", server.driver_port, "bigchain"))
    ledger = process_ledger()
    process = psutil.Process(server.process.pid)
    count_queries(process, args.detail)

    owner = generate_key_pair()
    txs = [create_tx(owner, metadata={"n": n}).to_dict() for n in range(args.count)]
    chunks = [txs[start::args.threads] for start in range(args.threads)]

    def post(chunk):
        for tx in chunk:
            ledger.accept_transaction(tx)
    with Phase(process, "post", args.count):
        QUERIES["threads"] = args.threads > 1
        threads = [threading.Thread(target=post, args=(chunk,)) for chunk in chunks]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        QUERIES["threads"] = 0

    stage = BlockPipeline(process_ledger(), max_size=args.block_size, max_wait=1000)
    entries = ledger.connection.backlog_assigned_to(ledger.me)
    with Phase(process, "block", len(entries)):
        for start in range(0, len(entries), args.block_size):
            stage.add_all(entries[start:start + args.block_size])
            stage.close_if_due()
    blocks = [block_id for block_id in dict.fromkeys(
        block_id for tx in txs for block_id in ledger.connection.blocks_with_transaction(tx["id"]))]

    voter = VotePipeline(process_ledger())
    with Phase(process, "vote", args.count):
        for block_id in blocks:
            voter.vote_on(block_id)

    votes = [vote for block_id in blocks for vote in ledger.connection.votes_for(block_id)]
    election = ElectionPipeline(process_ledger())
    election.live = True
    with Phase(process, "election", args.count):
        for vote in votes:
            election.on_vote(vote)
    print(f"{len(blocks)} blocks, {len(votes)} votes", flush=True)
    for (phase, kind, majority), (queries, cpu, wall) in DETAIL.items():
        print(f"  {phase:9} {queries:5d} x {kind[:90]:90} {'majority' if majority else '':8} "
              f"server {1000 * cpu / queries:7.2f} ms, wall {1000 * wall / queries:7.2f} ms each", flush=True)


if __name__ == "__main__":
    main()
