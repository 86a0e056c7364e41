"""The entry points: ``GET /`` (which node this is), ``GET /api/v1`` (where things
are) and ``GET /api/v1/openapi.json`` (the API's OpenAPI document)."""

from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, current_app, request, url_for
from flask_restful import Resource

from bigchaindb import __version__
from bigchaindb.web.inputs import query
from bigchaindb.web.openapi import document
from bigchaindb.web.views import API_PREFIX, JsonApi, bigchain

# The published documentation of the 0.8 server, whose API and formats this
# node implements (there is none for this node's own version number).
DOCS_URL = "https://docs.bigchaindb.com/projects/server/en/v0.8.2/"
API_DOCS_URL = DOCS_URL + "drivers-clients/http-client-server-api.html"
# Collections linked from the API root, as URL path segments.
RESOURCES = ("transactions", "statuses", "blocks", "votes", "outputs", "assets", "metadata")

# The event streams (bigchaindb.streams), served on a port of their own.
STREAMS = ("valid_transactions", "blocks", "votes")
FORWARDED = ("X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Prefix", "X-Forwarded-Port")

blueprint = Blueprint("info", __name__)


def api_root_url():
    """The absolute URL of /api/v1/, as the client sees it (behind a proxy too)."""
    return url_for("info.api_v1", _external=True)


def stream_links(root):
    """The WebSocket URL of every stream, as the client can reach it.

    ``ws://`` for a client that used http, ``wss://`` for https.  Behind a
    proxy (``server.public_url``, or a trusted one that forwarded the
    request) the streams are where the API is: the proxy routes
    ``/api/v1/streams/`` to the streams port (docs/nginx.conf).  Reached
    directly, they are on the host the client named, on the streams port.
    """
    scheme, host, path = urlsplit(root)[:3]
    proxied = current_app.config["STREAMS_PROXIED"]
    if proxied == "never" or (proxied == "forwarded" and not any(request.headers.get(h) for h in FORWARDED)):
        host = f"{host.rpartition(':')[0] if host.rpartition(':')[2].isdigit() else host}:" \
               f"{current_app.config['STREAMS_PORT']}"
    base = urlunsplit(("wss" if scheme == "https" else "ws", host, path, "", ""))
    return {name: f"{base}streams/{name}" for name in STREAMS}


class RootIndex(Resource):
    def get(self):
        query()
        node = bigchain()
        return {
            "_links": {"api_v1": api_root_url(), "docs": DOCS_URL},
            "software": "BigchainDB",
            "version": __version__,
            "public_key": node.me,
            "keyring": node.keyring,
        }


class ApiV1Index(Resource):
    def get(self):
        query()
        root = api_root_url()
        links = {name: f"{root}{name}/" for name in RESOURCES}
        return {"_links": dict(links, self=root, docs=API_DOCS_URL, streams=stream_links(root),
                               openapi=url_for("info.openapi", _external=True))}


class OpenApiDocument(Resource):
    def get(self):
        """The document (``web.openapi``), its server being this node as the client reaches it."""
        query()
        node_url = url_for("info.root", _external=True).rstrip("/")
        return dict(document(), servers=[{"url": node_url, "description": "This node."}])


api = JsonApi(blueprint)
api.add_resource(RootIndex, "/", endpoint="root")
api.add_resource(ApiV1Index, API_PREFIX + "/", endpoint="api_v1")
api.add_resource(OpenApiDocument, API_PREFIX + "/openapi.json", endpoint="openapi")
