"""The CPU a node spends refusing the costliest transactions one POST can carry.

Every case is one body within the node's body limit (``server.max_body_size``,
1 MiB by default), built to make refusing it as dear as the rules allow.
All but ``junk-transfer`` are validly signed but for their last fulfillment,
so the node has to check every other one before it finds the bad one:

* ``junk-transfer``: a TRANSFER with as many inputs as fit, each spending
  another output of one CREATE of ~1 MB (on the ledger, VALID), every
  fulfillment a well-formed ``cf:4`` with a junk signature (issue 9, point 2);
* ``quadratic-create`` / ``quadratic-transfer``: inputs and metadata sized for
  the most signing work (each fulfillment signs the transaction but the
  other fulfillments: the work is inputs x size, largest at half the body
  in fulfillments), the TRANSFER spending outputs of that CREATE;
* ``capped-create``: as much signing work as ``MAX_SIGNED_BYTES`` allows;
* ``threshold-create``: fulfillments of 16 signatures each (8 nested pairs
  of keys, the largest owners the node supports), as many as the body and
  ``MAX_SIGNED_BYTES`` allow;
* ``many-inputs``: a TRANSFER spending as many outputs of that CREATE as
  fit: a ledger lookup for every input, then its signature.

One node (``bigchaindb start``, a one-node federation) is started in a
temporary directory, on the embedded store or (``--engine rethinkdb``) on a
RethinkDB server of its own, and the ledger set up through its API; then
each case is posted once.  Reported: the CPU seconds (user + system, from
``psutil``) every process of the node used during the POST, that of the
busiest one (the web worker that served it), the RethinkDB server's, the
wall time and the answer.

    .venv/bin/python benchmarks/worst_post.py [--case junk-transfer ...] [--max-body-size 1048576]
                                              [--engine sqlite|rethinkdb]

Building the cases signs thousands of fulfillments over large messages: that
takes the harness a minute or so, before the node is measured.
"""

import argparse
import base64
import os
import sys
import tempfile
import time

import base58
import psutil
import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script: import `bigchaindb` and `tests` from the repository

from bigchaindb.common import crypto  # noqa: E402
from bigchaindb.common.transaction import (  # noqa: E402
    MAX_SIGNED_BYTES, Asset, Fulfillment, Transaction, signed_bytes)
from bigchaindb.common.utils import serialize  # noqa: E402
from tests.integration.node import Node  # noqa: E402
from tests.rethinkdb_server import RethinkDBServer  # noqa: E402

POST_TIMEOUT = 600
NESTED_PAIRS = 8  # owners [[a, b], ...]: 16 signatures, the most one fulfillment may need


def junk_uri(public_key):
    """A well-formed cf:4 fulfillment of ``public_key`` whose signature is 64 zero bytes."""
    payload = base58.b58decode(public_key) + bytes(64)
    return "cf:4:" + base64.urlsafe_b64encode(payload).rstrip(b"=").decode()


def size(tx):
    return len(serialize(tx.to_dict()))


def work(tx):
    """What the node counts against ``MAX_SIGNED_BYTES`` for the signed ``tx``."""
    body = tx.to_dict()
    nulled = dict(body["transaction"], fulfillments=[dict(f, fulfillment=None)
                                                     for f in body["transaction"]["fulfillments"]])
    return signed_bytes(len(serialize({"transaction": nulled, "version": body["version"]})),
                        body["transaction"]["fulfillments"])


def largest(build, fits, most=None):
    """``build(n)`` for the largest ``n`` >= 1 (and <= ``most``) for which ``fits(build(n))`` (bisection)."""
    low, high = 1, 2
    while (most is None or high <= most) and fits(build(high)):
        low, high = high, high * 2
    if most is not None and high > most:
        if fits(build(most)):
            return build(most)
        high = most
    while high - low > 1:
        middle = (low + high) // 2
        if fits(build(middle)):
            low = middle
        else:
            high = middle
    return build(low)


def junk_signed(tx, owner):
    """``tx`` with every fulfillment a junk one as long as a real one: for sizing before signing."""
    for ffill in tx.fulfillments:
        ffill.uri = junk_uri(owner.public_key)
    return tx


class Cases:
    """The bodies of every case, for an attacker ``owner`` and a body limit of ``limit`` bytes."""

    def __init__(self, owner, limit):
        self.owner = owner
        self.limit = limit
        self.create = None  # the many-output CREATE, once built

    def fits(self, tx):
        return size(tx) <= self.limit

    def many_outputs_create(self):
        def build(count):
            return Transaction.create([self.owner.public_key], [([self.owner.public_key], 1)] * max(count, 2),
                                      asset=Asset(divisible=True))
        # the signature adds ~150 bytes
        self.create = largest(build, lambda tx: size(tx) <= self.limit - 200).sign([self.owner.private_key])
        return self.create

    def spoiled(self, tx, signers):
        """``tx`` signed by ``signers``, then its last fulfillment replaced by a junk one."""
        tx.sign(signers)
        tx.fulfillments[-1].uri = junk_uri(self.owner.public_key)
        return tx

    def transfer(self, inputs, padding=0):
        return Transaction.transfer(self.create.to_inputs(range(inputs)), [([self.owner.public_key], inputs)],
                                    self.create.asset.id, metadata={"padding": "x" * padding})

    def largest_transfer(self):
        return largest(self.transfer, lambda tx: self.fits(junk_signed(tx, self.owner)),
                       most=len(self.create.conditions))

    def create_with(self, inputs, padding=0, owners=None):
        owners = owners or [self.owner.public_key]
        tx = Transaction.create(owners, [([self.owner.public_key], 1)], metadata={"padding": "x" * padding})
        tx.fulfillments = [Fulfillment(owners) for _ in range(inputs)]
        return tx

    def most_work(self, build):
        """``build(inputs, padding)`` with inputs at half the body and padding filling the rest."""
        one_input = len(serialize(junk_signed(build(1, 0), self.owner).fulfillments[0].to_dict(9999))) + 1
        inputs = self.limit // (2 * one_input)
        if build == self.transfer:
            inputs = min(inputs, len(self.create.conditions))
        return largest(lambda padding: junk_signed(build(inputs, padding), self.owner), self.fits)

    def junk_transfer(self):
        return junk_signed(self.largest_transfer(), self.owner)

    def quadratic_create(self):
        return self.spoiled(self.most_work(self.create_with), [self.owner.private_key])

    def quadratic_transfer(self):
        return self.spoiled(self.most_work(self.transfer), [self.owner.private_key])

    def capped_create(self):
        def allowed(tx):
            return self.fits(tx) and work(junk_signed(tx, self.owner)) <= MAX_SIGNED_BYTES
        built = largest(lambda padding: self.create_with(1000, padding), allowed)
        return self.spoiled(built, [self.owner.private_key])

    def threshold_create(self):
        keys = [crypto.generate_key_pair() for _ in range(2 * NESTED_PAIRS)]
        owners = [[keys[2 * i].public_key, keys[2 * i + 1].public_key] for i in range(NESTED_PAIRS)]
        signers = [key.private_key for key in keys]
        # sized with a real fulfillment of these owners in every place
        uri = self.create_with(1, owners=owners).sign(signers).fulfillments[0].uri

        def build(inputs):
            tx = self.create_with(inputs, owners=owners)
            for ffill in tx.fulfillments:
                ffill.uri = uri
            return tx
        built = largest(build, lambda tx: self.fits(tx) and work(tx) <= MAX_SIGNED_BYTES)
        return self.spoiled(build(len(built.fulfillments)), signers)

    def many_inputs(self):
        return self.spoiled(self.largest_transfer(), [self.owner.private_key])


CASES = {
    "junk-transfer": Cases.junk_transfer,
    "quadratic-create": Cases.quadratic_create,
    "quadratic-transfer": Cases.quadratic_transfer,
    "capped-create": Cases.capped_create,
    "threshold-create": Cases.threshold_create,
    "many-inputs": Cases.many_inputs,
}
NEEDS_LEDGER = {"junk-transfer", "quadratic-transfer", "many-inputs"}


def cpu_seconds(processes):
    """``{pid: CPU seconds so far}`` of each of ``processes`` (psutil processes)."""
    found = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[process.pid] = times.user + times.system
    return found


def post(node, body):
    return requests.post(f"{node.api}/transactions", data=body, headers={"Content-Type": "application/json"},
                         timeout=POST_TIMEOUT)


def post_and_measure(node, body, server):
    """POST ``body``: (status, message, wall seconds, CPU seconds of all the node's processes, of the
    busiest one, of the store's ``server`` process if any)."""
    servers = [psutil.Process(server.process.pid)] if server else []
    before, before_server = cpu_seconds(node.processes()), cpu_seconds(servers)
    start = time.monotonic()
    response = post(node, body)
    wall = time.monotonic() - start
    after, after_server = cpu_seconds(node.processes()), cpu_seconds(servers)
    used = [after[pid] - before.get(pid, 0.0) for pid in after]
    served = sum(after_server[pid] - before_server[pid] for pid in after_server)
    answer = response.json() if response.headers.get("Content-Type") == "application/json" else {}
    return response.status_code, answer.get("message", ""), wall, sum(used), max(used), served


def start_store(engine, directory):
    """``(database section, server or None)`` of a fresh store of ``engine``."""
    if engine == "sqlite":
        return {"backend": "sqlite", "path": os.path.join(directory, "node.sqlite")}, None
    server = RethinkDBServer(directory).start()
    return {**server.database_config, "name": "worst_post"}, server


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="a case to run (default: all)")
    parser.add_argument("--max-body-size", type=int, default=1024 * 1024, help="the node's body limit, in bytes")
    parser.add_argument("--engine", choices=("sqlite", "rethinkdb"), default="sqlite", help="the node's store")
    args = parser.parse_args()
    names = args.case or list(CASES)
    cases = Cases(crypto.generate_key_pair(), args.max_body_size)
    with tempfile.TemporaryDirectory(prefix="worst-post-") as directory:
        database, server = start_store(args.engine, directory)
        node = Node(directory, "node", database, server={"max_body_size": args.max_body_size})
        try:
            node.start(timeout=60)
            if NEEDS_LEDGER & set(names):
                create = cases.many_outputs_create()
                response = post(node, serialize(create.to_dict()))
                if response.status_code != 202:
                    raise SystemExit(f"setting up the ledger failed: {response.status_code} {response.text[:300]}")
                node.wait_for_status(create.id, "valid", timeout=120)
                print(f"ledger: a CREATE of {len(create.conditions)} outputs, {size(create):,} bytes, VALID",
                      flush=True)
            bodies = {name: CASES[name](cases) for name in names}
            print(f"{'case':18} {'inputs':>6} {'bytes':>9} {'status':>6} {'wall s':>7} "
                  f"{'CPU ms (all)':>12} {'CPU ms (worker)':>15} {'(store)':>8}  message")
            for name, tx in bodies.items():
                body = serialize(tx.to_dict())
                status, message, wall, total, busiest, served = post_and_measure(node, body, server)
                print(f"{name:18} {len(tx.fulfillments):6} {len(body):9,} {status:6} {wall:7.2f} "
                      f"{total * 1000:12,.0f} {busiest * 1000:15,.0f} {served * 1000:8,.0f}  {message[:90]}",
                      flush=True)
        finally:
            node.stop()
            if server:
                server.stop()


if __name__ == "__main__":
    main()
