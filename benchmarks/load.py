"""The load: post pre-built transactions at an offered rate, and hammer GETs.

``post_all`` runs ``clients`` threads, each with its own connection, that
take the next transaction, wait for a token from a shared bucket (the offered
rate) and post it; a 202 hands the transaction to the follower.  Without a
rate the clients post back to back: a closed loop of ``clients`` requests
in flight, which finds the maximum throughput.  Given several nodes' URLs
(a federation), each client keeps a connection to every node and sends
its requests to them in turn, as a driver behind a round-robin load
balancer would: every node accepts its share.

``hammer_gets`` is the read phase: ``clients`` threads GET known
transactions back to back for a fixed time.
"""

import dataclasses
import itertools
import threading
import time

from benchmarks.client import API, ERRORS, Client, clock


@dataclasses.dataclass
class Record:
    """One posted transaction; times are ``clock()`` readings, None if it never got there."""
    id: str
    sent: float = None
    accepted: float = None
    valid: float = None
    error: str = ""


class TokenBucket:
    """Tokens arrive ``rate`` times a second and at most ``burst`` are kept.

    Kept as the time the next token is due (GCRA), so ``take`` is one
    comparison under a lock; with no rate every ``take`` returns at once.
    """

    def __init__(self, rate, burst=1):
        self.interval = 1.0 / rate if rate else 0.0
        self.burst = burst
        self.due = clock()
        self.lock = threading.Lock()

    def take(self):
        if not self.interval:
            return
        with self.lock:
            now = clock()
            slot = max(self.due, now - (self.burst - 1) * self.interval)
            self.due = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def run_threads(count, target):
    threads = [threading.Thread(target=target, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class RoundRobin:
    """One keep-alive connection to each of ``urls``; each request goes to the next one,
    starting at the ``first``-th."""

    def __init__(self, urls, first=0):
        self.clients = [Client(url) for url in urls]
        self.turn = first

    def request(self, method, path, body=None):
        self.turn += 1
        return self.clients[self.turn % len(self.clients)].request(method, path, body)

    def close(self):
        for client in self.clients:
            client.close()


def post_all(urls, bodies, clients, rate, duration, on_accepted):
    """Post ``(id, body)`` pairs to ``urls`` in turn for at most ``duration`` seconds; the Records
    of those sent.

    ``on_accepted(record)`` is called on each 202, in the posting thread.
    """
    records = [Record(tx_id) for tx_id, _ in bodies]
    bucket = TokenBucket(rate, burst=clients)
    turns = itertools.count()  # next() on it is atomic: each index goes to one thread
    deadline = clock() + duration

    def client(n):
        http = RoundRobin(urls, n)
        while True:
            bucket.take()
            index = next(turns)
            if index >= len(bodies) or clock() >= deadline:
                break
            record = records[index]
            record.sent = clock()
            try:
                status, answer = http.request("POST", f"{API}/transactions", bodies[index][1])
            except ERRORS as exc:
                record.error = f"POST failed: {exc!r}"
                continue
            if status == 202:
                record.accepted = clock()
                on_accepted(record)
            else:
                record.error = f"POST {status}: {answer[:200].decode(errors='replace')}"
        http.close()

    run_threads(clients, client)
    return [record for record in records if record.sent is not None]


def hammer_gets(urls, tx_ids, clients, duration):
    """GET /transactions/<id> over ``tx_ids`` from ``clients`` threads for ``duration`` seconds,
    to ``urls`` in turn.

    Returns ``{"requests", "ok", "seconds", "per_second"}``; ``per_second``
    counts 200 answers only.
    """
    counts = [[0, 0] for _ in range(clients)]  # [requests, ok] per thread: no shared counter
    start = clock()
    deadline = start + duration

    def client(n):
        http = RoundRobin(urls, n)
        for tx_id in itertools.islice(itertools.cycle(tx_ids), n, None, clients):
            if clock() >= deadline:
                break
            try:
                status, _ = http.request("GET", f"{API}/transactions/{tx_id}")
            except ERRORS:
                status = None
            counts[n][0] += 1
            counts[n][1] += status == 200
        http.close()

    run_threads(clients, client)
    seconds = clock() - start
    ok = sum(n_ok for _, n_ok in counts)
    return {"requests": sum(n for n, _ in counts), "ok": ok, "seconds": seconds, "per_second": ok / seconds}
