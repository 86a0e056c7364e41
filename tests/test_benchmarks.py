"""Smoke test of the benchmark harness (benchmarks/run.py): a tiny, short run
against real nodes (a federation of two on SQLite; one node on RethinkDB) and
the ceiling app must write its CSVs, summary and PNGs with sane fields, its POSTs shared
between the nodes and its CPU split by stage.  The figures themselves are never asserted: they depend on
the machine (benchmarks/README.md has the scenarios that measure them).
"""

import csv
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
