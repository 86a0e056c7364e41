"""Opening RethinkDB driver connections and turning driver errors into ours.

The official driver raises its own exception tree (``ReqlDriverError`` when
the connection fails, ``ReqlOpFailedError`` when the cluster refuses, ...);
code above the backend only knows ``bigchaindb.backend.exceptions``.  This
module is the one place that maps one onto the other, always naming the
server (``host:port``) so that an operator knows where to look.
"""

import itertools
import logging
import time

from rethinkdb import r
from rethinkdb.errors import ReqlAuthError, ReqlAvailabilityError, ReqlDriverError, ReqlOpFailedError

from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist, DatabaseError

logger = logging.getLogger(__name__)

FIRST_DELAY = 0.1
"""Seconds to wait after the first failed attempt; doubled after each further one."""

LONGEST_DELAY = 2.0
"""Back-off never waits longer than this between two attempts."""

ATTEMPT_TIMEOUT = 5.0
"""Seconds one connection attempt (TCP connect plus handshake) may take."""

RETRY_WINDOW = 10.0
"""Seconds a query keeps retrying while its table is unavailable: a primary
replica that died is replaced by the others within a few seconds (longer
when the server was SIGKILLed and the others wait for its heartbeat)."""


def backoff():
    """Endless exponential back-off delays: 0.1, 0.2, 0.4, ... capped at LONGEST_DELAY."""
    for attempt in itertools.count():
        yield min(FIRST_DELAY * 2 ** attempt, LONGEST_DELAY)


def connect_once(host, port, timeout=ATTEMPT_TIMEOUT):
    """One attempt at a driver connection; raises the driver's ``ReqlDriverError``."""
    return r.connect(host=host, port=port, timeout=timeout)


def connect(host, port, timeout):
    """A driver connection, retrying with exponential back-off for up to
    ``timeout`` seconds; then ``DatabaseError`` naming ``host:port``.

    A refused password is not retried: waiting does not make it right.
    """
    deadline = time.monotonic() + timeout
    for delay in backoff():
        remaining = deadline - time.monotonic()
        try:
            return connect_once(host, port, min(max(remaining, FIRST_DELAY), ATTEMPT_TIMEOUT))
        except ReqlAuthError as exc:
            raise DatabaseError(f"RethinkDB at {host}:{port} refused the login: {exc}") from None
        except ReqlDriverError as exc:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DatabaseError(
                    f"cannot connect to RethinkDB at {host}:{port} (gave up after {timeout} s): {exc}") from None
            time.sleep(min(delay, remaining))


class Retries:
    """Whether, and when, a query that failed is run again (``RethinkDBConnection.run``).

    - A dropped connection is reopened and the query sent again at once;
      when the new connection cannot be opened either (a driver error right
      after another), the server is down and waiting would only keep the
      client waiting: no more retries.
    - A table briefly unavailable (a primary replica failing over) is tried
      again with back-off until ``window`` seconds after the first failure.
    - Anything else is not transient: no retry.
    """

    def __init__(self, address, window=RETRY_WINDOW):
        self.address = address
        self.window = window
        self.deadline = None
        self.delays = backoff()
        self.dropped = False

    def again(self, exc):
        """True, after the pause it calls for, when the query should run again after ``exc``."""
        if not is_transient(exc):
            return False
        dropped = isinstance(exc, ReqlDriverError)
        if self.deadline is None:
            self.deadline = time.monotonic() + self.window
            logger.warning("RethinkDB at %s: %s; running the query again", self.address, exc)
        elif dropped and self.dropped:
            return False
        self.dropped = dropped
        if dropped:
            return True
        delay = next(self.delays)
        if time.monotonic() + delay > self.deadline:
            return False
        time.sleep(delay)
        return True


def is_transient(exc):
    """True for errors that a new connection may cure: a dropped connection,
    or a table briefly unavailable (a replica failing over).  A missing
    database or table is not transient."""
    if isinstance(exc, ReqlDriverError):
        return True
    return isinstance(exc, ReqlAvailabilityError) and not _is_missing(exc)


def translate(exc, address):
    """The backend exception for a driver exception raised talking to ``address``."""
    if _is_missing(exc):
        return DatabaseDoesNotExist(
            f"RethinkDB at {address}: {exc.message.rstrip('.')}; run `bigchaindb init` first")
    if isinstance(exc, ReqlOpFailedError) and "already exists" in exc.message:
        # another node ran `init` at the same moment
        return DatabaseAlreadyExists(f"RethinkDB at {address}: {exc.message}")
    if isinstance(exc, ReqlDriverError):
        return DatabaseError(f"lost the connection to RethinkDB at {address}: {exc.message}")
    return DatabaseError(f"RethinkDB at {address} failed: {exc.message}")


def _is_missing(exc):
    # The server says "Database `x` does not exist." / "Table `x.y` does not exist."
    return isinstance(exc, ReqlOpFailedError) and "does not exist" in exc.message



# The driver logs an ERROR of its own ("Transport endpoint is not connected")
# whenever it closes a connection whose server is gone, as after every server
# restart; this engine already reports a lost connection (a WARNING, and a
# DatabaseError if it cannot recover), so that line would only alarm.
logging.getLogger("rethinkdb.logger").setLevel(logging.CRITICAL)
