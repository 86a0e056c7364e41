"""Which JSON values a transaction may contain at all.

The format has no floats; integers are the "safe" ones, of magnitude below
2**53, which every engine (RethinkDB keeps numbers as doubles) and every
JSON client (JavaScript's numbers are doubles) holds exactly; and hashing or
schema-checking unboundedly deep data would recurse without limit.  ``check_values`` refuses all three anywhere in a
transaction, before any other check looks at it.
"""

from bigchaindb.common.exceptions import SchemaValidationError

MAX_NESTING = 64  # deeper transactions are refused
MAX_INT = 2**53 - 1  # the largest integer a double holds exactly
MIN_INT = -MAX_INT


def check_values(tx):
    """Raise SchemaValidationError naming the first value in ``tx`` the format cannot hold.

    The fast walk records no paths; only when it finds a problem does a
    second, slower walk name where it is.
    """
    if isinstance(tx, (dict, list)) and not _values_ok(tx, 0):
        raise SchemaValidationError(_describe_bad_value(tx, "", 0))


def _values_ok(container, depth):
    """True when every value in ``container`` (a dict or list at ``depth``) is allowed."""
    if depth >= MAX_NESTING:
        return False
    for value in container.values() if type(container) is dict else container:
        kind = type(value)
        if kind is str or kind is bool or value is None:
            continue
        if kind is dict or kind is list:
            if not _values_ok(value, depth + 1):
                return False
        elif kind is not int or not MIN_INT <= value <= MAX_INT:
            return False
    return True


def _describe_bad_value(value, where, depth):
    """A sentence naming the first value under ``where`` that ``_values_ok`` refuses, or None."""
    name = where or "the top level"
    kind = type(value)
    if kind is dict or kind is list:
        if depth >= MAX_NESTING:
            return f"{name} is nested deeper than {MAX_NESTING} levels"
        items = value.items() if kind is dict else enumerate(value)
        for key, item in items:
            inner = f"{where}[{key}]" if kind is list else f"{where}.{key}".lstrip(".")
            found = _describe_bad_value(item, inner, depth + 1)
            if found:
                return found
        return None
    if kind is float:
        # orjson also parses integers beyond 64 bits as floats: the message covers both
        return f"{name} is a float ({value!r}); numbers in a transaction are integers of magnitude below 2**53"
    if kind is int and not MIN_INT <= value <= MAX_INT:
        return f"{name} is an integer of magnitude 2**53 or more"
    if kind in (str, bool, int) or value is None:
        return None
    return f"{name} is not a JSON value ({kind.__name__})"
