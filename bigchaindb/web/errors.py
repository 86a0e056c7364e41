"""Every error answered as JSON ``{"status": <code>, "message": <text>}``.

docs/protocol.md §4: anything a client sends gets a 4xx whose message names the
problem.  Trouble with the store is a 503 (try again later).  Anything else
is a bug in the node: logged with its traceback, answered with a 500.
"""

import logging

from flask import request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from bigchaindb.backend.exceptions import DatabaseError, InvalidPosition
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.web.responses import json_response

logger = logging.getLogger(__name__)


def error_response(status, message, headers=None):
    return json_response({"status": status, "message": message}, status, headers)


def register_error_handlers(app):
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ValidationError, _invalid)
    app.register_error_handler(DatabaseError, _store_unavailable)
    app.register_error_handler(InvalidPosition, _bad_cursor)
    app.register_error_handler(Exception, _bug)


def _http_error(exc):
    # Keep the headers an error needs (Allow on a 405), not its HTML content type.
    headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
    if exc.code == 413:
        # The body was never read: keeping the connection alive would make the
        # server read (or wait for) all of it before the next request.
        headers.append(("Connection", "close"))
    return error_response(exc.code, _describe(exc), headers)


def _describe(exc):
    """The message of an HTTP error: the view's own text, or one naming the request."""
    if exc.description != type(exc).description:  # set by a view's abort(code, message)
        return exc.description
    if isinstance(exc, NotFound):
        return f"there is no resource at {request.path}; GET / lists the API"
    if isinstance(exc, MethodNotAllowed):
        allowed = ", ".join(sorted(exc.valid_methods or ()))
        return f"{request.method} is not allowed on {request.path}; allowed: {allowed}"
    return exc.description


def _invalid(exc):
    return error_response(400, str(exc))


def _bad_cursor(exc):
    return error_response(400, f"query parameter cursor is not one this list gave ({exc}): "
                               "pass on the one of a Link header")


def _store_unavailable(exc):
    logger.error("storage error on %s %s: %s", request.method, request.path, exc)
    return error_response(503, "the node's database is unavailable; try again later")


def _bug(exc):
    logger.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal error in the node (a bug: its log has the details)")
