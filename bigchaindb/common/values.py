"""Which JSON values a transaction may contain at all.

Floats are free data: a transaction may hold them only in its asset's and
its metadata's ``data`` (at any depth), as 0.8 clients put prices,
coordinates and ``time.time()`` there; everywhere else the format's numbers
are integers.  Integers are the "safe" ones, of magnitude below 2**53, which
every engine (RethinkDB keeps numbers as doubles) and every JSON client
(JavaScript's numbers are doubles) holds exactly; and hashing or
schema-checking unboundedly deep data would recurse without limit.
``check_values`` refuses all of these anywhere in a transaction, before any
other check looks at it, and tells whether the transaction holds floats (so
that hashing it knows whether to write them as the reference did).
"""

import math

from bigchaindb.common.exceptions import SchemaValidationError

MAX_NESTING = 64  # deeper transactions are refused
MAX_INT = 2**53 - 1  # the largest integer a double holds exactly
MIN_INT = -MAX_INT
FLOAT_PLACES = ("transaction.asset.data", "transaction.metadata.data")
"""Where floats are allowed, and everything below them."""


def check_values(tx):
    """Raise SchemaValidationError naming the first value in ``tx`` the format cannot hold;
    else return whether ``tx`` holds a float.

    The fast walk refuses every float and records no paths, so a transaction
    without floats is walked once.  When it stops, the transaction is walked
    again with floats allowed in its data; only when that stops too does a
    third, slower walk name the value and where it is.
    """
    if not isinstance(tx, (dict, list)) or _values_ok(tx, 0):
        return False
    if _values_ok_with_floats_in_data(tx):
        return True
    raise SchemaValidationError(_describe_bad_value(tx, "", 0, False))


def _values_ok(container, depth, floats=False):
    """True when every value in ``container`` (a dict or list at ``depth``) is allowed,
    finite floats only if ``floats``."""
    if depth >= MAX_NESTING:
        return False
    for value in container.values() if type(container) is dict else container:
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        if kind is dict or kind is list:
            if not _values_ok(value, depth + 1, floats):
                return False
        elif kind is not int or not MIN_INT <= value <= MAX_INT:
            if not (floats and kind is float and math.isfinite(value)):
                return False
    return True


def _values_ok_with_floats_in_data(tx):
    """``_values_ok(tx, 0)`` with finite floats allowed in the asset's and metadata's data."""
    body = tx.get("transaction") if type(tx) is dict else None
    if type(body) is not dict:
        return False
    parts = []
    for name in ("asset", "metadata"):
        part = body.get(name)
        if type(part) is dict and "data" in part:
            parts.append(part["data"])
            part = dict(part, data=None)
        body = dict(body, **{name: part}) if name in body else body
    for data in parts:
        kind = type(data)
        if (kind is dict or kind is list) and not _values_ok(data, 3, True):
            return False
        if kind is float and not math.isfinite(data):
            return False
    return _values_ok(dict(tx, transaction=body), 0)


def _describe_bad_value(value, where, depth, floats_allowed):
    """A sentence naming the first value under ``where`` that is not allowed there, or None."""
    name = where or "the top level"
    kind = type(value)
    if kind is dict or kind is list:
        if depth >= MAX_NESTING:
            return f"{name} is nested deeper than {MAX_NESTING} levels"
        items = value.items() if kind is dict else enumerate(value)
        for key, item in items:
            inner = f"{where}[{key}]" if kind is list else f"{where}.{key}".lstrip(".")
            found = _describe_bad_value(item, inner, depth + 1, floats_allowed or inner in FLOAT_PLACES)
            if found:
                return found
        return None
    if kind is float and floats_allowed:
        return None if math.isfinite(value) else f"{name} is not a finite number ({value!r})"
    if kind is float:
        # orjson also parses integers beyond 64 bits as floats: the message covers both
        return f"{name} is a float ({value!r}); numbers in a transaction are integers of magnitude below 2**53"
    if kind is int and not MIN_INT <= value <= MAX_INT:
        return f"{name} is an integer of magnitude 2**53 or more"
    if kind in (str, bool, int) or value is None:
        return None
    return f"{name} is not a JSON value ({kind.__name__})"
