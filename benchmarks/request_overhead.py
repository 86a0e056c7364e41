"""What the access log and the metrics (``web.access.RequestLog``) cost per request, in one process.

Serves ``--requests`` requests to the node's WSGI app, called directly (no
socket, no gunicorn: their cost is the same with and without the layer,
and would only blur the difference), on a fresh SQLite store:

- ``--layers full``: the app as ``web.server`` builds it, ``RequestLog``
  outermost, counting in a multiprocess metrics directory as a node does,
  with the node's logging in the text format at ``--log-level`` to a file
  (a node's standard error, redirected);
- ``--layers bare``: the same app without ``RequestLog``.

Time two runs, one of each, as whole processes (e.g. ``/usr/bin/time``,
several pairs): the difference divided by ``--requests`` is the layer's
cost per request.  At ``--log-level WARNING`` the access line is not
written (the logger drops it), which leaves the request id and the metrics.

    python -m benchmarks.request_overhead --layers full --requests 20000
    python -m benchmarks.request_overhead --layers bare --requests 20000
"""

import argparse
import os
import tempfile

from werkzeug.test import EnvironBuilder

from bigchaindb import logs
from benchmarks.profile_request import node_config_in, web_app


def serve(app, path, requests):
    def start_response(status, headers, exc_info=None):
        pass

    for _ in range(requests):
        environ = EnvironBuilder(path=path).get_environ()
        body = app(environ, start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", choices=("full", "bare"), required=True)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--path", default="/api/v1/")
    parser.add_argument("--log-level", default="INFO")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        with open(os.path.join(directory, "node.log"), "w", encoding="utf-8") as log:
            os.dup2(log.fileno(), 2)  # the node's standard error, to a file
        logs.setup({"level": arguments.log_level, "format": "text"})
        app = web_app(node_config_in(directory), directory, arguments.layers)
        serve(app, arguments.path, arguments.requests)


if __name__ == "__main__":
    main()
