"""What a request may carry: query parameters, ids, keys and a JSON body.

Each helper returns the value a view uses, or aborts with a 4xx whose message
names the parameter and what was wrong, so that views read as the happy path.
Value checkers pass None through: an optional parameter that is absent.
"""

import base64
import binascii
import re

import orjson
from flask import abort, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from bigchaindb.common.schema import TX_SCHEMA
from bigchaindb.common.utils import deserialize_unique
from bigchaindb.core import PAGE_SIZE

MAX_PAGE_SIZE = 1000
PAGE_PARAMETERS = ("limit", "cursor")
"""What every list takes besides its own query parameters: ``limit`` (items
a page holds, ``PAGE_SIZE`` unless given, at most ``MAX_PAGE_SIZE``) and
``cursor`` (where the page starts, from the previous page's Link header)."""

_SHOWN = 80  # characters of a bad value echoed back in a message


def _string_format(definition):
    """A (pattern, title) of the transaction schema: ids and keys are checked alike everywhere."""
    definition = TX_SCHEMA["definitions"][definition]
    return re.compile(definition["pattern"]), definition["title"]


_HEX_ID = _string_format("sha3_hexdigest")
_PUBLIC_KEY = _string_format("public_key")
_UUID4 = _string_format("uuid4")


def query(*allowed):
    """The query parameters as a dict, refusing unknown ones and repeated ones."""
    if not request.environ.get("QUERY_STRING"):  # most requests: nothing to parse
        return {}
    args = request.args
    unknown = [name for name in args if name not in allowed]
    if unknown:
        takes = f"only {', '.join(allowed)}" if allowed else "no query parameters"
        abort(400, f"unknown query parameter {', '.join(map(_shown, unknown))}: {request.path} takes {takes}")
    for name in args:
        if len(args.getlist(name)) > 1:
            abort(400, f"query parameter {name} is given more than once")
    return args.to_dict()


def required(args, name):
    """The query parameter ``name``, which the route cannot do without."""
    if name not in args:
        abort(400, f"query parameter {name} is required by {request.path}")
    return args[name]


def hex_id(value, name):
    """A transaction or block id."""
    return _matching(value, name, _HEX_ID)


def public_key(value, name):
    return _matching(value, name, _PUBLIC_KEY)


def uuid4(value, name):
    """An asset or metadata id."""
    return _matching(value, name, _UUID4)


def one_of(value, name, allowed):
    """One of the upper-case words ``allowed``, given in any case."""
    if value is None:
        return None
    if value.upper() not in allowed:
        abort(400, f"{name} must be one of {', '.join(allowed)}, not {_shown(value)}")
    return value.upper()


def boolean(value, name):
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        abort(400, f"{name} must be true or false, not {_shown(value)}")
    return value.lower() == "true"


def page(args):
    """``(after, limit)`` of a list request: the position its ``cursor`` names
    (None without one) and its ``limit``."""
    limit = args.get("limit")
    if limit is None:
        limit = PAGE_SIZE
    elif not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= MAX_PAGE_SIZE):
        abort(400, f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, not {_shown(limit)}")
    else:
        limit = int(limit)
    return cursor_position(args.get("cursor")), limit


def cursor(position):
    """The opaque ``cursor`` text of a page position: its JSON, base64url-encoded."""
    return base64.urlsafe_b64encode(orjson.dumps(position)).rstrip(b"=").decode()


def cursor_position(text):
    """The position a ``cursor`` names (see ``cursor``), None for none.  The
    engine checks it names a position of the list (``InvalidPosition``)."""
    if text is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        abort(400, f"cursor {_shown(text)} is not one this node gave: pass on the one of a Link header")


def json_body():
    """The request body, which must be a JSON object.

    The raw bytes go to the node's own codec (orjson, through
    ``deserialize_unique``, which also refuses a repeated key) rather than to
    ``request.get_json``: one parser everywhere, and its exact complaint in
    the 400.  A missing Content-Type is taken as JSON, since
    many clients send none.
    """
    if request.mimetype not in ("", "application/json"):
        abort(415, f"Content-Type {_shown(request.mimetype)} is not supported; send application/json")
    charset = request.mimetype_params.get("charset", "utf-8")
    if charset.lower() not in ("utf-8", "utf8"):
        abort(415, f"charset {_shown(charset)} is not supported; JSON is sent as UTF-8")
    if (request.content_encoding or "").strip().lower() not in ("", "identity"):  # codings ignore case
        abort(415, f"Content-Encoding {_shown(request.content_encoding)} is not supported; send the body as is")
    limit = current_app.config["MAX_BODY_SIZE"]
    try:
        raw = request.get_data()  # kept: a view may answer with the bytes as received
        too_large = len(raw) > limit  # a chunked body, read one byte past the limit (see app.py)
    except RequestEntityTooLarge:  # a Content-Length over the limit: refused unread
        too_large = True
    if too_large:
        abort(413, f"request body is larger than the limit of {limit} bytes")
    # InvalidJSON is a ValidationError: a 400 with orjson's reason, or naming a repeated key
    body = deserialize_unique(raw)
    if not isinstance(body, dict):
        abort(400, f"request body must be a JSON object (a transaction), not {_json_type(body)}")
    return body


def _matching(value, name, string_format):
    pattern, title = string_format
    if value is not None and not pattern.fullmatch(value):
        abort(400, f"{name} must be a {title}, not {_shown(value)}")
    return value


def _shown(value):
    """``value`` quoted for a message, cut short: a client may send megabytes."""
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


def _json_type(value):
    return {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
