"""What one gunicorn worker's CPU per request is over a real socket, with its answers sent in one or two sends.

Serves the ceiling's echo app (``ceiling_app``: no ledger, so what is
measured is gunicorn, Flask and the sockets) with the node's gunicorn
settings (``web.server.create_server``) and one worker, and sends it
``--requests`` GETs of a transaction, then as many POSTs of one, back to
back on one keep-alive connection from this process.  Prints the worker's
CPU per request (user and system, from ``/proc`` through psutil) and this
client's own.  ``--sends two`` serves with gunicorn's own response class
(the status line and headers in one send, the body in another) instead of
the node's (``web.sending``: both in one); run the two alternately, several
times each, and compare the medians.

    python -m benchmarks.send_cost --sends one --requests 5000
    python -m benchmarks.send_cost --sends two --requests 5000
"""

import argparse
import copy
import http.client
import json
import multiprocessing
import socket
import time

import psutil

WARM_UP = 200  # requests of each kind before the clocks start


def serve(port, sends):
    from gunicorn.http import wsgi

    from benchmarks import ceiling_app
    from bigchaindb import config as node_config
    from bigchaindb.web.server import Server, create_server

    gunicorn_response = wsgi.Response
    config = copy.deepcopy(node_config.DEFAULTS)
    config["server"].update(bind=f"127.0.0.1:{port}", workers=1)
    config["log"]["level"] = "warning"
    options = create_server(config).options  # puts web.sending's response class in place
    if sends == "two":
        wsgi.Response = gunicorn_response
    Server(lambda: ceiling_app.app, options).run()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connected(port, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request("GET", "/")
            connection.getresponse().read()
            return connection
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", choices=["one", "two"], default="one")
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()

    from benchmarks.ceiling_app import TRANSACTION
    body = json.dumps(TRANSACTION).encode()
    requests = {"GET": ("GET", f"/api/v1/transactions/{TRANSACTION['id']}", None, {}),
                "POST": ("POST", "/api/v1/transactions", body, {"Content-Type": "application/json"})}
    port = free_port()
    server = multiprocessing.Process(target=serve, args=(port, args.sends))
    server.start()
    try:
        connection = connected(port)
        (worker,) = psutil.Process(server.pid).children()
        report = {}
        for kind, (method, path, payload, headers) in requests.items():
            for n in range(WARM_UP + args.requests):
                if n == WARM_UP:
                    before, client_before = worker.cpu_times(), time.process_time()
                connection.request(method, path, body=payload, headers=headers)
                connection.getresponse().read()
            after, client_after = worker.cpu_times(), time.process_time()
            per = 1e6 / args.requests
            report[kind] = {"worker user": (after.user - before.user) * per,
                            "worker system": (after.system - before.system) * per,
                            "worker": (after.user + after.system - before.user - before.system) * per,
                            "client": (client_after - client_before) * per}
    finally:
        server.terminate()
        server.join()
    for kind, figures in report.items():
        print(f"{kind} ({args.sends} send): µs of CPU per request: "
              + ", ".join(f"{name} {value:.1f}" for name, value in figures.items()))


if __name__ == "__main__":
    main()
