"""The Flask app factory: ``create_app(config)`` builds the node's HTTP API."""

import os
import threading

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

from bigchaindb.backend import connect
from bigchaindb.config import public_url_parts, streams_bind
from bigchaindb.core import Bigchain
from bigchaindb.web.access import ROUTE_KEY
from bigchaindb.web.cors import allow_origins
from bigchaindb.web.errors import register_error_handlers
from bigchaindb.web.responses import json_response
from bigchaindb.web.views import API_PREFIX, assets, blocks, info, monitoring, outputs, statuses, transactions, votes


class PerProcess:
    """A value built on first use in each process, never inherited across a fork.

    gunicorn forks its workers from the master process; a database connection
    made before the fork would be shared by all of them, which sqlite forbids.
    """

    def __init__(self, build):
        self._build = build
        self._lock = threading.Lock()  # two requests at once must not build it twice
        self._pid = None
        self._value = None

    def get(self):
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self._value = self._build()
                    self._pid = os.getpid()
        return self._value


class NodeFlask(Flask):
    """Flask, answering OPTIONS in JSON like every other request."""

    def make_default_options_response(self):
        allowed = sorted(super().make_default_options_response().allow)
        return json_response({"allow": allowed}, headers={"Allow": ", ".join(allowed)})


def create_app(config, run_directory=None):
    """The WSGI app of a node with configuration ``config`` (see bigchaindb.config); ``run_directory``
    is where its stages report and its processes count (see ``processes.RunDirectory``), if they run."""
    app = NodeFlask(__name__, static_folder=None)
    app.config["RUN_DIRECTORY"] = run_directory
    # A body above the limit is a 413 (see inputs.json_body).  Werkzeug
    # refuses a larger Content-Length unread, but cuts a chunked body at
    # MAX_CONTENT_LENGTH silently: one byte more lets the view see it is over.
    app.config["MAX_BODY_SIZE"] = config["server"]["max_body_size"]
    app.config["MAX_CONTENT_LENGTH"] = config["server"]["max_body_size"] + 1
    # /x and /x/ are the same resource; must be set before the rules are added.
    app.url_map.strict_slashes = False
    # where the streams server listens, for the links to it (info.stream_links)
    app.config["STREAMS_PORT"] = int(streams_bind(config).rpartition(":")[2])
    app.config["STREAMS_PROXIED"] = "always" if config["server"].get("public_url") else (
        "forwarded" if config["server"]["trusted_proxies"] else "never")
    app.extensions["bigchaindb"] = PerProcess(lambda: Bigchain.from_config(config, connect(config["database"])))
    register_error_handlers(app)
    app.register_blueprint(info.blueprint)
    app.register_blueprint(monitoring.blueprint)
    app.before_request(note_route)
    for view in (transactions, statuses, blocks, votes, outputs, assets):
        app.register_blueprint(view.blueprint, url_prefix=API_PREFIX)
    allow_origins(app, config["server"].get("cors_origins"))
    public_url = config["server"].get("public_url")
    if public_url:
        # inside ProxyFix (which runs first), so it wins over forwarded headers too
        app.wsgi_app = PublicURL(app.wsgi_app, public_url)
    proxies = config["server"]["trusted_proxies"]
    if proxies:
        # Links and Location headers then name the scheme, host, port and path
        # prefix the client used, as the last ``proxies`` proxies report them.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies,
                                x_port=proxies, x_prefix=proxies)
    return app


def note_route():
    """The rule the request matched (``/api/v1/transactions/<tx_id>``), for its metrics (``web.access``)."""
    request.environ[ROUTE_KEY] = request.url_rule.rule if request.url_rule else None


class PublicURL:
    """WSGI middleware: links and Location headers start with ``server.public_url``.

    Without it the node builds them from the request: its ``Host`` header
    (which any client chooses) or, behind trusted proxies, their
    ``X-Forwarded-*`` headers.  With it, the scheme, host, port and path
    prefix of every absolute URL are the configured ones.  Routing is
    untouched: the path prefix only goes into the URLs written.
    """

    def __init__(self, app, url):
        self.app = app
        self.scheme, self.host, self.prefix = public_url_parts(url)

    def __call__(self, environ, start_response):
        environ["wsgi.url_scheme"] = self.scheme
        environ["HTTP_HOST"] = self.host
        environ["SCRIPT_NAME"] = self.prefix
        return self.app(environ, start_response)
