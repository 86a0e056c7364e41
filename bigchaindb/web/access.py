"""WSGI middleware: every request's id, its line in the access log, and its metrics.

The outermost layer of the node's app (``web.server``), so that it sees
every request that reaches the app, those the body reader refuses too:

- the request id is the client's ``X-Request-ID`` when it is a plausible
  one (1 to 128 letters, digits or ``._:+=/-``), else a new random one: a
  huge or strange header never reaches a log line or a response;
- it is answered in ``X-Request-ID`` and put on every log line the request
  causes (``logs.REQUEST_ID``);
- when the answer has been written, one line goes to the
  ``bigchaindb.access`` logger: method, path, status and duration;
- and the request is counted, with its duration, by route (the rule it
  matched, ``/api/v1/transactions/<tx_id>``, noted by the app; ``none``
  when it matched none), method (``other`` for one made up) and status.
"""

import logging
import os
import re
import time
from urllib.parse import quote

from werkzeug.wsgi import ClosingIterator

from bigchaindb.logs import REQUEST_ID
from bigchaindb.metrics import METHODS, metrics

logger = logging.getLogger("bigchaindb.access")

REQUEST_ID_HEADER = "X-Request-ID"
PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9._:+=/-]{1,128}")
PATH_SHOWN = 1000  # characters of a path the log keeps
PATH_SAFE = "/:@!$&'()*+,;=-._~%"  # what a path or query shows as is, besides letters and digits
PLAIN_PATH = re.compile(r"[A-Za-z0-9/:@!$&'()*+,;=\-._~%]*")  # a path that quote() leaves as it is
ENVIRON_KEY = "bigchaindb.request_id"
ROUTE_KEY = "bigchaindb.route"


def request_id_of(environ):
    """The client's X-Request-ID if plausible, else a new one."""
    given = environ.get("HTTP_X_REQUEST_ID", "")
    return given if PLAUSIBLE_ID.fullmatch(given) else os.urandom(16).hex()  # as random as a uuid4, cheaper


def shown_path(environ):
    """The path and query as one printable line: percent-encoded where not plain, cut short if long."""
    path = environ.get("PATH_INFO", "")
    if not PLAIN_PATH.fullmatch(path):  # most paths are plain: quote would leave them as they are
        path = quote(path, safe=PATH_SAFE)
    query = environ.get("QUERY_STRING", "")
    if query:
        path += "?" + quote(query, safe=PATH_SAFE + "?")
    return path if len(path) <= PATH_SHOWN else path[:PATH_SHOWN] + "..."


class RequestLog:
    def __init__(self, app):
        self.app = app
        # (route, method, code) -> its request counter and latency histogram: looking a labelled
        # metric up costs as much as counting in it (the keys are bounded: see the module's docstring)
        self.counted = {}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = request_id_of(environ)
        environ[ENVIRON_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        status = ["500"]

        def start(status_line, headers, exc_info=None):
            status[0] = status_line.split(" ", 1)[0]
            headers.append((REQUEST_ID_HEADER, request_id))
            return start_response(status_line, headers, exc_info)

        def finish():
            duration = time.perf_counter() - started
            method, path = environ.get("REQUEST_METHOD", "")[:16], shown_path(environ)
            fields = {"method": method, "path": path, "status": int(status[0]),
                      "duration_ms": round(duration * 1000, 3)}
            logger.info("%s %s %s %.1f ms", method, path, status[0], duration * 1000, extra={"fields": fields})
            REQUEST_ID.reset(token)
            key = (environ.get(ROUTE_KEY) or "none", method if method in METHODS else "other", status[0])
            counted = self.counted.get(key)
            if counted is None:
                counted = self.counted[key] = (metrics().requests.labels(*key), metrics().latency.labels(*key[:2]))
            counted[0].inc()
            counted[1].observe(duration)

        try:
            body = self.app(environ, start)
        except BaseException:
            finish()
            raise
        return ClosingIterator(body, finish)
