"""Canonical JSON: the one byte form every hash and signature is taken over.

The protocol's canonical form is what ``json.dumps(x, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` writes, UTF-8 encoded.  orjson
writes the same bytes for every value the protocol allows (objects, arrays,
strings, booleans, null and integers) about ten times faster, so it is
the codec.  What it cannot write (integers beyond 64 bits) is outside the
format anyway: ``values.check_values`` refuses it, and floats, first.
"""

import orjson

from bigchaindb.common.exceptions import InvalidJSON

_SORTED = orjson.OPT_SORT_KEYS


def serialize(data):
    """Return the canonical JSON bytes of ``data``."""
    return orjson.dumps(data, option=_SORTED)


def deserialize(raw):
    """Parse JSON ``raw`` (bytes or str), raising InvalidJSON with the reason."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(f"request body is not valid JSON: {exc}") from None


def dumps(data):
    """Plain (unsorted) JSON text, for responses and storage."""
    return orjson.dumps(data)
