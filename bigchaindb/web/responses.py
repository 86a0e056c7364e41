"""JSON responses, written with orjson (the node's one JSON codec, and a fast one)."""

from flask import current_app

from bigchaindb.common.utils import dumps


def json_response(data, status=200, headers=None):
    """A response whose body is ``data`` as JSON.

    Its signature is flask-restful's representation signature, so the views'
    Api uses it as is.
    """
    return current_app.response_class(dumps(data), status=status, headers=headers,
                                      mimetype="application/json")
