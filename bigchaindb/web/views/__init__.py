"""The API's resources, one blueprint per module, and what they share."""

from flask import current_app
from flask_restful import Api

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


def bigchain():
    """This process's ``Bigchain`` (see ``web.app.create_app``)."""
    return current_app.extensions["bigchaindb"].get()
