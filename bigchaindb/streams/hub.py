"""One reader of the store shared by every subscriber, and each subscriber's catching up.

A ``Hub`` follows one source (``events.BlockSource`` or ``VoteSource``) on
a thread of its own and publishes what it reads to the subscribers on the
event loop, so a thousand subscribers cost one reader, and each event is
serialised once.  It keeps the latest items in a ring, so that a client
that reconnects after a short break resumes from memory.

A subscriber that names a position (``since``) first catches up: from the
ring if the position is there, else from the store, read by a source of its
own at the pace the client takes events (a long replay never overflows
anything).  It joins the live broadcast at the moment its last item is one
the ring holds, within one step of the event loop, so it gets every item
exactly once: nothing between replay and broadcast is lost or repeated.

Every subscriber has a bounded buffer.  A live subscriber whose buffer is
full (a consumer slower than the ledger) is cut off: its buffer is dropped,
it is told to resume from the last event it took, and it is disconnected
even if its socket no longer drains, without the hub or any other
subscriber waiting for it.
"""

import asyncio
import collections
import logging
import threading
import time

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.streams.events import Batch

logger = logging.getLogger(__name__)

RING_EVENTS = 50_000
"""Events the ring of a hub keeps at most (a block's transactions are one event each)."""

CUTOFF_GRACE = 5.0
"""Seconds a cut-off subscriber has to take its notice before its connection is dropped."""

POLL = 0.02
"""Seconds between two reads of the store when nothing was ready: an index
range read each, cheap enough to run this often for an event's latency."""

RETRY_PAUSE = 1.0
"""Seconds a reader waits after the store failed before it reads again."""


class Subscriber:
    """One client's place in a stream: the events waiting to be sent, and what it wants.

    ``matches(event)`` says whether the client wants an event (its filters;
    None: every event).
    ``last_token`` is the position of the last event sent (the sender keeps it).
    ``write(events)``, when a sender sets it, sends events (an
    ``events.Batch``) at once, in the hub's own step, and says whether the
    socket keeps up: a thousand clients then cost no task switch each per
    batch, and those that take every event share one ``bytes`` of frames.  While it does not keep
    up (``congested``), or the sender has events waiting, events wait in the
    buffer for the sender.
    """

    def __init__(self, stream, capacity, matches=None):
        self.stream = stream
        self.capacity = capacity
        self.matches = matches
        self.buffer = collections.deque()
        self.last_token = None
        self.cut_off = False
        self.closed = False
        self.on_cut_off = lambda: None
        self.write = None
        self.congested = False
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()

    @property
    def behind(self):
        """True when ``capacity`` events or more wait for the sender."""
        return len(self.buffer) >= self.capacity

    def offer(self, events):
        """Send or queue the events that it wants of ``events`` (a list; a
        ``Batch`` is sent as it is, its frames shared with other clients)."""
        if self.cut_off:
            return
        if self.matches is not None:
            wanted = Batch(event for event in events if self.matches(event))
        else:
            wanted = events if isinstance(events, Batch) else Batch(events)
        if not wanted:
            return
        if self.write is not None and not self.buffer and not self.congested:
            if not self.write(wanted):
                self.congested = True
                self._ready.set()  # the sender waits for the socket to drain
            return
        self.buffer.extend(wanted)
        self._ready.set()
        if len(self.buffer) >= self.capacity:
            self._room.clear()

    def close(self):
        """The client went away: wake the sender, which then stops."""
        self.closed = True
        self._ready.set()

    def cut(self):
        """Too far behind: drop what waits, and wake the sender to say so."""
        self.cut_off = True
        self.buffer.clear()
        self._ready.set()
        self.on_cut_off()

    async def room(self):
        """Wait until the buffer has room (while catching up)."""
        await self._room.wait()

    async def take(self, timeout=None):
        """The events waiting (a list; empty after ``timeout`` seconds without any, if given)."""
        if not self.buffer and not self.cut_off and not self.closed:
            self._ready.clear()
            if timeout is None:  # no timer to set and cancel for every batch
                await self._ready.wait()
            else:
                try:
                    await asyncio.wait_for(self._ready.wait(), timeout)
                except TimeoutError:
                    return []
        events = Batch(self.buffer)
        self.buffer.clear()
        self._room.set()
        return events


class Hub:
    """The items of one source, read once for every subscriber (see the module docstring)."""

    def __init__(self, name, connection, make_source, start, executor, ring_events=RING_EVENTS,
                 poll=POLL):
        self.name = name
        self.connection = connection
        self.make_source = make_source  # position -> a source reading after it
        self.executor = executor
        self.ring_events = ring_events
        self.poll = poll
        self.subscribers = set()
        self._ring = collections.deque()  # (number, item), oldest first
        self._held = 0  # events in the ring
        self._published = 0  # items published: the newest has this number
        # item number by key and by token, for the ring's items and the one just before it
        self._by_key, self._by_token = {}, {}
        self._start = start
        self._edge = None  # (key, token) of the item just before the ring, once one left it
        self._remember(0, None, self._token_of(start))
        self._loop = None
        self._stopped = threading.Event()
        self._read_at = time.monotonic()

    def _token_of(self, position):
        return None if position is None else self.connection.position_token(position)

    def _remember(self, number, key, token):
        if key is not None:
            self._by_key[key] = number
        if token is not None:
            self._by_token[token] = number

    # -- the reader ------------------------------------------------------

    async def start(self):
        """Read what is ready in the store now (into the ring: it is history to
        the clients that connect from now on), then follow the store on a
        thread of its own, publishing on the running loop."""
        self._loop = asyncio.get_running_loop()
        source = self.make_source(self._start)
        while items := await self._loop.run_in_executor(self.executor, self._read, source):
            self.publish(items)
        threading.Thread(target=self._follow, args=(source,), name=f"hub-{self.name}", daemon=True).start()

    def stop(self):
        self._stopped.set()

    @property
    def lag(self):
        """Seconds since the reader last read the store: how long an item the store
        had ready then may have waited for the subscribers (a turn of the reader, a
        read then a publish, takes milliseconds; far longer, it is behind or stuck)."""
        return time.monotonic() - self._read_at

    def _read(self, source):
        """``source.read()``; while the store fails, say so and read again after
        ``RETRY_PAUSE`` (a reader never dies: a server restarting is one such failure)."""
        while True:
            try:
                items = source.read()
                self._read_at = time.monotonic()
                return items
            except DatabaseError as exc:  # the store's trouble, named in the message: no traceback
                logger.warning("stream %s: reading the store failed (%s); retrying in %g s", self.name, exc,
                               RETRY_PAUSE)
            except Exception:
                logger.exception("stream %s: reading the store failed; retrying in %g s", self.name, RETRY_PAUSE)
            time.sleep(RETRY_PAUSE)

    def _follow(self, source):
        while not self._stopped.is_set():
            items = self._read(source)
            if items:
                # one batch at a time: the reader waits while the loop publishes
                published = threading.Event()
                self._loop.call_soon_threadsafe(self._publish_then, items, published.set)
                published.wait()
            else:
                time.sleep(self.poll)

    def _publish_then(self, items, done):
        try:
            self.publish(items)
        finally:
            done()

    def publish(self, items):
        """Add ``items`` to the ring and offer their events to every live subscriber.

        A subscriber that still has ``capacity`` events waiting from earlier
        batches when a new batch comes is cut off.  (Items of one batch were
        read together, and a client cannot have taken the first before the
        next: it is not behind for that.)  The events of all the items go
        to each subscriber as one ``Batch`` per stream: one write per client
        per batch, of frames joined once for every client without filters
        (with 1,000 subscribers, what sending costs is the kernel's work per
        write and per byte, not Python's per event)."""
        for subscriber in [subscriber for subscriber in self.subscribers if subscriber.behind]:
            self.subscribers.discard(subscriber)
            subscriber.cut()
        batches = collections.defaultdict(Batch)  # stream -> the events of every item
        for item in items:
            self._published += 1
            self._ring.append((self._published, item))
            self._held += max(1, sum(len(events) for events in item.events.values()))
            self._remember(self._published, item.key, item.token)
            for stream, events in item.events.items():
                batches[stream].extend(events)
        for subscriber in list(self.subscribers):
            if batch := batches.get(subscriber.stream):
                subscriber.offer(batch)
        while self._held > self.ring_events and len(self._ring) > 1:
            number, item = self._ring.popleft()
            self._held -= max(1, sum(len(events) for events in item.events.values()))
            self._forget_edge()
            self._edge = (item.key, item.token)

    def _forget_edge(self):
        """The item before the ring leaves memory (the ring's first becomes the edge)."""
        key, token = self._edge if self._edge else (None, self._token_of(self._start))
        self._by_key.pop(key, None)
        self._by_token.pop(token, None)

    # -- subscribers -------------------------------------------------------

    @property
    def head_token(self):
        """The position of the newest item published (where a live subscriber starts)."""
        if self._ring:
            return self._ring[-1][1].token
        return self._edge[1] if self._edge else self._token_of(self._start)

    def remove(self, subscriber):
        self.subscribers.discard(subscriber)

    async def subscribe(self, subscriber, since=None):
        """Start ``subscriber``: live from now, or after ``since`` (an ``events.Since``).

        Returns once it is live (or cut off); the events of the replay are in its buffer meanwhile.
        """
        if since is None:
            self.subscribers.add(subscriber)
            return
        key, token, skip = None, since.token, since.skip
        source = None
        while not subscriber.cut_off:
            if self._join(subscriber, key, token, skip):
                return
            if source is None:
                start = since.position if skip is None else self.connection.position_before(since.position)
                source = self.make_source(start)
            items = await self._loop.run_in_executor(self.executor, source.read)
            if not items:
                await asyncio.sleep(self.poll)
            for item in items:
                await subscriber.room()
                events = item.events.get(subscriber.stream, ())
                if skip is not None:
                    events, skip = events[skip:], None
                subscriber.offer(events)
                key, token = item.key, item.token
                if self._join(subscriber, key, token, None):
                    return

    def _join(self, subscriber, key, token, skip):
        """Make ``subscriber`` live if the item it last got (by ``key``, else
        ``token``) is in the ring or just before it and the rest of the ring
        fits its buffer; True when done."""
        number = self._by_key.get(key) if key is not None else self._by_token.get(token)
        if number is None:
            return False
        first = self._published - len(self._ring) + 1  # number of the ring's first item
        if skip is not None and number < first:
            return False  # part of an item the ring no longer holds: the store has it
        later = [item for n, item in self._ring if n > number or (n == number and skip is not None)]
        if sum(len(item.events.get(subscriber.stream, ())) for item in later) > subscriber.capacity // 2:
            return False  # too far behind to join now: catch up from the store first
        for item in later:
            events = item.events.get(subscriber.stream, ())
            if item is later[0] and skip is not None:
                events = events[skip:]
            subscriber.offer(events)
        self.subscribers.add(subscriber)
        return True
