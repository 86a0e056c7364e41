"""Canonical JSON: the one byte form every hash and signature is taken over.

The protocol's canonical form is what ``json.dumps(x, sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` writes, UTF-8 encoded.  orjson
writes the same bytes for every value the protocol allows (objects, arrays,
strings, booleans, null and integers) about ten times faster, so it is
the codec.  What it cannot write (integers beyond 64 bits) is outside the
format anyway: ``values.check_values`` refuses it, and floats, first.
"""

import json

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


def deserialize_unique(raw):
    """Parse JSON ``raw`` like ``deserialize``, also refusing an object that repeats a key.

    Parsers differ on a repeated key (orjson and Python keep the last value,
    others the first or refuse), so two programs could read two different
    transactions from the same bytes; only bytes every parser reads alike
    are accepted.  orjson parses (and refuses what is not JSON); the
    standard library's C scanner then looks for repeats, about 10 us for a
    1 kB transaction, in time linear in the body's size.
    """
    body = deserialize(raw)
    try:
        _REPEATS.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except _RepeatedKey as exc:
        raise InvalidJSON(f"request body repeats the key {exc.args[0]!r} in one object: "
                          f"each key may appear once") from None
    except RecursionError:  # nesting orjson allows, a little deeper than the scanner's stack
        raise InvalidJSON("request body is nested too deeply") from None
    return body


class _RepeatedKey(Exception):
    pass


def _no_repeats(pairs):
    if len(pairs) > 1:
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise _RepeatedKey(key[:80])
            seen.add(key)
    # nothing is kept: the scan only looks for repeats


_REPEATS = json.JSONDecoder(object_pairs_hook=_no_repeats)


def dumps(data):
    """Plain (unsorted) JSON text, for responses and storage."""
    return orjson.dumps(data)
