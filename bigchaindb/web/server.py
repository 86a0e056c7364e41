"""The node's HTTP server: gunicorn serving ``create_app(config)``.

``create_server(config).run()`` blocks until the server stops.  SIGTERM
stops it gracefully: workers finish the requests in flight (up to
``GRACEFUL_TIMEOUT`` seconds), then exit.
"""

import os

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

from bigchaindb.common.utils import dumps
from bigchaindb.web.app import create_app

# Threaded workers keep client connections alive and read the next request
# while another thread waits on the store: with 2 workers of 4 threads a
# POST costs about half what a sync worker's does (which closes every
# connection, and gunicorn 23+ then drains it), measured with wrk on 2 cores.
WORKER_CLASS = "gthread"
GRACEFUL_TIMEOUT = 30  # seconds given to requests in flight on SIGTERM


class Server(BaseApplication):
    """A gunicorn application serving one WSGI app with the given settings."""

    def __init__(self, app, options):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return self.application


def create_server(config):
    """The gunicorn server of a node with configuration ``config``."""
    server = config["server"]
    options = {
        "bind": server["bind"],
        "workers": server["workers"] or default_workers(),
        "worker_class": WORKER_CLASS,
        "threads": server["threads"],
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": config.get("log", {}).get("level", "info").lower(),
        "proc_name": "bigchaindb-http",
        # The node is driven by signals; gunicorn's control socket would live
        # at one path per user, which several nodes on one machine would share.
        "control_socket_disable": True,
        # Proxies are trusted by server.trusted_proxies alone (ProxyFix in
        # create_app): gunicorn must not believe X-Forwarded-Proto or
        # SCRIPT_NAME headers from 127.0.0.1 on its own.
        "secure_scheme_headers": {},
        "forwarder_headers": "",
    }
    # Requests gunicorn cannot parse never reach the app; answer them in JSON too.
    gunicorn_util.write_error = write_json_error
    return Server(create_app(config), options)


def write_json_error(sock, status, reason, message):
    """gunicorn's answer to a request it cannot parse (URL too long, bad header), as JSON.

    It replaces ``gunicorn.util.write_error``, which writes an HTML page.
    """
    body = dumps({"status": status, "message": message or reason})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


def default_workers():
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
