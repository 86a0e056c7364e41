"""Probe of pages read while blocks are written, on a fresh RethinkDB server.

One thread writes blocks of three transactions to one owner with the
engine's ``write_block``; another reads that owner's whole ``outputs_page``
over and over.  A read that shows some of a block's transactions but not
all is what let a page skip an item (docs/protocol-choices.md, "a page
reads only blocks written whole"); the probe counts them.
``--without-fix`` reads up to any ``written_at``, as pages did before, to
see the window the fix closes (a few reads in a thousand blocks here).

    python -m benchmarks.page_probe [--blocks 1000] [--without-fix]
"""

import argparse
import tempfile
import threading

from rethinkdb import r

from bigchaindb.backend.rethinkdb import connection as engine
from tests.rethinkdb_server import RethinkDBServer


def transaction(number):
    """A stored transaction with one output to "owner" (pages read the store, not the rules)."""
    return {"id": f"tx{number}", "version": 1, "transaction": {
        "fulfillments": [{"fid": 0, "owners_before": ["maker"], "input": None, "fulfillment": "cf:x"}],
        "conditions": [{"cid": 0, "owners_after": ["owner"], "amount": 1, "condition": {"uri": "cc:x"}}],
        "operation": "CREATE", "asset": {"id": f"asset{number}", "data": None, "divisible": False,
                                         "updatable": False, "refillable": False}, "metadata": None}}


def probe(address, blocks):
    """``(page reads, [(block id, positions seen)])`` of the reads that saw a block partially."""
    writer = engine.RethinkDBConnection(*address, "probe")
    writer.init()
    reader = engine.RethinkDBConnection(*address, "probe")
    done, partial, reads = threading.Event(), [], [0]

    def read():
        while not done.is_set():
            seen = {}
            for position, _, block_id, _ in reader.outputs_page("owner", None, 3 * blocks + 1):
                seen.setdefault(block_id, []).append(position[2])
            reads[0] += 1
            partial.extend((block_id, positions) for block_id, positions in seen.items() if positions != [0, 1, 2])
    thread = threading.Thread(target=read)
    thread.start()
    try:
        for number in range(blocks):
            writer.write_block({"id": f"block{number}", "signature": "s", "block": {
                "timestamp": "1", "node_pubkey": "node", "voters": ["node"],
                "transactions": [transaction(3 * number + i) for i in range(3)]}})
    finally:
        done.set()
        thread.join()
        writer.close()
        reader.close()
    return reads[0], partial


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--without-fix", action="store_true")
    args = parser.parse_args()
    if args.without_fix:
        engine.written_blocks_end = lambda bigchain: r.expr(engine.LATEST_WRITE)
    server = RethinkDBServer(tempfile.mkdtemp()).start()
    try:
        reads, partial = probe(("127.0.0.1", server.driver_port), args.blocks)
    finally:
        server.remove()
    print(f"{reads} page reads, {len(partial)} saw a block partially: {partial[:5]}")


if __name__ == "__main__":
    main()
