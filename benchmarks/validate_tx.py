"""How many transactions one core fully checks per second.

"Fully checks" is what the node does with a posted body before it looks at
the ledger: parse the raw JSON bytes, check the schema, recompute the id and
verify every fulfillment against the condition it spends.  The signed
transactions (and, for TRANSFERs, the condition URIs of the outputs they
spend) are built before the clock starts; only the checking is timed.

    .venv/bin/python benchmarks/validate_tx.py [--count 5000] [--rounds 3]

The checking runs in this one process, single-threaded, and is timed in
CPU seconds, so the figure is what one core does even on a busy machine.
A third case is a CREATE whose asset data holds a hundred distinct floats
(readings, prices, a timestamp), each written as the reference wrote it:
its figure is the time one check takes.
"""

import argparse
import random
import time

from bigchaindb.common import crypto, floats
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import deserialize, serialize


def build(count):
    """``count`` signed single-input CREATEs and as many TRANSFERs spending them.

    Returns two lists of ``(raw_bytes, spent_condition_uris)``; a CREATE's
    spent condition is that of its owners_before.
    """
    alice, bob = crypto.generate_key_pair(), crypto.generate_key_pair()
    creates, transfers = [], []
    for n in range(count):
        create = Transaction.create([alice.public_key], [([alice.public_key], 1)],
                                    asset=Asset({"serial": n}), metadata={"n": n})
        create.sign([alice.private_key])
        transfer = Transaction.transfer(create.to_inputs(), [([bob.public_key], 1)], create.asset.id)
        transfer.sign([alice.private_key])
        creates.append((serialize(create.to_dict()), create.input_condition_uris()))
        transfers.append((serialize(transfer.to_dict()), [create.conditions[0].uri]))
    return creates, transfers


def build_with_floats(count, how_many=100):
    """``count`` signed CREATEs whose asset data holds ``how_many`` distinct floats each."""
    alice = crypto.generate_key_pair()
    rng = random.Random(1)
    items = []
    for n in range(count):
        readings = [round(rng.uniform(-1000, 1000), rng.randint(1, 6)) for _ in range(how_many - 2)]
        data = {"serial": n, "taken_at": time.time() + n, "price": rng.uniform(0, 1e6), "readings": readings}
        create = Transaction.create([alice.public_key], [([alice.public_key], 1)], asset=Asset(data))
        create.sign([alice.private_key])
        items.append((serialize(create.to_dict()), create.input_condition_uris()))
    floats.forget()  # each check works the texts out, as a node does for a new transaction
    return items


def check(raw, spent_uris):
    """Everything a node checks in a posted transaction that needs no ledger."""
    tx = Transaction.from_dict(deserialize(raw))
    tx.validate_fulfillments(spent_uris)


def rate(items):
    """Transactions checked per CPU second (this process's time: other load on the machine does not count)."""
    start = time.process_time()
    for raw, spent_uris in items:
        check(raw, spent_uris)
    return len(items) / (time.process_time() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000, help="distinct transactions of each kind")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes; the best is reported")
    args = parser.parse_args()
    creates, transfers = build(args.count)
    for name, items in (("CREATE", creates), ("TRANSFER", transfers)):
        best = max(rate(items) for _ in range(args.rounds))
        print(f"{name:8} {args.count} distinct, single input: {best:,.0f} tx/s on one core (best of {args.rounds})")
    count = max(args.count // 5, 1)
    best = max(rate(build_with_floats(count)) for _ in range(args.rounds))
    print(f"CREATE   {count} distinct, 100 floats in asset data: {1000 / best:.3f} ms per check "
          f"({best:,.0f} tx/s on one core, best of {args.rounds})")


if __name__ == "__main__":
    main()
