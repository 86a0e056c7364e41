"""A pool of one process's connections to a store, for threads and greenlets alike.

A caller takes a connection for one query or one transaction and gives it
back when done (``with pool.taken() as connection``), so no two callers
ever use one connection at once, and a process holds as many connections
as the most calls it ever ran at the same moment.  Connections are not tied
to threads: a greenlet of the web server's gevent workers counts as a
thread there, and one connection per client connection would cost a
connection set-up per client and grow without bound.

Connections must not cross a fork.  A child that inherited a pool opens its
own and keeps its parent's referenced, never used nor closed: closing them
in the child could disturb the parent's (SQLite's locks, for one).
"""

import os
import threading
from contextlib import contextmanager


class Pool:
    """Connections made by ``open_one()`` and ended by ``close_one(connection)``.

    ``usable(connection)`` is asked before a connection is handed out
    again; one that is not is closed and another taken.
    """

    def __init__(self, open_one, close_one, usable=lambda connection: True):
        self._open_one = open_one
        self._close_one = close_one
        self._usable = usable
        self._lock = threading.Lock()  # held for bookkeeping only, never while opening or using one
        self._pid = os.getpid()
        self._mine = {}  # id -> every open connection this process made
        self._idle = []  # those of them not in use, the last given back on top
        self._inherited = []  # a parent's, kept unused

    @contextmanager
    def taken(self, new=False):
        """A connection for the caller alone, given back at the end (unless discarded meanwhile).

        ``new``: a newly opened one, not one that waited in the pool (to run
        again what failed on a connection that dropped, as the others may have).
        """
        connection = self._open_new() if new else self._take()
        try:
            yield connection
        finally:
            with self._lock:
                if id(connection) in self._mine:
                    self._idle.append(connection)

    def _take(self):
        while True:
            with self._lock:
                self._forget_parent()
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._open_new()
            if self._usable(connection):
                return connection
            self.discard(connection)

    def _open_new(self):
        connection = self._open_one()
        with self._lock:
            self._forget_parent()
            self._mine[id(connection)] = connection
        return connection

    def _forget_parent(self):
        """After a fork, start afresh (called holding the lock)."""
        if self._pid != os.getpid():
            self._inherited.extend(self._mine.values())
            self._pid, self._mine, self._idle = os.getpid(), {}, []

    def discard(self, connection):
        """Close ``connection`` (one in use whose state is unknown) instead of giving it back."""
        with self._lock:
            self._mine.pop(id(connection), None)
        self._close_one(connection)

    def close(self):
        """Close every connection of this process; the next ``taken`` opens a new one."""
        with self._lock:
            self._forget_parent()
            mine, self._mine, self._idle = list(self._mine.values()), {}, []
        for connection in mine:
            self._close_one(connection)

    def counts(self):
        """``(open, idle)``: this process's connections, and how many of them wait to be taken."""
        with self._lock:
            self._forget_parent()
            return len(self._mine), len(self._idle)
