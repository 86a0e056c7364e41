"""Reading stored documents back from their JSON columns.

Every federation member can write any row into the shared file, so a column
meant to hold a JSON document may hold anything.  The engine hands back what
is stored and leaves judging it to the layers above (``core``); it only
makes sure that reading a row never fails.
"""

import orjson


def load(value):
    """The document stored as JSON ``value``; a value that is not JSON comes
    back as its text, which no reader mistakes for a document (it is not an
    object) and which can still be written out as JSON."""
    try:
        return orjson.loads(value)
    except (orjson.JSONDecodeError, TypeError):
        if isinstance(value, bytes):
            return value.decode("utf-8", errors="replace")
        return str(value)
