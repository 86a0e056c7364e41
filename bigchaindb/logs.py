"""The node's log lines: ``text`` (one line each, as always) or ``json`` (one object per line).

Every process of a node logs to standard error through the handler
``setup`` installs.  A line logged while the HTTP server handles a request
carries that request's id (``REQUEST_ID``, set by ``web.access``): in text
between the logger's name and the message (``bigchaindb.web.errors
[req 3f2a…]: …``), in JSON as ``request_id``.  An access-log line's fields
(method, path, status, duration) are fields of its JSON object too, so that
a log collector needs no pattern to read them.
"""

import contextvars
import json
import logging
import time
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s%(request)s: %(message)s"
REQUEST_ID = contextvars.ContextVar("request_id", default=None)
"""The id of the request this greenlet (or thread) is serving, or None."""


class RequestFilter(logging.Filter):
    """Puts the current request id on each record (``request_id``, and ``request`` for the text format)."""

    def filter(self, record):
        record.request_id = REQUEST_ID.get()
        record.request = "" if record.request_id is None else f" [req {record.request_id}]"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, process, logger, message, and what else the record has."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": record.processName,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", None) is not None:
            entry["request_id"] = record.request_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json.dumps escapes every control character: the object stays on one line
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT``, with the time's text up to the second made once a second.

    A busy node writes thousands of lines a second (an access line per
    request), and making the local time's text anew took a fifth of each;
    the milliseconds are added to it as ``logging.Formatter`` adds them.
    The handler's lock is held while a record is formatted, so one record
    at a time reads and renews the remembered second.
    """

    def __init__(self):
        super().__init__(TEXT_FORMAT)
        self._second = (None, "")  # (whole second, its text)

    def formatTime(self, record, datefmt=None):
        second, text = self._second
        if int(record.created) != second:
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (int(record.created), text)
        return self.default_msec_format % (text, record.msecs)


FORMATTERS = {"text": TextFormatter, "json": JsonFormatter}


def setup(settings):
    """Log at ``settings["level"]`` in ``settings["format"]`` (the ``log`` section) to standard error.

    Neither format names the source line or the thread of a record, so the
    logging module is told not to find them out for each record (the
    "Optimization" section of the standard library's logging HOWTO): a
    frame walk and a thread lookup that every request's access line paid.
    """
    logging._srcfile = None  # the HOWTO's own way: a documented switch
    logging.logThreads = False
    handler = logging.StreamHandler()
    handler.addFilter(RequestFilter())
    handler.setFormatter(FORMATTERS[settings.get("format", "text")]())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings["level"])
