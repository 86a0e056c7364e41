"""Time moving a large ledger: `bigchaindb export`, then `bigchaindb import` into each engine.

Uses the preloaded store of ``--count`` transactions (built once and cached
by ``benchmarks.preload``), exports it to a JSON lines file, and imports
that file into a fresh SQLite store and into a fresh RethinkDB database (a
server started for the run, when one is installed), as an operator would,
with the real CLI.  For each step it prints the wall time and the peak RSS
of the command, which shows whether memory stays bounded as the ledger grows.

    .venv/bin/python -m benchmarks.ledger_move --count 1000000
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time

from bigchaindb import config as node_config
from benchmarks import preload

BIGCHAINDB = os.path.join(os.path.dirname(sys.executable), "bigchaindb")


def write_config(directory, name, keypair, database):
    config = copy.deepcopy(node_config.DEFAULTS)
    config["keypair"] = {"public": keypair.public_key, "private": keypair.private_key}
    config["database"].update(database)
    path = os.path.join(directory, f"{name}.json")
    node_config.write_file(config, path)
    return path


def timed(*args):
    """Run the CLI with ``args``; (seconds, peak RSS of that process in MB)."""
    started = time.monotonic()
    process = subprocess.Popen([BIGCHAINDB, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)  # the rusage of this child alone
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"bigchaindb {' '.join(args)} exited with {process.returncode}")
    return round(time.monotonic() - started, 1), round(usage.ru_maxrss / 1024, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="transactions in the ledger")
    parser.add_argument("--no-rethinkdb", action="store_true", help="import into SQLite only")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        source = os.path.join(directory, "source.sqlite")
        keypair, _ = preload.copy(options.count, source)
        source_config = write_config(directory, "source", keypair, {"backend": "sqlite", "path": source})
        ledger = os.path.join(directory, "ledger.jsonl")
        results = {"transactions": options.count}
        results["export"] = timed("-c", source_config, "export", ledger)
        results["file_mb"] = os.path.getsize(ledger) / 1e6
        target = write_config(directory, "target", keypair,
                              {"backend": "sqlite", "path": os.path.join(directory, "target.sqlite")})
        results["import_sqlite"] = timed("-c", target, "import", ledger)
        if not options.no_rethinkdb:
            sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
            from tests.rethinkdb_server import RethinkDBServer
            server = RethinkDBServer(directory).start()
            try:
                target = write_config(directory, "rethinkdb", keypair,
                                      {**server.database_config, "name": "ledger_move"})
                results["import_rethinkdb"] = timed("-c", target, "import", ledger)
            finally:
                server.remove()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
