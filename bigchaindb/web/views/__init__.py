"""The API's resources, one blueprint per module, and what they share."""

from flask import current_app, request, url_for
from flask_restful import Api

from bigchaindb.web.inputs import cursor
from bigchaindb.web.responses import json_response

API_PREFIX = "/api/v1"


class JsonApi(Api):
    """A flask-restful Api that writes JSON with orjson and leaves errors to the app.

    flask-restful's own error handling would answer a ValidationError with a
    500 and write errors in its own shape; letting every error through to the
    app's handlers (``web.errors``) answers all routes alike.
    """

    def __init__(self, blueprint):
        super().__init__(blueprint, default_mediatype="application/json")
        # JSON whatever the Accept header says: it is the one format we speak.
        self.representations = {"application/json": json_response}

    def error_router(self, original_handler, e):
        return original_handler(e)

    def make_response(self, data, *args, **kwargs):
        """The view's answer as JSON, with no content negotiation: with one
        format to offer, matching it against the request's Accept header
        (flask-restful's way) chose JSON every time, at a cost larger than
        the whole of writing a transaction out."""
        kwargs.pop("fallback_mediatype", None)
        return json_response(data, *args, **kwargs)


def bigchain():
    """This process's ``Bigchain`` (see ``web.app.create_app``)."""
    return current_app.extensions["bigchaindb"].get()


# ``id_url`` keeps a few prefixes per app and worker (one per endpoint, and per address
# clients name the node by), and forgets them when Host headers that differ every
# time would make more
MOST_ID_URL_PREFIXES = 64


def id_url(endpoint, **value):
    """``url_for(endpoint, **value, _external=True)`` for an endpoint whose rule
    ends with its one variable, given a hash (hex digits).

    ``url_for`` builds the address from the request's scheme, host and path
    prefix (behind a trusted proxy, the ones it forwarded, see ``web.app``)
    anew on every call: 2-3 % of a POST.  Hex digits are never quoted in a
    URL, so the URL is what ``url_for`` built for the same request address
    with the id swapped: that prefix is built once per address.
    """
    (hash_id,) = value.values()
    prefixes = current_app.extensions.setdefault("id_url_prefixes", {})
    environ = request.environ
    key = (endpoint, environ["REQUEST_METHOD"], environ["wsgi.url_scheme"], environ.get("HTTP_HOST"),
           environ.get("SERVER_NAME"), environ.get("SERVER_PORT"), environ.get("SCRIPT_NAME"))
    prefix = prefixes.get(key)
    if prefix is None:
        url = url_for(endpoint, **value, _external=True)
        if url.endswith(hash_id):
            if len(prefixes) >= MOST_ID_URL_PREFIXES:
                prefixes.clear()
            prefixes[key] = url[:len(url) - len(hash_id)]
        return url
    return prefix + hash_id


def listed(page):
    """The answer of a list route: the page's items, and when more may follow a
    ``Link: <url>; rel="next"`` header, the URL of this request with the
    cursor of the next page, absolute as every link this node writes (behind
    a proxy too, see ``web.app``)."""
    if page.next is None:
        return page.items
    args = dict(request.args.to_dict(), cursor=cursor(page.next))
    url = url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)
    return page.items, 200, {"Link": f'<{url}>; rel="next"'}
