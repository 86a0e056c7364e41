"""Change feeds that survive a dropped connection without missing a change.

A RethinkDB changefeed is a cursor on one driver connection; when that
connection drops (a server restarts, a replica fails over, the network
hiccups) the cursor raises and every change written meanwhile is gone from
it.  ``follow`` turns such cursors into the endless iterators the storage
interface promises:

- it yields None whenever nothing arrived for ``poll_interval`` seconds, so
  that a consumer can act on time (close a block);
- when the cursor fails with a transient error (or the server reports that
  it skipped changes it could not buffer) it reconnects with back-off
  (yielding None while it waits) and opens the feed again *with its initial
  values* (``include_initial``): every entry of that assignee for the
  backlog; every block or vote written since a little before the latest one
  it had yielded.  Opening the new feed and reading what is there is one
  atomic step on the server, so nothing falls between the two;
- a ``FeedState`` remembers what was already yielded, so the re-read does
  not hand out anything twice.

The cursor is read with ``cursor.next(wait=poll_interval)``; the driver's
``ReqlTimeoutError`` (a ``ReqlDriverError``) then means "nothing yet", not a
dropped connection.  The driver stops the clock once part of a reply has
arrived, and keeps a reply header whose body had not started, so a timeout
leaves nothing half-read.
"""

import collections
import contextlib
import logging
import time

from rethinkdb.errors import ReqlCursorEmpty, ReqlError, ReqlTimeoutError

from bigchaindb.backend.base import POLL_INTERVAL
from bigchaindb.backend.rethinkdb import driver
from bigchaindb.backend.rethinkdb.schema import VOTE_EXTRAS, WRITTEN_AT, binary_as_floats, without, written_at_of

logger = logging.getLogger(__name__)

RESUME_MARGIN = 60.0
"""Seconds before the latest yielded ``written_at`` that a resumed feed re-reads
from.  Covers writes still in flight when the connection dropped and clock
differences between the servers of a cluster."""

REMEMBERED_KEYS = 100_000
"""How many yielded keys a feed remembers to drop repeats after a resumption."""

Event = collections.namedtuple("Event", "key position item")
"""What a change means to a consumer: ``item`` to yield, ``key`` to recognise a
repeat by, ``position`` (a ``written_at``, or None) to resume from."""


class FeedState:
    """What a feed has yielded: enough to resume it after a lost connection
    without a gap and without a repeat.

    ``latest`` is the greatest position yielded so far (or the server time the
    feed started at); the keys of the last ``capacity`` items are remembered.
    Pure bookkeeping: no I/O.
    """

    def __init__(self, start=None, capacity=REMEMBERED_KEYS, margin=RESUME_MARGIN):
        self.latest = start
        self.capacity = capacity
        self.margin = margin
        self._recent = collections.OrderedDict()

    def accept(self, key, position=None):
        """True, and remember ``key``, when it was not yielded before."""
        if key in self._recent:
            return False
        self._recent[key] = None
        if len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
        if position is not None and (self.latest is None or position > self.latest):
            self.latest = position
        return True

    def resume_point(self):
        """The position a resumed feed re-reads from (None when positions are not used)."""
        return None if self.latest is None else self.latest - self.margin


class ChangeStream:
    """An open changefeed cursor and the driver connection it owns."""

    def __init__(self, connection, cursor):
        self._connection = connection
        self._cursor = cursor

    def next(self, timeout):
        """The next change, or None when none came within ``timeout`` seconds.
        Raises the driver's errors, and ``ReqlCursorEmpty`` should the server end the feed."""
        try:
            return self._cursor.next(wait=timeout)
        except ReqlTimeoutError:
            return None

    def close(self):
        """Close the connection (and with it the feed on the server)."""
        with contextlib.suppress(ReqlError, OSError):
            self._connection.close(noreply_wait=False)


def follow(open_stream, event_of, state, address, poll_interval=POLL_INTERVAL, patience=0):
    """An endless iterator of the items of a change feed, resumed after every
    transient failure (see the module docstring).

    ``open_stream(resuming, since)`` opens the feed: with ``resuming`` False
    (and ``since`` None) for changes from now on; with ``resuming`` True
    with its initial values too, those from ``since`` on (``since`` is
    ``state.resume_point()``, None for a feed without positions).
    ``event_of(change)`` says what a change document means (an ``Event``, or
    None to skip it).  The first stream is opened now, before returning, so
    that nothing written after the call is missed.  A transient failure to
    open it is retried with back-off for ``patience`` seconds (a server just
    restarted refuses feeds until its tables are ready again); then, or at
    once for any other failure, it raises ``DatabaseError``.
    """
    deadline = time.monotonic() + patience
    for delay in driver.backoff():
        try:
            stream = open_stream(False, None)
            break
        except ReqlError as exc:
            if not driver.is_transient(exc) or time.monotonic() + delay > deadline:
                raise driver.translate(exc, address) from None
            logger.warning("cannot open the change feed from RethinkDB at %s (%s); retrying", address, exc)
            time.sleep(delay)
    return _follow(stream, open_stream, event_of, state, address, poll_interval)


def _follow(stream, open_stream, event_of, state, address, poll_interval):
    try:
        while True:
            lost = yield from _relay(stream, event_of, state, address, poll_interval)
            logger.warning("change feed from RethinkDB at %s lost (%s); resuming", address, lost)
            stream.close()
            stream = None
            stream = yield from _reopen(open_stream, state, address, poll_interval)
    finally:
        if stream is not None:
            stream.close()


def _relay(stream, event_of, state, address, poll_interval):
    """Yield what ``stream`` brings until it fails; return why (a transient error)."""
    try:
        while True:
            change = stream.next(poll_interval)
            if change is None:
                yield None
            elif "error" in change:  # the server skipped changes it could not buffer
                return change["error"]
            else:
                event = event_of(change)
                if event is not None and state.accept(event.key, event.position):
                    yield event.item
    except ReqlCursorEmpty:
        return "the server ended the feed"
    except ReqlError as exc:
        if not driver.is_transient(exc):
            raise driver.translate(exc, address) from None
        return exc


def _reopen(open_stream, state, address, poll_interval):
    """Open the feed again, resuming, retrying with back-off; yields None while waiting."""
    for delay in driver.backoff():
        try:
            since = state.resume_point()
            stream = open_stream(True, since)
            logger.warning("change feed from RethinkDB at %s resumed from written_at %s", address, since)
            return stream
        except ReqlError as exc:
            if not driver.is_transient(exc):
                raise driver.translate(exc, address) from None
            logger.warning("cannot reopen the change feed from RethinkDB at %s (%s); retrying", address, exc)
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline:
            time.sleep(min(poll_interval, max(deadline - time.monotonic(), 0)))
            yield None


# -- what each feed's changes mean ---------------------------------------

def backlog_event(assignee):
    """``event_of`` for the backlog feed of ``assignee``: an entry inserted for
    or reassigned to it.  A reassignment is a new event even to the same node
    (its key includes the assignment time)."""
    def event(change):
        entry = change.get("new_val")
        if entry is None or entry.get("assignee") != assignee:
            return None
        timestamp = entry.get("assignment_timestamp")
        return Event((entry["id"], str(timestamp)), None, (binary_as_floats(entry.get("tx")), timestamp))
    return event


def block_event(change):
    """``event_of`` for the block feed: a new block's header (the feed plucks it)."""
    header = change.get("new_val")
    if header is None:
        return None
    return Event(header["id"], written_at_of(header), without(header, (WRITTEN_AT,)))


def vote_event(change):
    """``event_of`` for the vote feed: a new vote, as signed."""
    vote = change.get("new_val")
    if vote is None:
        return None
    return Event(vote["id"], written_at_of(vote), without(vote, VOTE_EXTRAS))
