"""Follow accepted transactions to ``valid``: by polling, or from the node's stream.

``Follower`` polls (below); ``StreamFollower`` listens to the node's
``valid_transactions`` stream instead (one WebSocket, no request at all).
Both count the requests they made, which is what polling costs the node.


One thread polls in rounds, at most one every ``interval`` seconds.  A round
asks ``GET /statuses/<id>`` of the oldest pending transactions, oldest
first, and ends after ``misses`` answers that are not yet ``valid``: blocks
are filled in arrival order, so newer ones are not valid either.  When one
is ``valid``, one ``GET /blocks?tx_id=<id>&status=VALID`` lists its whole
block: every transaction in it is valid too, seen at that same moment.  So
the follow load is a few GETs per block and per round, not one per
transaction (that would compete with the POSTs it measures, and at a few
hundred tx/s fall behind them), and a ``valid`` time is late by at most
about one round.
"""

import json
import queue
import threading
import time

from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from benchmarks.client import API, ERRORS, Client, clock

WAITING = ("backlog", "undecided")
LOST = "HTTP 404"


class Follower:
    def __init__(self, url, interval=0.2, misses=2):
        self.url = url
        self.interval = interval
        self.misses = misses
        self.inbox = queue.SimpleQueue()
        self.pending = {}  # id -> Record, oldest first; the follower thread's own
        self.deadline = None  # set by finish(): no more records come, stop by then
        self.requests = 0  # GETs sent: what following cost the node
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def add(self, record):
        """Follow ``record`` (just accepted) until it is valid; sets ``record.valid``."""
        self.inbox.put(record)

    def finish(self, timeout):
        """Call once every record was added: follow those pending for at most ``timeout`` more
        seconds, then mark the rest as errors."""
        self.deadline = clock() + timeout
        self.thread.join()

    def _follow(self):
        http = Client(self.url)
        while True:
            started = clock()
            while not self.inbox.empty():
                record = self.inbox.get()
                self.pending[record.id] = record
            if self.deadline is not None and (not self.pending or started >= self.deadline):
                break
            self._poll_round(http)
            time.sleep(max(0.0, self.interval - (clock() - started)))
        for record in self.pending.values():
            _note(record, "not valid by the end of the drain")
        http.close()

    def _poll_round(self, http):
        missed = 0
        for record in list(self.pending.values()):
            if missed >= self.misses:
                return
            if record.id not in self.pending:  # its block was listed earlier this round
                continue
            status = transaction_status(http, record.id)
            self.requests += 1
            if status == "valid":
                seen = clock()
                self.requests += 1
                for tx_id in [record.id] + _block_transactions(http, record.id):
                    done = self.pending.pop(tx_id, None)
                    if done is not None:
                        done.valid = seen
            elif status in WAITING or status is None:
                missed += 1
            elif status == LOST:
                # The node answered 404 for a transaction it accepted: worth
                # reporting, but it may be a passing read race, so ask again.
                _note(record, "status 404 after its 202")
                missed += 1
            else:
                _note(record, f"status {status}")
                del self.pending[record.id]


class StreamFollower:
    """Follow accepted transactions to ``valid`` from the node's ``valid_transactions`` stream.

    A record is valid when its event arrives: the moment the node pushed it,
    not up to a polling round later, and at no request's cost.  An event may
    come before its record is added (the 202 and the event race): it is kept
    until then.
    """

    def __init__(self, streams_url):
        self.socket = connect(f"{streams_url}/valid_transactions", max_queue=None)
        self.lock = threading.Lock()
        self.pending, self.early = {}, {}
        self.requests = 0  # none: one connection instead
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def add(self, record):
        with self.lock:
            seen = self.early.pop(record.id, None)
            if seen is None:
                self.pending[record.id] = record
            else:
                record.valid = seen

    def finish(self, timeout):
        deadline = clock() + timeout
        while self.pending and clock() < deadline:
            time.sleep(0.05)
        self.socket.close()
        self.thread.join()
        for record in self.pending.values():
            _note(record, "not valid by the end of the drain")

    def _follow(self):
        try:
            for message in self.socket:
                seen = clock()
                tx_id = json.loads(message)["transaction_id"]
                with self.lock:
                    record = self.pending.pop(tx_id, None)
                    if record is None:
                        self.early[tx_id] = seen
                    else:
                        record.valid = seen
        except ConnectionClosed:  # finish() closed it
            pass


def _note(record, problem):
    """Add ``problem`` to the record's error, once."""
    if problem not in record.error:
        record.error = f"{record.error}; {problem}" if record.error else problem


def transaction_status(http, tx_id):
    """The status the node reports; None when worth asking again (no answer, or a 5xx)."""
    code, answer = _get(http, f"statuses/{tx_id}")
    if answer is not None:
        return answer["status"]
    return None if code is None or code >= 500 else f"HTTP {code}"


def _block_transactions(http, tx_id):
    """Ids of every transaction in the VALID blocks holding ``tx_id`` (none if the request failed)."""
    _, blocks = _get(http, f"blocks?tx_id={tx_id}&status=VALID")
    return [tx["id"] for block in blocks or () for tx in block["block"]["transactions"]]


def _get(http, path):
    """``(HTTP status, parsed JSON)`` of ``GET /api/v1/<path>``; the JSON only of a 200 or a 303
    (a status once the transaction is in a block), ``(None, None)`` when no answer came."""
    try:
        code, body = http.request("GET", f"{API}/{path}")
    except ERRORS:
        return None, None
    return code, json.loads(body) if code in (200, 303) else None
