"""Group commit: the writes (or reads) that threads of one process make at
the same moment go to the server together, as one query.

Every durable write waits for the disk (and, in a cluster, for a majority
of replicas), and every majority read for a sync with the replicas; a
query carrying the writes of several requests waits once for all of them.
This is how databases commit concurrent transactions, and it costs no
request an artificial delay: the first caller writes its item at once;
callers arriving while that write is in flight queue up, and when it
returns the oldest of them writes everything queued meanwhile in one go,
and so on.  Each caller gets its own answer (or the batch's exception).
"""

import threading


class _Call:
    """One caller's item, and what became of it."""

    __slots__ = ("item", "result", "error", "leads", "done")

    def __init__(self, item):
        self.item = item
        self.result = None
        self.error = None
        self.leads = False
        self.done = threading.Event()


class GroupCommit:
    """Runs ``write(items)`` (which returns one answer per item, in order) for
    the items of concurrent ``submit`` calls, at most ``limit`` at a time."""

    def __init__(self, write, limit=500):
        self._write = write
        self._limit = limit
        self._lock = threading.Lock()
        self._queue = []
        self._writing = False

    def submit(self, item):
        """Write ``item`` with whatever else is queued; its answer, or the batch's exception."""
        call = _Call(item)
        with self._lock:
            self._queue.append(call)
            if not self._writing:
                self._writing = call.leads = True
        if not call.leads:
            call.done.wait()
        if call.leads:  # first in, or handed the lead by the batch before
            self._write_batch()
        if call.error is not None:
            raise call.error
        return call.result

    def _write_batch(self):
        with self._lock:
            batch, self._queue = self._queue[:self._limit], self._queue[self._limit:]
        try:
            for call, result in zip(batch, self._write([call.item for call in batch]), strict=True):
                call.result = result
        except BaseException as exc:  # every caller of the batch hears of it
            for call in batch:
                call.error = exc
        with self._lock:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._writing = False
            else:
                successor.leads = True
        for call in batch:
            call.leads = False
            call.done.set()
        if successor is not None:
            successor.done.set()
