"""Follow accepted transactions to ``valid`` by polling their statuses, cheaply.

A few threads share the accepted transactions round robin.  Each polls its
own, oldest first, in rounds of at most one per ``interval`` seconds, and
ends a round after ``misses`` answers that are not yet ``valid``: blocks are
filled in arrival order, so the transactions after those are newer still and
would only cost the node requests.  The follow load is thus about one GET
per transaction plus ``threads * misses / interval`` GETs a second, and a
``valid`` time is late by at most about one round.
"""

import itertools
import json
import queue
import threading
import time

from benchmarks.client import API, ERRORS, Client, clock

WAITING = ("backlog", "undecided")


class Follower:
    def __init__(self, url, threads=2, interval=0.2, misses=2):
        self.url = url
        self.interval = interval
        self.misses = misses
        self.inboxes = [queue.SimpleQueue() for _ in range(threads)]
        self.turns = itertools.count()
        self.deadline = None  # set by finish(): no more records come, stop by then
        self.threads = [threading.Thread(target=self._follow, args=(inbox,), daemon=True)
                        for inbox in self.inboxes]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def add(self, record):
        """Follow ``record`` (just accepted) until it is valid; sets ``record.valid``."""
        self.inboxes[next(self.turns) % len(self.inboxes)].put(record)

    def finish(self, timeout):
        """Call once every record was added: follow those pending for at most ``timeout`` more
        seconds, then mark the rest as errors."""
        self.deadline = clock() + timeout
        for thread in self.threads:
            thread.join()

    def _follow(self, inbox):
        http = Client(self.url)
        pending = []
        while True:
            started = clock()
            while not inbox.empty():
                pending.append(inbox.get())
            if self.deadline is not None and (not pending or started >= self.deadline):
                break
            pending = self._poll_round(http, pending)
            time.sleep(max(0.0, self.interval - (clock() - started)))
        for record in pending:
            record.error = "not valid by the end of the drain"
        http.close()

    def _poll_round(self, http, pending):
        """Poll ``pending`` oldest first until ``misses`` are still waiting; those left pending."""
        left, missed = [], 0
        for index, record in enumerate(pending):
            if missed >= self.misses:
                return left + pending[index:]
            status = transaction_status(http, record.id)
            if status == "valid":
                record.valid = clock()
            elif status in WAITING or status is None:
                missed += 1
                left.append(record)
            else:
                record.error = f"status {status}"
        return left


def transaction_status(http, tx_id):
    """The status the node reports; None when the request failed in a way worth retrying."""
    try:
        code, body = http.request("GET", f"{API}/statuses/{tx_id}")
    except ERRORS:
        return None
    if code in (200, 303):
        return json.loads(body).get("status")
    return None if code >= 500 else f"HTTP {code}"
