"""Where a web worker's CPU goes on ``POST /transactions`` and ``GET /transactions/<id>``, in one process.

Calls the node's WSGI app as ``web.server`` builds it (``ClosingWhenAsked``,
``RequestLog`` counting in a multiprocess metrics directory, ``RequestBody``,
the Flask app), with the node's logging at INFO in the text format to a
file, on a fresh SQLite store, with no socket and no gunicorn (whose cost
the ceiling's echo pays alike, see ``ceiling_app``):

1. builds ``--requests`` signed CREATEs and their request environments before
   any clock starts;
2. POSTs them one by one: CPU per request (``time.process_time``, per batch
   of ``BATCH``: the mean, the median and the least of the batches);
3. writes them into VALID blocks of 1000 (as the node's stages would), then
   GETs each one: CPU per request;
4. with ``--profile post`` or ``--profile get``, runs that phase under
   cProfile instead and prints the ``--top`` functions by own time and by
   cumulative time (profiling slows Python code several times more than C
   code: read its shares, and take the CPU per request from a run without it);
   ``--save PATH`` also writes it for ``pstats`` (who calls what).  Without
   that distortion, sample it: ``py-spy record --format raw -o stacks.txt
   -- python -m benchmarks.profile_request`` (the phases' frames are
   ``posting`` and ``getting``);
5. ``--layers bare`` leaves ``RequestLog`` out and ``--log-level WARNING``
   its access line: run against the default, they price those parts.

    python -m benchmarks.profile_request --requests 5000
    python -m benchmarks.profile_request --requests 5000 --profile post
"""

import argparse
import copy
import cProfile
import io
import os
import pstats
import statistics
import tempfile
import time

from werkzeug.test import EnvironBuilder

from bigchaindb import config as node_config, logs, metrics
from bigchaindb.backend import connect
from bigchaindb.commands.bigchaindb import initialise
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.core import Bigchain
from bigchaindb.web.access import RequestLog
from bigchaindb.web.app import create_app
from bigchaindb.web.server import ClosingWhenAsked, RequestBody
from benchmarks.transactions import build_bodies

BLOCK_SIZE = 1000
BATCH = 250  # requests timed together


def node_config_in(directory):
    config = copy.deepcopy(node_config.DEFAULTS)
    keypair = generate_key_pair()
    config["keypair"] = {"public": keypair.public_key, "private": keypair.private_key}
    config["database"]["path"] = os.path.join(directory, "store.sqlite")
    initialise(config)
    return config


def web_app(config, directory, layers="full"):
    """The app one gunicorn worker of the node serves (``web.server.create_server``);
    with ``layers`` "bare", the same without ``RequestLog`` (the request id, the
    access line and the metrics)."""
    app = RequestBody(create_app(config), config["server"]["max_body_size"])
    if layers == "bare":
        return ClosingWhenAsked(app)
    metrics_directory = os.path.join(directory, "metrics")
    os.mkdir(metrics_directory)
    metrics.count_in(metrics_directory)
    return ClosingWhenAsked(RequestLog(app))


def environs(method, paths, bodies=None):
    """One request environment per path, the body (if any) readable again."""
    built = []
    for path, body in zip(paths, bodies or [None] * len(paths)):
        environ = EnvironBuilder(path=path, method=method, data=body,
                                 content_type="application/json" if body else None).get_environ()
        built.append((environ, body))
    return built


def serve(app, requests, expected):
    """Serve each request; every status must be ``expected``."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    for environ, body in requests:
        environ = dict(environ)
        if body is not None:
            environ["wsgi.input"] = io.BytesIO(body)
        answer = app(environ, start_response)
        b"".join(answer)
        if hasattr(answer, "close"):
            answer.close()
    wrong = [status for status in statuses if not status.startswith(expected)]
    if wrong:
        raise SystemExit(f"{len(wrong)} answers were not {expected}: {wrong[0]}")


def into_blocks(config, ids):
    """Write the backlog's transactions ``ids`` into VALID blocks, as the block and vote stages would."""
    connection = connect(config["database"])
    bigchain = Bigchain.from_config(config, connection)
    for start in range(0, len(ids), BLOCK_SIZE):
        transactions = [connection.get_backlog_transaction(tx_id) for tx_id in ids[start:start + BLOCK_SIZE]]
        block = bigchain.create_block(transactions).to_dict()
        connection.write_block(block)
        connection.write_vote(bigchain.vote(block["id"], True))
    connection.close()


def posting(app, requests):
    serve(app, requests, "202")


def getting(app, requests):
    serve(app, requests, "200")


PHASES = {"post": posting, "get": getting}
"""Each phase its own function, so that a sampling profiler's stacks (``py-spy record``) say which."""


def measured(name, app, requests, profile, top, save):
    phase = PHASES[name]
    if profile == name:
        profiler = cProfile.Profile()
        profiler.runcall(phase, app, requests)
        if save:
            profiler.dump_stats(save)
        for order in ("tottime", "cumulative"):
            pstats.Stats(profiler).sort_stats(order).print_stats(top)
        return
    spent = []  # CPU seconds per request of each batch: on a shared machine the least disturbed say most
    for start in range(0, len(requests), BATCH):
        batch = requests[start:start + BATCH]
        started = time.process_time()
        phase(app, batch)
        spent.append((time.process_time() - started) / len(batch))
    print(f"{name}: {len(requests)} requests, µs of CPU each: mean {sum(spent) * 1e6 / len(spent):.1f}, "
          f"median of batches of {BATCH} {statistics.median(spent) * 1e6:.1f}, least {min(spent) * 1e6:.1f}",
          flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--profile", choices=("post", "get"))
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", metavar="PATH", help="also write the profile there (for pstats: callers, callees)")
    parser.add_argument("--layers", choices=("full", "bare"), default="full",
                        help="bare: without RequestLog (no request id, access line or metrics)")
    parser.add_argument("--log-level", default="INFO", help="WARNING: RequestLog writes no access line")
    arguments = parser.parse_args()
    bodies = build_bodies(arguments.requests)
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "node.log"), "w", encoding="utf-8") as log:
            os.dup2(log.fileno(), 2)  # the node's standard error, to a file
        logs.setup({"level": arguments.log_level, "format": "text"})
        config = node_config_in(directory)
        app = web_app(config, directory, arguments.layers)
        serve(app, environs("GET", ["/api/v1/"]), "200")  # the store opened, caches warm
        ids = [tx_id for tx_id, _ in bodies]
        posts = environs("POST", ["/api/v1/transactions"] * len(bodies), [body for _, body in bodies])
        measured("post", app, posts, arguments.profile, arguments.top, arguments.save)
        into_blocks(config, ids)
        gets = environs("GET", [f"/api/v1/transactions/{tx_id}" for tx_id in ids])
        measured("get", app, gets, arguments.profile, arguments.top, arguments.save)


if __name__ == "__main__":
    main()
