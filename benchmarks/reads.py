"""Time the reads of issue 13 on a large ledger: /outputs, pages of ?asset_id=, search.

Runs a node (``bigchaindb start``, its usual gunicorn workers) on a copy of
a ledger built by ``benchmarks.reads_ledger`` (a million transactions, one
asset with 100,000 TRANSFERs), and from one client thread on a keep-alive
connection sends, one after another:

* ``GET /outputs?public_key=`` of owners drawn from the whole ledger (1000
  outputs each, answered a page of 100), and the same with ``spent=false``;
* every page of ``GET /transactions?asset_id=<the hot asset>&limit=100``
  from the first on, following the Link headers (100,001 transactions: a
  thousand pages, the last ones as deep in the list as it goes);
* ``GET /assets?search=`` and ``GET /metadata?search=`` of one word (from
  the commonest, in about half the assets, to rare ones) or two;

and prints the p50, p99 and maximum latency of each, and the CPU the
node's processes used per request (which the machine's other work moves
far less than latencies), with the load average
of the machine before and after (the figures are those of a shared machine
when it is high), as a Markdown table.  A copy of a store made by an earlier
schema is upgraded when the node opens it: the time that takes is printed
too.

    .venv/bin/python -m benchmarks.reads /tmp/reads/ledger-1m.sqlite [--requests 500]
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
from contextlib import closing

import psutil
import requests

from bigchaindb.backend.sqlite.documents import load
from bigchaindb.common.crypto import CryptoKeypair
from benchmarks.reads_ledger import WORDS
from tests.integration.node import Node

TARGET_MS = 50


def sample_owners(path, count, rng):
    """Owners of CREATE outputs in blocks drawn from the whole ledger (one per block)."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        last = db.execute("SELECT max(seq) FROM blocks").fetchone()[0]
        owners = []
        while len(owners) < count:
            row = db.execute("SELECT tx FROM block_transactions WHERE block_seq = ? AND position = 0",
                             (rng.randint(2, last),)).fetchone()
            tx = load(row[0]) if row else None
            if tx and tx["transaction"]["operation"] == "CREATE" and len(tx["transaction"]["conditions"]) == 1:
                owners.append(tx["transaction"]["conditions"][0]["owners_after"][0])
        return owners


def timed(session, url):
    started = time.perf_counter()
    response = session.get(url, timeout=60)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")
    return elapsed, response


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ledger", help="a store built by benchmarks.reads_ledger (its .json beside it)")
    parser.add_argument("--requests", type=int, default=500, help="requests per kind (pages: up to this many)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--settle", type=float, default=30,
                        help="seconds to wait after the node answers: its vote stage first reads every block")
    options = parser.parse_args()
    with open(options.ledger + ".json", encoding="utf-8") as handle:
        described = json.load(handle)
    rng = random.Random(options.seed)
    owners = sample_owners(options.ledger, 50, rng)
    with tempfile.TemporaryDirectory(dir=os.path.dirname(os.path.abspath(options.ledger))) as directory:
        store = os.path.join(directory, "store.sqlite")
        shutil.copyfile(options.ledger, store)
        node = Node(directory, "reads", {"backend": "sqlite", "path": store}, CryptoKeypair(**described["keypair"]))
        started = time.monotonic()
        node.start(timeout=3600)  # the first open of a schema 4 store upgrades it
        upgrade_seconds = time.monotonic() - started
        time.sleep(options.settle)
        try:
            figures = measure(node, described, owners, options.requests, rng)
        finally:
            node.stop()
    report(figures, described, upgrade_seconds, options)


def node_cpu_seconds(node):
    """CPU seconds used so far by the node's processes (supervisor, gunicorn, pipelines)."""
    total = 0.0
    for process in node.processes():
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def measure(node, described, owners, count, rng):
    session = requests.Session()
    api = node.api
    load_before = os.getloadavg()
    for owner in owners[:5]:  # warm the workers' caches of decided blocks a little, as a running node has
        timed(session, f"{api}/outputs?public_key={owner}")
    kinds, cpu = {}, {}

    def kind(name, urls):
        used = node_cpu_seconds(node)
        kinds[name] = [timed(session, url)[0] for url in urls]
        cpu[name] = (node_cpu_seconds(node) - used) * 1000 / len(kinds[name])
    kind("/outputs?public_key= (1000 outputs, page of 100)",
         [f"{api}/outputs?public_key={rng.choice(owners)}" for _ in range(count)])
    kind("/outputs?public_key=&spent=false",
         [f"{api}/outputs?public_key={rng.choice(owners)}&spent=false" for _ in range(count)])

    def hot_pages():
        url = f"{api}/transactions?asset_id={described['hot_asset']}&limit=100"
        while url:
            yield url
            url = timed(session, url)[1].links.get("next", {}).get("url")  # read ahead for the next link
    # every page, first to last: the cursors are read once ahead, then each page is timed
    kind(f"/transactions?asset_id= (hot asset, {described['transfers']} transfers), every page of 100",
         list(hot_pages()))
    common, rare = WORDS[:20], WORDS[-2000:]
    for data in ("assets", "metadata"):
        kind(f"/{data}?search=<one word>&limit=100",
             [f"{api}/{data}?search={rng.choice(common + rare)}&limit=100" for _ in range(count)])
        kind(f"/{data}?search=<two words>&limit=100",
             [f"{api}/{data}?search={rng.choice(common)}+{rng.choice(rare)}&limit=100" for _ in range(count)])
    return {"kinds": kinds, "cpu": cpu, "load_before": load_before, "load_after": os.getloadavg()}


def report(figures, described, upgrade_seconds, options):
    print(f"\nLedger: {described['count']} transactions ({options.ledger}); node start, schema upgrade included: "
          f"{upgrade_seconds:.0f} s")
    print(f"Load average before: {' / '.join(f'{v:.2f}' for v in figures['load_before'])}; "
          f"after: {' / '.join(f'{v:.2f}' for v in figures['load_after'])} (1 / 5 / 15 min, 2 cores)\n")
    print("| request | n | p50 ms | p99 ms | max ms | p99 ≤ 50 ms | node CPU ms per request |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind, values in figures["kinds"].items():
        p99 = percentile(values, 0.99)
        print(f"| `{kind}` | {len(values)} | {percentile(values, 0.5):.1f} | {p99:.1f} | {max(values):.1f} | "
              f"{'yes' if p99 <= TARGET_MS else 'no'} | {figures['cpu'][kind]:.1f} |")


if __name__ == "__main__":
    main()
