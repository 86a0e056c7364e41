"""Benchmark the event streams: many subscribers, event latency, what they cost the API, resuming.

    .venv/bin/python benchmarks/streams.py --subscribers 1000 --rate 300 --seconds 30

Starts a node (``bigchaindb start`` on a fresh embedded store, streams'
heartbeat off for the run: the counting clients below answer no ping) and,
in this process:

1. **request path**: posts back to back from ``--clients`` threads for
   ``--capacity-seconds`` with no subscriber, then again with
   ``--subscribers`` WebSocket subscribers of ``valid_transactions``
   connected: accepted tx/s of each, and the drop;
2. **latency**: with the subscribers still connected, posts at ``--rate``
   tx/s offered for ``--seconds``.  A watcher reads the store every 5 ms and
   notes when each block's vote appears (on a one-node federation, the
   moment the block is decided VALID).  ``--probes`` of the subscribers
   parse every event: event latency = received - decided; POST to event =
   received by the first probe - POST sent.  The other subscribers read and
   count bytes only: parsing 300 events/s for 1,000 clients would measure
   this benchmark, not the node.  The probes and the others each run in a
   process of their own, apart from the posting threads;
3. **resume**: ``--resumers`` clients follow the stream from one position
   while ``--resume-rate`` tx/s are posted for ``--resume-seconds``, each
   dropping its connection every 0.5 to 3 s (at random) and reconnecting
   with ``since`` = the last position it received.  Then each client's
   events are compared with one uninterrupted replay from that position:
   every event exactly once, in order, or the run fails.

Prints the figures as JSON, with the load average of the machine.
"""

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import random
import select
import socket
import struct
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # run as a script: import `benchmarks` and `tests` from the repository

import psutil  # noqa: E402
import websockets  # noqa: E402

from benchmarks.client import clock  # noqa: E402
from benchmarks.load import post_all  # noqa: E402
from benchmarks.report import percentile  # noqa: E402
from benchmarks.transactions import build_bodies  # noqa: E402
from bigchaindb import backend  # noqa: E402
from bigchaindb.processes import NAME_PREFIX  # noqa: E402
from tests.integration.node import Node  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add = parser.add_argument
    add("--subscribers", type=int, default=1000)
    add("--probes", type=int, default=20, help="subscribers that parse and time every event")
    add("--rate", type=float, default=300, help="offered tx/s of the latency phase")
    add("--seconds", type=float, default=30, help="seconds of the latency phase")
    add("--clients", type=int, default=8, help="posting threads")
    add("--capacity-seconds", type=float, default=10, help="seconds of each back-to-back phase; 0 skips them")
    add("--resumers", type=int, default=100)
    add("--resume-rate", type=float, default=100)
    add("--resume-seconds", type=float, default=60, help="0 skips the resume phase")
    add("--workers", type=int, default=None, help="gunicorn workers (default: the node's)")
    return parser.parse_args(argv)


# -- light WebSocket clients: the handshake, then frames read by hand -----------

STREAM_PATH = "/api/v1/streams/valid_transactions"
READ_EVERY = 0.05
"""Seconds between two reads of the counting subscribers' sockets."""
READ_CHUNK = 1 << 20
"""Bytes a counting subscriber reads at most in one call."""


def upgrade_request(host):
    """The HTTP request that opens a WebSocket on the valid transactions stream."""
    return (f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n").encode()


def upgraded(head):
    """Whether the server's answer (its head, up to the blank line) accepts the upgrade."""
    return b" 101 " in head.split(b"\r\n", 1)[0]


class Probe(asyncio.Protocol):
    """A WebSocket subscriber that notes when each event came (``events``:
    (received, message)): each frame's message is cut out as it comes, and
    parsed when asked for (``parsed``), which the times do not depend on."""

    def __init__(self, host):
        self.request = upgrade_request(host)
        self.received = 0
        self.frames = []  # (received, the message's bytes)
        self.buffer = b""
        self.upgraded = asyncio.get_running_loop().create_future()
        self.lost = False

    def connection_made(self, transport):
        transport.write(self.request)

    def connection_lost(self, exc):
        self.lost = True  # the server cut it off (or the run closed it)

    def data_received(self, data):
        now = clock()
        self.received += len(data)
        if not self.upgraded.done():
            head, _, data = (self.buffer + data).partition(b"\r\n\r\n")
            self.upgraded.set_result(upgraded(head))
            self.buffer = b""
        buffer, at = self.buffer + data, 0
        while len(buffer) - at >= 2:
            length, start = buffer[at + 1] & 0x7F, at + 2
            if length == 126:
                length, start = struct.unpack_from("!H", buffer, at + 2)[0], at + 4
            elif length == 127:
                length, start = struct.unpack_from("!Q", buffer, at + 2)[0], at + 10
            if len(buffer) < start + length:
                break
            if buffer[at] & 0x0F == 1:
                self.frames.append((now, buffer[start:start + length]))
            at = start + length
        self.buffer = buffer[at:]

    def parsed(self):
        """Every event received: (received, the message parsed)."""
        return [(received, json.loads(message)) for received, message in self.frames]


def host_and_port(streams_url):
    host = streams_url.split("/")[2]
    host_name, port = host.rsplit(":", 1)
    return host, host_name, int(port)


def hold_probes(streams_url, count, pipe):
    """In a process of its own (so that this benchmark's posting threads do not
    delay their reading): connect ``count`` probes one after the other, say
    "ready", and on "report" send what came."""
    async def run():
        host, host_name, port = host_and_port(streams_url)
        loop = asyncio.get_running_loop()
        probes = []
        for _ in range(count):
            transport, probe = await loop.create_connection(lambda: Probe(host), host_name, port)
            if not await probe.upgraded:
                raise RuntimeError("a subscriber was refused")
            probes.append((transport, probe))
        pipe.send("ready")
        await loop.run_in_executor(None, pipe.recv)
        pipe.send({"events": [event for _, p in probes for event in p.parsed()],
                   "bytes": sum(p.received for _, p in probes), "lost": sum(p.lost for _, p in probes)})
        for transport, _ in probes:
            transport.close()
    asyncio.run(run())


def hold_counters(streams_url, count, pipe):
    """In a process of its own: connect ``count`` subscribers that count bytes,
    as cheaply as a client that keeps up can: every ``READ_EVERY`` s, each
    socket that has data is read to its end in chunks of up to a megabyte, into
    one buffer, and nothing is parsed (the probes check the events).  They
    stand for clients on other machines, whose reading costs the node's
    machine nothing: here their reading shares its cores, so it is kept as
    small as it can be, and reported apart."""
    host, host_name, port = host_and_port(streams_url)
    sockets, received = {}, {}
    for _ in range(count):
        sock = socket.create_connection((host_name, port))
        sock.sendall(upgrade_request(host))
        answer = b""
        while b"\r\n\r\n" not in answer:
            if not (chunk := sock.recv(4096)):
                raise RuntimeError("a subscriber was refused")
            answer += chunk
        if not upgraded(answer.partition(b"\r\n\r\n")[0]):
            raise RuntimeError("a subscriber was refused")
        sock.setblocking(False)
        sockets[sock.fileno()], received[sock.fileno()] = sock, len(answer)
    pipe.send("ready")
    ready, lost = select.epoll(), 0
    for fd in sockets:
        ready.register(fd, select.EPOLLIN)
    buffer = memoryview(bytearray(READ_CHUNK))
    while not pipe.poll(READ_EVERY):
        for fd, _ in ready.poll(0):
            try:
                while size := sockets[fd].recv_into(buffer):
                    received[fd] += size
            except BlockingIOError:
                continue
            except OSError:
                pass
            ready.unregister(fd)  # the server cut it off
            lost += 1
    pipe.recv()
    pipe.send({"events": [], "bytes": sum(received.values()), "lost": lost})
    for sock in sockets.values():
        sock.close()


class Subscribers:
    """``count`` subscribers in two processes: ``probes`` that parse and time every
    event, and the others, which count bytes."""

    def __init__(self, streams_url, count, probes):
        context = multiprocessing.get_context("fork")
        self.count = count
        self.groups = []
        for kind, size, hold in (("probes", probes, hold_probes),
                                 ("counting_subscribers", count - probes, hold_counters)):
            if size:
                mine, theirs = context.Pipe()
                process = context.Process(target=hold, args=(streams_url, size, theirs))
                process.start()
                self.groups.append((kind, process, mine))
        for _, _, pipe in self.groups:
            if pipe.recv() != "ready":
                raise RuntimeError("the subscribers did not connect")

    def processes(self):
        """The subscribers' processes (for their CPU), by kind: probes, and those that count bytes."""
        return {kind: [psutil.Process(process.pid)] for kind, process, _ in self.groups}

    def report(self):
        """Everything the probes got (``(received, event)``), bytes and cut-off subscribers; then they close."""
        reports = []
        for _, process, pipe in self.groups:
            pipe.send("report")
            reports.append(pipe.recv())
            process.join()
        return ([event for report in reports for event in report["events"]], sum(r["bytes"] for r in reports),
                sum(r["lost"] for r in reports))


# -- when blocks are decided -----------------------------------------------------

class DecisionWatcher:
    """Notes when each block's first vote appears in the store (one-node federation: when it is decided)."""

    def __init__(self, database):
        self.connection = backend.connect(database)
        self.decided = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        position = self.connection.position_before_last("votes", 0)
        while not self.stopped.is_set():
            for position, vote in self.connection.votes_after(position, 1000):
                self.decided.setdefault(vote["vote"]["voting_for_block"], clock())
            time.sleep(0.005)


# -- the phases --------------------------------------------------------------------

class Fresh:
    """The pre-built transactions not posted yet: each phase posts new ones."""

    def __init__(self, bodies):
        self.bodies = bodies
        self.next = 0

    def post(self, url, most, clients, rate, seconds):
        """Post up to ``most`` of them (see ``load.post_all``); the Records of those sent."""
        records = post_all([url], self.bodies[self.next:self.next + most], clients, rate, seconds, lambda r: None)
        self.next += len(records)
        return records


def capacity(node, fresh, clients, seconds):
    records = fresh.post(node.url, int(seconds * 600), clients, None, seconds)
    accepted = [r.accepted for r in records if r.accepted is not None]
    return len(accepted) / (max(accepted) - min(r.sent for r in records)) if accepted else 0.0


def streams_process(node):
    """The node's streams server (each stage's process is named after it: ``processes.NAME_PREFIX``)."""
    for process in node.processes():
        if process.name() == NAME_PREFIX + "streams":
            return process
    raise RuntimeError("no process of the node serves the streams")


def cpu_seconds(processes, kernel_only=False):
    """CPU seconds of ``processes`` so far (those spent in the kernel only, if ``kernel_only``)."""
    return sum(sum(process.cpu_times()[1:2] if kernel_only else process.cpu_times()[:2]) for process in processes)


class CoresUsed:
    """Over a ``with`` block, the cores used by the node's streams server, the
    rest of the node, the subscribers' processes and this benchmark's own
    process (``figures``): where the machine's CPU went while the request path
    was measured, so that a drop can be charged to the node or to the clients
    sharing its cores.  ``figures["in_kernel"]`` is the part of each spent in
    the kernel (system calls: for sockets, mostly the loopback's TCP work), and
    ``figures["machine"]`` the machine's cores by kind of work (user, system,
    softirq, idle), whoever did it."""

    def __init__(self, node, subscriber_processes=None):
        streams, everything = streams_process(node), node.processes()
        self.groups = {"streams_server": [streams],
                       "rest_of_node": [p for p in everything if p.pid != streams.pid],
                       **(subscriber_processes or {"probes": [], "counting_subscribers": []}),
                       "benchmark": [psutil.Process()]}
        self.figures = {}

    def __enter__(self):
        self.started = clock()
        self.before = self._seconds()
        return self

    def _seconds(self):
        machine = psutil.cpu_times()._asdict()
        return ({name: cpu_seconds(group) for name, group in self.groups.items()},
                {name: cpu_seconds(group, kernel_only=True) for name, group in self.groups.items()},
                {kind: machine.get(kind, 0.0) for kind in ("user", "system", "softirq", "idle")})

    def __exit__(self, *exc):
        elapsed = clock() - self.started
        total, in_kernel, machine = ({name: (now[name] - then[name]) / elapsed for name in now}
                                     for now, then in zip(self._seconds(), self.before))
        self.figures = {**total, "in_kernel": in_kernel, "machine": machine}


def latency(node, fresh, rate, seconds, subscribers, watcher):
    with CoresUsed(node) as cores:
        records = fresh.post(node.url, int(rate * seconds), 8, rate, seconds)
        time.sleep(5)  # the last blocks decided and pushed
    events, received_bytes, lost = subscribers.report()
    sent = {r.id: r.sent for r in records if r.accepted is not None}
    delays, first_seen = [], {}
    for received, event in events:
        decided = watcher.decided.get(event["block_id"])
        if event["transaction_id"] in sent and decided is not None:
            delays.append((received - decided) * 1000)
            first_seen[event["transaction_id"]] = min(received, first_seen.get(event["transaction_id"], received))
    post_to_event = [(first_seen[tx_id] - at) * 1000 for tx_id, at in sent.items() if tx_id in first_seen]
    return {"offered_tx_per_s": rate, "accepted": len(sent), "seen_by_probes": len(first_seen),
            "event_latency_p50_ms": percentile(delays, 50), "event_latency_p99_ms": percentile(delays, 99),
            "post_to_event_p50_ms": percentile(post_to_event, 50),
            "post_to_event_p99_ms": percentile(post_to_event, 99),
            "bytes_per_subscriber": received_bytes / subscribers.count, "subscribers_cut_off": lost,
            "streams_server_cpu_percent": 100 * cores.figures["streams_server"],
            "whole_node_cpu_percent": 100 * (cores.figures["streams_server"] + cores.figures["rest_of_node"])}


async def resumer(url, since, last, reconnects, deadline):
    """Follow ``url`` from ``since``, dropping the connection at random, until the
    event at ``last()`` (None while unknown) came, or ``deadline``; the events."""
    events, position = [], since
    while clock() < deadline() and (last() is None or position != last()):
        try:
            async with websockets.connect(f"{url}?since={position}", max_queue=None, open_timeout=60) as stream:
                reconnects.append(1)
                leave = clock() + random.uniform(0.5, 3.0)
                while clock() < leave and (last() is None or position != last()):
                    try:
                        message = await asyncio.wait_for(stream.recv(), max(0.01, leave - clock()))
                    except TimeoutError:
                        break
                    event = json.loads(message)
                    events.append((event["position"], event["transaction_id"]))
                    position = event["position"]
        except (OSError, TimeoutError, websockets.ConnectionClosed):
            await asyncio.sleep(0.5)  # as a client does: connect again, from the last position it has
    return events


async def replay(url, since, expected):
    """Every event after ``since``, read in one go until ``expected`` came and the stream is then quiet for 5 s."""
    found = []
    async with websockets.connect(f"{url}?since={since}", max_queue=None) as stream:
        while True:
            try:
                event = json.loads(await asyncio.wait_for(stream.recv(), 5 if len(found) >= expected else 120))
            except TimeoutError:
                return found
            found.append((event["position"], event["transaction_id"]))


async def resume(node, fresh, clients, rate, seconds):
    url = f"{node.streams}/valid_transactions"
    async with websockets.connect(f"{node.streams}/blocks?since=0") as blocks:  # where the ledger is now
        since = None
        while True:
            try:
                since = json.loads(await asyncio.wait_for(blocks.recv(), 3))["position"]
            except TimeoutError:
                break
    reference, reconnects = [], []
    ends = {"last": None, "deadline": clock() + seconds + 300}
    tasks = [asyncio.create_task(resumer(url, since, lambda: ends["last"], reconnects, lambda: ends["deadline"]))
             for _ in range(clients)]
    loop = asyncio.get_running_loop()
    records = await loop.run_in_executor(None, fresh.post, node.url, int(rate * seconds), 8, rate, seconds)
    await asyncio.sleep(5)  # the last blocks decided
    accepted = {r.id for r in records if r.accepted is not None}
    reference = await replay(url, since, len(accepted))
    ends["last"] = reference[-1][0]
    ends["deadline"] = clock() + 120  # time for every client to catch up
    got = await asyncio.gather(*tasks)
    return {"clients": clients, "offered_tx_per_s": rate, "seconds": seconds, "accepted": len(accepted),
            "events_in_ledger": len(reference), "all_accepted_in_ledger": accepted <= {t for _, t in reference},
            "reconnections": len(reconnects), "clients_with_every_event_exactly_once":
                sum(events == reference for events in got),
            "events_missed": sum(len(set(reference) - set(events)) for events in got),
            "events_repeated": sum(len(events) - len(set(events)) for events in got)}


async def main(argv=None):
    args = parse_args(argv)
    count = int(args.rate * args.seconds + args.resume_rate * args.resume_seconds + args.capacity_seconds * 2 * 600) + 1
    started = time.monotonic()
    fresh = Fresh(build_bodies(count))
    print(f"built {count} signed transactions in {time.monotonic() - started:.0f} s", flush=True)
    figures = {"command": sys.argv, "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bigchaindb-streams-bench-") as scratch:
        database = {"backend": "sqlite", "path": os.path.join(scratch, "node.sqlite")}
        node = Node(scratch, "node", database, server={"workers": args.workers},
                    streams={"heartbeat": 3600,  # room for every client the benchmark holds at once
                             "max_subscribers": args.subscribers + args.resumers + 100}).start(timeout=60)
        loop = asyncio.get_running_loop()
        try:
            if args.capacity_seconds:
                print("request path without subscribers", flush=True)
                with CoresUsed(node) as cores_alone:
                    alone = await loop.run_in_executor(None, capacity, node, fresh, args.clients,
                                                       args.capacity_seconds)
            print(f"connecting {args.subscribers} subscribers", flush=True)
            subscribers = await loop.run_in_executor(None, Subscribers, node.streams, args.subscribers,
                                                     args.probes)
            if args.capacity_seconds:
                print("request path with them", flush=True)
                with CoresUsed(node, subscribers.processes()) as cores_shared:
                    shared = await loop.run_in_executor(None, capacity, node, fresh, args.clients,
                                                        args.capacity_seconds)
                figures["request_path"] = {"accepted_tx_per_s_alone": alone,
                                           "accepted_tx_per_s_with_subscribers": shared,
                                           "drop_percent": 100 * (1 - shared / alone) if alone else None,
                                           "cores_used_alone": cores_alone.figures,
                                           "cores_used_with_subscribers": cores_shared.figures,
                                           "load_average": os.getloadavg()}
            print(f"latency at {args.rate:g} tx/s for {args.seconds:g} s", flush=True)
            watcher = DecisionWatcher(database)
            watcher.thread.start()
            figures["latency"] = await loop.run_in_executor(None, latency, node, fresh, args.rate, args.seconds,
                                                            subscribers, watcher)
            figures["latency"].update(subscribers=args.subscribers, probes=args.probes,
                                      load_average=os.getloadavg())
            print(json.dumps({name: figures[name] for name in ("request_path", "latency") if name in figures},
                             indent=2), flush=True)
            watcher.stopped.set()
            if args.resume_seconds:
                print(f"{args.resumers} resuming clients for {args.resume_seconds:g} s", flush=True)
                figures["resume"] = await resume(node, fresh, args.resumers, args.resume_rate,
                                                 args.resume_seconds)
                figures["resume"]["load_average"] = os.getloadavg()
        finally:
            node.stop()
    print(json.dumps(figures, indent=2))
    resumed = figures.get("resume")
    if resumed and resumed["clients_with_every_event_exactly_once"] != resumed["clients"]:
        sys.exit("FAILED: a resuming client missed or repeated an event")


if __name__ == "__main__":
    asyncio.run(main())
