"""The node's HTTP server: gunicorn serving ``create_app(config)``.

``create_server(config).run()`` blocks until the server stops.  SIGTERM
stops it gracefully: workers finish the requests in flight (up to
``GRACEFUL_TIMEOUT`` seconds), then exit.

``listen(bind)`` binds the API's socket before anything else of a node
starts, so that an address in use is refused at once, naming it; the server
is then given that socket (``create_server(config, listener_fd)``) rather
than binding it again itself.
"""

import errno
import json
import os
import socket

from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

from bigchaindb.common.exceptions import ConfigurationError
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


def create_server(config, listener_fd=None):
    """The gunicorn server of a node with configuration ``config``, on the
    listening socket ``listener_fd`` if given, else on ``server.bind``."""
    server = config["server"]
    options = {
        "bind": server["bind"] if listener_fd is None else f"fd://{listener_fd}",
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


# what an operator can do about the errors binding a socket gives most often
BIND_ADVICE = {
    errno.EADDRINUSE: "another node or program listens there: stop it, or choose another port",
    errno.EADDRNOTAVAIL: "the host is not an address of this machine",
    errno.EACCES: "this user may not listen there (ports below 1024 need privileges)",
}


def listen(bind):
    """A socket listening on ``bind`` ("HOST:PORT", as gunicorn binds it), or a
    ConfigurationError naming the address and why it cannot be had."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # as gunicorn does: a port whose last connections linger in TIME_WAIT is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(2048)  # gunicorn's default backlog
    except OSError as exc:
        sock.close()
        why = exc.strerror or str(exc)
        advice = BIND_ADVICE.get(exc.errno, "choose an address of this machine that nothing listens on")
        raise ConfigurationError(f"server.bind: {json.dumps(bind)}: cannot listen there: {why}; "
                                 f"allowed: a free address ({advice})") from None
    return sock


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
