"""Smoke test of the benchmark harness (benchmarks/run.py): a tiny, short run
against real nodes (a federation of two on SQLite; one node on RethinkDB) and
the ceiling app must write its CSVs, summary and PNGs with sane fields, its POSTs shared
between the nodes and its CPU split by stage.  The figures themselves are never asserted: they depend on
the machine (benchmarks/README.md has the scenarios that measure them).
"""

import csv
from contextlib import closing
import json
import os
import importlib.util
import subprocess
import sys

from tests.rethinkdb_server import require_rethinkdb


RUN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks", "run.py")
COUNT = 60
DRAWS = importlib.util.find_spec("matplotlib") is not None  # the PNGs need the bench extra


def test_a_tiny_run_on_two_nodes_writes_sane_csv_summary_and_png(tmp_path):
    out = tmp_path / "results"
    subprocess.run([sys.executable, RUN, "--nodes", "2", "--count", str(COUNT), "--clients", "2", "--rate", "30",
                    "--duration", "5", "--drain", "20", "--get-seconds", "1", "--poll-interval", "0.1",
                    "--workers", "1", "--out", str(out)], check=True, timeout=120, stdout=subprocess.DEVNULL)
    summary = json.loads((out / "summary.json").read_text())
    for target in ("node", "ceiling"):
        with open(out / f"{target}.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == COUNT and len({row["id"] for row in rows}) == COUNT
        for row in rows:
            assert row["error"] == ""
            assert 0 <= float(row["sent"]) <= float(row["accepted"]) <= float(row["valid"])
        if DRAWS:
            assert (out / f"{target}.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        figures = summary[target]
        assert figures["sent"] == figures["accepted"] == figures["valid"] == COUNT
        assert figures["errors"] == 0
        if target == "node":
            assert figures["follow"] == "poll" and figures["follow_requests"] > 0  # what polling cost
        assert 0 < figures["accepted_tx_per_s"] <= 35  # offered 30/s
        assert 0 < figures["committed_tx_per_s"] <= figures["accepted_tx_per_s"]
        assert 0 < figures["post_202_p50_ms"] <= figures["post_202_p95_ms"] <= figures["post_202_p99_ms"]
        assert figures["post_202_p50_ms"] <= figures["post_valid_p50_ms"]
        assert figures["get_per_s"] > 0
        assert 0 < figures["get_server_us"] < 1e6 / figures["get_per_s"] * os.cpu_count()  # CPU per GET, all cores
        assert 0 < figures["rss_start_mb"] <= figures["rss_peak_mb"]
    assert summary["gunicorn"]["workers"] == 1 and summary["gunicorn"]["worker_class"]
    assert summary["nodes"] == 2
    posts = [(out / f"node{n}.log").read_text().count("POST /api/v1/transactions") for n in (0, 1)]
    assert sum(posts) == COUNT and min(posts) >= COUNT // 2 - 2  # each node took its turn
    phase = summary["node"]["load_phase"]
    assert set(phase["member_cpu_s"]) == {"node0", "node1"}
    assert set(phase["stage_cpu_s"]) == {"supervisor", "web master", "web workers", "streams", "block", "vote",
                                         "election", "stale"}  # every process named by its stage
    assert summary["node"]["cpu_ms_per_tx"]["web workers"] > 0 and summary["node"]["cpu_ms_per_tx"]["vote"] > 0
    assert set(summary["ceiling"]["load_phase"]["stage_cpu_s"]) == {"web master", "web workers"}
    assert set(summary["node_over_ceiling"]) >= {"accepted_tx_per_s", "get_per_s", "rss_peak_mb"}


def test_a_tiny_run_on_rethinkdb(tmp_path):
    require_rethinkdb()
    out = tmp_path / "results"
    subprocess.run([sys.executable, RUN, "--rethinkdb", "1", "--no-ceiling", "--count", "30", "--clients", "2",
                    "--rate", "30", "--duration", "3", "--drain", "20", "--get-seconds", "1", "--follow", "stream",
                    "--workers", "1", "--out", str(out)], check=True, timeout=120, stdout=subprocess.DEVNULL)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["engine"] == "rethinkdb, 1 server(s)"
    figures = summary["node"]
    assert figures["sent"] == figures["accepted"] == figures["valid"] == 30 and figures["errors"] == 0
    assert figures["follow"] == "stream" and figures["follow_requests"] == 0  # commits seen from the stream
    assert figures["get_per_s"] > 0
    assert {"web workers", "block", "vote", "rethinkdb"} <= set(figures["load_phase"]["stage_cpu_s"])


def test_the_worst_post_benchmark_posts_its_case_to_a_real_node_and_reports_it():
    script = os.path.join(os.path.dirname(RUN), "worst_post.py")
    done = subprocess.run([sys.executable, script, "--case", "junk-transfer", "--max-body-size", "65536"],
                          check=True, timeout=120, capture_output=True, text=True)
    (row,) = [line for line in done.stdout.splitlines() if line.startswith("junk-transfer")]
    assert " 400 " in row and row.endswith("fulfillment 0 does not validate")


def test_a_preloaded_store_holds_what_the_node_would_write_and_grows_across_sittings(tmp_path):
    """benchmarks/preload.py writes blocks in bulk (rows made in worker processes,
    many blocks per commit): the node's own write_block and write_vote, given the
    same blocks and votes, must make the very same tables and indexes, and every
    block must be valid (signed, its transactions well made, voted VALID in a chain)."""
    import sqlite3
    from benchmarks import preload
    from bigchaindb import backend
    from bigchaindb.common.transaction import Transaction
    from bigchaindb.consensus import VALID
    from bigchaindb.core import Bigchain
    from bigchaindb.models import Block

    preload.cached(1500, processes=2, directory=str(tmp_path))
    path, keypair, sample = preload.cached(3500, processes=2, directory=str(tmp_path))  # extends the 1500
    assert preload.cached(1500, directory=str(tmp_path))[1] == keypair

    def contents(db):
        tables = [name for name, in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                                " AND sql NOT LIKE 'CREATE VIRTUAL%'")]  # FTS5: their tables are
        return ({table: sorted(db.execute(f"SELECT * FROM {table}")) for table in tables},
                sorted(db.execute("SELECT type, name, sql FROM sqlite_master")))

    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # as the node keeps it
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        built = contents(db)
        block_ids = [block_id for block_id, in db.execute("SELECT id FROM blocks ORDER BY seq")]
        stored_votes = [json.loads(vote) for vote, in db.execute("SELECT vote FROM votes ORDER BY seq")]
    assert len(block_ids) == 1 + 4 and len(stored_votes) == 4  # genesis, then blocks of 1000, 500, 1000, 1000

    store = backend.connect({"backend": "sqlite", "path": path})
    node = Bigchain(store, keypair.public_key, keypair.private_key)
    rewritten = backend.connect({"backend": "sqlite", "path": str(tmp_path / "by-the-node.sqlite")})
    rewritten.init()
    previous = block_ids[0]
    for block_id, vote in zip(block_ids, [None, *stored_votes]):
        block = store.get_block(block_id)
        rewritten.write_block(block)
        if vote is None:
            continue
        Block.from_dict(block)  # its id and signature
        assert vote["vote"]["voting_for_block"] == block_id and vote["vote"]["previous_block"] == previous
        rewritten.write_vote(vote)
        assert node.block_status(block_id) == VALID
        for tx in block["block"]["transactions"]:
            parsed = Transaction.from_dict(tx)
            assert parsed.to_dict() == tx
            parsed.validate_fulfillments(parsed.input_condition_uris())
        previous = block_id
    rewritten.close()
    with closing(sqlite3.connect(tmp_path / "by-the-node.sqlite")) as db:
        tables, schema = contents(db)
    assert schema == built[1]
    assert tables.keys() == built[0].keys()
    for table in tables:
        assert tables[table] == built[0][table], table
    assert 3 <= len(sample) == len(set(sample)) and all(node.get_transaction(tx_id) for tx_id in sample)
    store.close()
