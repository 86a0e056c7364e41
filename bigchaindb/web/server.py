"""The node's HTTP server: gunicorn serving ``create_app(config)``.

``create_server(config).run()`` blocks until the server stops.  SIGTERM
stops it gracefully: workers finish the requests in flight (up to
``GRACEFUL_TIMEOUT`` seconds), then exit.

The port is open to anyone, so the server must hold against clients that
connect and then send slowly or nothing at all (docs/performance.md, "Slow
and idle clients"):

- each worker is gevent's: every connection is a greenlet, which costs a
  few kilobytes while it waits, so hundreds of slow connections take no
  thread and no turn from a client that sends its request at once;
- a request's line and headers must arrive within ``HEADER_TIMEOUT``
  seconds, and its body within ``BODY_TIMEOUT`` (``RequestBody``), so a
  slow client's connection is closed, not kept for good;
- a worker serves at most ``server.connections`` connections at once; past
  that it stops accepting until one closes.

``listen(bind)`` binds the API's socket before anything else of a node
starts, so that an address in use is refused at once, naming it; the server
is then given that socket (``create_server(config, listener_fd)``) rather
than binding it again itself.
"""

import errno
import io
import json
import os
import signal
import socket

import gevent
from gunicorn import glogging, util as gunicorn_util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import NoMoreData, ParseException

from bigchaindb.common.exceptions import ConfigurationError
from bigchaindb.common.utils import dumps
from bigchaindb.web.access import REQUEST_ID_HEADER, RequestLog, request_id_of
from bigchaindb.web.app import create_app
from bigchaindb.web.sending import use_one_send

WORKER_CLASS = "gevent"
GRACEFUL_TIMEOUT = 30  # seconds given to requests in flight on SIGTERM
HEADER_TIMEOUT = 5  # seconds for a request line and headers, and to keep an idle connection
BODY_TIMEOUT = 30  # seconds for a whole request body (1 MiB at 300 kbit/s)
BODY_READ_SIZE = 64 * 1024  # bytes asked of the socket at a time


class Server(BaseApplication):
    """A gunicorn application serving the WSGI app that ``build()`` returns, with the given settings.

    The app is built in each worker, after gevent has patched the standard
    library there: locks and thread-locals made before the patch would be
    real ones, and a greenlet waiting on a real lock held by another greenlet
    of the same thread blocks the whole worker.
    """

    def __init__(self, build, options):
        self.build = build
        self.options = options
        super().__init__()

    def load_config(self):
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self):
        return self.build()


def create_server(config, listener_fd=None, run_directory=None):
    """The gunicorn server of a node with configuration ``config``, on the
    listening socket ``listener_fd`` if given, else on ``server.bind``;
    ``run_directory`` is the node's (see ``processes.RunDirectory``), if
    the node's supervisor runs it."""
    server = config["server"]
    options = {
        "bind": server["bind"] if listener_fd is None else f"fd://{listener_fd}",
        "workers": server["workers"] or default_workers(),
        "worker_class": WORKER_CLASS,
        "worker_connections": server["connections"],
        # the gevent worker gives each request's line and headers this long,
        # and an idle kept-alive connection the same
        "keepalive": HEADER_TIMEOUT,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        # signals that reach a worker while it boots wait for its own handlers
        "post_fork": hold_stop_signals,
        "post_worker_init": take_stop_signals,
        # the access log is the node's own (web.access); gunicorn's messages
        # go through the node's logging, in its format (GunicornLog)
        "accesslog": None,
        "errorlog": None,
        "logger_class": GunicornLog,
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
    # Headers and body in one send (web.sending).
    use_one_send()
    return Server(lambda: ClosingWhenAsked(RequestLog(RequestBody(create_app(config, run_directory),
                                                                  server["max_body_size"]))), options)


class GunicornLog(glogging.Logger):
    """gunicorn's messages (workers booting, timeouts) through the node's own log handler and format."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.propagate = True


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}


def hold_stop_signals(arbiter, worker):
    """Right after the fork: a worker holds stop signals until it can act on them.

    Until gunicorn installs a worker's handlers (after gevent's patching and
    building the app, a few hundred ms) the master's are in force, and they
    would swallow a SIGTERM: the master's stop, or Ctrl-C as the node is
    starting, would then leave the worker running until its master was gone.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def take_stop_signals(worker):
    """The worker's handlers are in place: take the signals held meanwhile.

    Ctrl-C is left to the master: a terminal's Ctrl-C reaches every process
    of the node, and the supervisor then stops the master with SIGTERM,
    which stops each worker gracefully.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


class RequestBody:
    """WSGI middleware: read each request's body off the socket before the app runs.

    Reading it here, whatever the route and method, gives one place where a
    body that breaks HTTP's framing (a chunk size that is not hex, a chunk
    longer than its size, a Content-Length the body falls short of) or a
    transfer coding the node does not decode is answered with a 400 naming
    the problem, and where a client that sends its body too slowly is cut
    off after ``BODY_TIMEOUT`` seconds (408).  The app then reads the body
    from memory.  At most ``limit`` + 1 bytes are read: the app answers a
    larger body with 413 (see ``create_app``); a Content-Length above the
    limit is left unread for the same answer.
    """

    def __init__(self, app, limit):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        codings = [c.strip().lower() for c in environ.get("HTTP_TRANSFER_ENCODING", "").split(",") if c.strip()]
        undecoded = [c for c in codings if c != "chunked"]
        if undecoded:
            # gunicorn passes gzip, deflate and compress on still encoded
            return _refuse(start_response, 400, f"Transfer-Encoding {', '.join(undecoded)} is not supported: "
                                                f"send the body as is, with a Content-Length or chunked")
        declared = int(environ.get("CONTENT_LENGTH") or 0)
        if not codings and (declared == 0 or declared > self.limit):
            return self.app(environ, start_response)
        try:
            with gevent.Timeout(BODY_TIMEOUT):
                body = _read(environ["wsgi.input"], self.limit + 1)
        except gevent.Timeout:
            return _refuse(start_response, 408, f"the request body did not arrive within {BODY_TIMEOUT} s")
        except (ParseException, NoMoreData) as exc:
            return _refuse(start_response, 400, f"the request body is not framed as HTTP/1.1 requires: "
                                                f"{_framing_problem(exc)}")
        if len(body) < declared:
            return _refuse(start_response, 400, f"the request body ended after {len(body)} of the "
                                                f"{declared} bytes its Content-Length announced")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


class ClosingWhenAsked:
    """WSGI middleware, outermost: the connection is closed after a response
    that says ``Connection: close``.

    gunicorn drops an app's hop-by-hop headers and keeps the connection
    alive; after a 413 whose body was left unread, it would then take the
    client's next request on that connection for the rest of the body.  The
    ``start_response`` gunicorn gives is a method of its response, whose
    ``force_close`` makes it close the connection (and say so).
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)

        def closing(status, headers, exc_info=None):
            if force_close and any(name.lower() == "connection" and value.lower() == "close"
                                   for name, value in headers):
                force_close()
            return start_response(status, headers, exc_info)
        return self.app(environ, closing)


def _read(stream, most):
    """Up to ``most`` bytes of ``stream``, fewer if it ends first."""
    parts, size = [], 0
    while size < most:
        part = stream.read(min(BODY_READ_SIZE, most - size))
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _framing_problem(exc):
    """gunicorn's words for what was wrong, cut short (they quote the client's bytes)."""
    if isinstance(exc, NoMoreData):
        return "the connection ended before the last chunk"
    return str(exc)[:120]


def _refuse(start_response, status, message):
    """Answer a JSON error.  gunicorn then closes the connection: it cannot
    find where the next request starts in what is left of this one's body."""
    body = dumps({"status": status, "message": message})
    reason = {400: "Bad Request", 408: "Request Timeout"}[status]
    start_response(f"{status} {reason}", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# what an operator can do about the errors binding a socket gives most often
BIND_ADVICE = {
    errno.EADDRINUSE: "another node or program listens there: stop it, or choose another port",
    errno.EADDRNOTAVAIL: "the host is not an address of this machine",
    errno.EACCES: "this user may not listen there (ports below 1024 need privileges)",
}


def listen(bind, setting="server.bind"):
    """A socket listening on ``bind`` ("HOST:PORT", as gunicorn binds it), or a
    ConfigurationError naming the ``setting``, the address and why it cannot be had."""
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
        raise ConfigurationError(f"{setting}: {json.dumps(bind)}: cannot listen there: {why}; "
                                 f"allowed: a free address ({advice})") from None
    return sock


def write_json_error(sock, status, reason, message):
    """gunicorn's answer to a request it cannot parse (URL too long, bad header), as JSON.

    It replaces ``gunicorn.util.write_error``, which writes an HTML page.
    gunicorn's 501 for a transfer coding it does not know becomes a 400, as
    for one it knows but passes on undecoded (``RequestBody``): the request
    is the client's mistake, and a client may take any 5xx as a reason to
    send it again.  Like every answer, it carries an X-Request-ID: a new
    one, as the request's own was not read.
    """
    if status == 501:
        status, reason = 400, "Bad Request"
    body = dumps({"status": status, "message": message or reason})
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"{REQUEST_ID_HEADER}: {request_id_of({})}\r\nContent-Length: {len(body)}\r\n\r\n")
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


def default_workers():
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
