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
