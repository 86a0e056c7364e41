"""Benchmark a node, and the machine's ceiling under the same load.

For each target (the node, or ``--nodes`` N nodes sharing one store, then
``ceiling_app`` under the same gunicorn settings) it posts the same N pre-built transactions from C clients at the
offered rate (or as fast as possible) for at most --duration seconds,
follows each to ``valid``, then GETs known transactions for --get-seconds,
sampling the RSS and CPU of the target's processes throughout.  Writes to
the output directory: <target>.csv (one row per transaction),
<target>-rss.csv, <target>.png (throughput, latency and RSS over time),
<target>.log (the server's log) and summary.json; prints every figure with
the node's as a ratio of the ceiling's, and the CPU each stage of the node
(web workers, block, vote, ...) spent per committed transaction.
benchmarks/README.md has the scenarios.

    .venv/bin/python benchmarks/run.py --count 3000 --clients 8 --duration 60
"""

import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script: import `benchmarks` and `tests` from the repository

from benchmarks import preload, report  # noqa: E402
from benchmarks.follow import Follower, StreamFollower  # noqa: E402
from benchmarks.load import hammer_gets, post_all  # noqa: E402
from benchmarks.monitor import Monitor  # noqa: E402
from benchmarks.servers import Ceiling, Nodes, RethinkDBStore, code_version, gunicorn_settings  # noqa: E402
from benchmarks.transactions import build_bodies  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add = parser.add_argument
    add("--count", type=int, default=3000, help="distinct transactions built, and posted at most")
    add("--clients", type=int, default=8, help="concurrent client threads (POST and GET phases)")
    add("--rate", type=float, default=0, help="offered POSTs per second; 0: as fast as possible")
    add("--duration", type=float, default=60, help="seconds of posting at most (fewer if --count runs out)")
    add("--drain", type=float, default=60, help="seconds to keep following after the last POST")
    add("--get-seconds", type=float, default=10, help="seconds of the GET phase; 0 skips it")
    add("--poll-interval", type=float, default=0.2, help="seconds between the follower's rounds")
    add("--follow", choices=("poll", "stream"), default="poll",
        help="how commits are seen: polling statuses, or the node's valid_transactions stream")
    add("--rss-interval", type=float, default=0.5, help="seconds between RSS samples")
    add("--workers", type=int, default=None, help="gunicorn workers of both targets; default: the node's")
    add("--threads", type=int, default=None, help="threads per gunicorn worker of both targets; default: the node's")
    add("--nodes", type=int, default=1, metavar="N",
        help="a federation of N nodes sharing the store, each with its own ports; POSTs and GETs go to each in turn")
    add("--rethinkdb", type=int, default=0, metavar="N",
        help="run the node on RethinkDB: N servers joined into a cluster, N replicas (0: the embedded store)")
    add("--preload", type=int, default=0, metavar="K",
        help="transactions stored before the run (cached in benchmarks/results/preload-K.*)")
    add("--no-ceiling", action="store_true", help="measure the node only")
    add("--log-level", default=None, metavar="LEVEL",
        help="the node's log.level (WARNING: no access line per request); default: the node's, INFO")
    add("--processes", type=int, default=None, help="processes building transactions; default: one per core")
    add("--start-timeout", type=float, default=60, help="seconds a target may take to answer GET /")
    add("--label", default="", help="appended to the default output directory's name")
    add("--out", help="output directory; default: benchmarks/results/<time>[-label]")
    args = parser.parse_args(argv)
    if args.count < 1 or args.clients < 1 or args.duration <= 0:
        parser.error("--count and --clients must be at least 1, --duration above 0")
    if args.rethinkdb < 0 or (args.rethinkdb and args.preload):
        parser.error("--rethinkdb takes a number of servers, and no --preload (preloaded stores are SQLite files)")
    if args.nodes < 1 or (args.nodes > 1 and args.preload):
        parser.error("--nodes takes a number of nodes, and no --preload above 1 (its blocks have one voter)")
    return args


def committed_on_accept(record):
    """The ceiling has no ledger to commit to: what it accepts is as committed as it gets."""
    record.valid = record.accepted


def measure(server, bodies, args, stored_ids, helpers=()):
    """Start ``server``, run the load, follow and GET phases, stop it; ``(records, gets, monitor)``.
    The processes of ``helpers`` (its database servers) are measured with its own."""
    server.start(timeout=args.start_timeout)
    try:
        monitor = Monitor([server, *helpers], args.rss_interval).start()
        follower = None
        if not isinstance(server, Ceiling):
            follower = (StreamFollower(server.streams) if args.follow == "stream" else
                        Follower(server.url, args.poll_interval)).start()
        print(f"{server.name}: posting up to {len(bodies)} transactions for up to {args.duration:g} s", flush=True)
        records = post_all(server.urls, bodies, args.clients, args.rate or None, args.duration,
                           follower.add if follower else committed_on_accept)
        if follower:
            print(f"{server.name}: following the last ones to valid (up to {args.drain:g} s)", flush=True)
            follower.finish(args.drain)
        monitor.mark()
        gets = None
        readable = [r.id for r in records if r.valid is not None] + stored_ids
        if args.get_seconds and readable:
            print(f"{server.name}: GET phase, {args.get_seconds:g} s", flush=True)
            gets = hammer_gets(server.urls, readable, args.clients, args.get_seconds)
        monitor.stop()
    finally:
        server.stop()
    return records, gets, monitor, follower


def main(argv=None):
    args = parse_args(argv)
    out = args.out or os.path.join(preload.RESULTS, time.strftime("%Y%m%d-%H%M%S") +
                                   (f"-{args.label}" if args.label else ""))
    os.makedirs(out, exist_ok=True)
    started = time.monotonic()
    bodies = build_bodies(args.count, args.processes)
    print(f"built {args.count} signed transactions in {time.monotonic() - started:.1f} s", flush=True)
    settings = {"server": {"workers": args.workers}}
    if args.threads:
        settings["server"]["threads"] = args.threads
    if args.log_level:
        settings["log"] = {"level": args.log_level}
    summaries = {}
    with tempfile.TemporaryDirectory(prefix="bigchaindb-bench-") as scratch:
        store = os.path.join(scratch, "node.sqlite")
        keypair, stored_ids = None, []
        if args.preload:
            print(f"copying a store preloaded with {args.preload} transactions", flush=True)
            keypair, stored_ids = preload.copy(args.preload, store, args.processes)
        helpers = []
        try:
            database = {"backend": "sqlite", "path": store}
            if args.rethinkdb:
                print(f"starting {args.rethinkdb} RethinkDB server(s)", flush=True)
                helpers.append(RethinkDBStore(os.path.join(scratch, "rethinkdb"), args.rethinkdb).start())
                database = helpers[0].database_config
            targets = [Nodes(out, "node", args.nodes, database, keypair, **settings)]
            for helper in helpers:
                helper.initialise(targets[0].config)
            record = {"code": code_version(), "gunicorn": gunicorn_settings(targets[0].config), "nodes": args.nodes,
                      "engine": f"rethinkdb, {args.rethinkdb} server(s)" if args.rethinkdb else "sqlite"}
            print(f"code {record['code']}, {args.nodes} node(s), engine {record['engine']}, "
                  f"gunicorn {record['gunicorn']}", flush=True)
            if not args.no_ceiling:
                targets.append(Ceiling(out, "ceiling", {"path": os.path.join(scratch, "unused.sqlite")}, **settings))
            for server in targets:
                records, gets, monitor, follower = measure(server, bodies, args, stored_ids,
                                                           helpers if server is targets[0] else ())
                summaries[server.name] = report.summarize(records, gets, monitor.summary())
                if follower:  # what seeing the commits cost the node: GETs when polling, none from the stream
                    summaries[server.name].update(follow=args.follow, follow_requests=follower.requests)
                report.write_csv(os.path.join(out, f"{server.name}.csv"), records)
                report.write_rss_csv(os.path.join(out, f"{server.name}-rss.csv"), records, monitor.samples)
                if not report.plot(os.path.join(out, f"{server.name}.png"),
                                   f"{server.name}: {' '.join(sys.argv[1:])}", records, monitor.samples):
                    print("no PNG: matplotlib is missing (pip install -e '.[bench]')")
        finally:
            for helper in helpers:
                helper.remove()
    ratio = report.ratios(summaries["node"], summaries["ceiling"]) if "ceiling" in summaries else None
    with open(os.path.join(out, "summary.json"), "w", encoding="utf-8") as handle:
        json.dump({"command": sys.argv, "settings": vars(args), "cpus": os.cpu_count(), **record, **summaries,
                   "node_over_ceiling": ratio}, handle, indent=2)
    print(report.table(summaries, ratio))
    print(report.cpu_table(summaries))
    for name, summary in summaries.items():
        print(f"{name}: {summary['sent']} sent, {summary['accepted']} accepted, {summary['valid']} valid, "
              f"{summary['errors']} errors" + (f"; commits seen by {summary['follow']}: "
                                               f"{summary['follow_requests']} requests" if "follow" in summary else ""))
    print(f"code {record['code']}, gunicorn {record['gunicorn']}; results in {out}")


if __name__ == "__main__":
    main()
