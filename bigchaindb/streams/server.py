"""The streams server: ``GET /api/v1/streams/<stream>`` as WebSocket or server-sent events.

It runs in a process of its own (``bigchaindb.processes`` supervises it),
on its own port (``streams.bind``), as one asyncio event loop (aiohttp):

- the API's gunicorn workers never hold a subscriber's connection, so a
  thousand subscribers take nothing from the requests they serve;
- an idle subscriber costs a few kilobytes and no thread; the store is read
  by one reader per stream kind (``hub.Hub``), not one per subscriber;
- aiohttp speaks both WebSocket (with its ping/pong heartbeat) and streamed
  HTTP responses, which server-sent events are, on one port and one path.

A request is a WebSocket when it asks to upgrade, server-sent events when
it accepts ``text/event-stream``; anything else is a 406.  Bad parameters
are a 400 in the API's JSON error shape, before any upgrade.

At most ``streams.max_subscribers`` clients, WebSocket and server-sent
events together, follow a stream at once: one more is answered 503 with
``Retry-After`` before anything else is done for it (no upgrade, no read of
the store), as each costs a socket (a file descriptor) and buffers.  A
client must send its request within ``REQUEST_TIMEOUT`` of connecting, so
one that connects and sends nothing, or a part of a request, holds its
socket no longer.

Its event loop beats the stage's heartbeat (``bigchaindb.health``) with
how long its slowest reader of the store has not come around (``Hub.lag``),
so ``GET /health`` says when the streams are stuck or behind the store.
"""

import asyncio
import logging
import resource
import socket
from concurrent.futures import ThreadPoolExecutor

from aiohttp import WSMsgType, web

from bigchaindb import backend, health, metrics
from bigchaindb.common.transaction import CREATE, GENESIS, TRANSFER
from bigchaindb.core import Bigchain
from bigchaindb.streams import events
from bigchaindb.streams.hub import CUTOFF_GRACE, Hub, Subscriber

logger = logging.getLogger(__name__)

PATH = "/api/v1/streams/{stream}"
RING_BACK = 100
"""Items a hub reads back from the end of the store when it starts: the
decisions on blocks written just before a restart reach live clients too,
and clients that reconnect right after a restart resume from memory."""
REPLAY_THREADS = 8
"""Threads reading the store for subscribers that catch up."""
TOO_SLOW = 1013
"""The WebSocket close code of a subscriber cut off for being too far behind ("try again later")."""
DRAIN_PAUSE = 0.05
"""Seconds between two looks at the socket of a client that does not take what it is sent."""
FILTERS = ("asset_id", "public_key", "operation")
OPERATIONS = (CREATE, TRANSFER, GENESIS)
LONGEST_VALUE = 200
RETRY_AFTER = 10
"""Seconds a client refused for want of room is told to wait before it tries again (``Retry-After``)."""
REQUEST_TIMEOUT = 5
"""Seconds a client has, from connecting, to send its request line and headers; and that an idle
connection is kept after an answer (as the API's ``web.server.HEADER_TIMEOUT``)."""
SPARE_FILES = 256
"""Open files the streams process needs beside its subscribers' sockets: the store's
connections, the listening socket, connections still sending their request."""
BYTES_PER_EVENT = 512
"""What a client's buffer of ``streams.buffer`` events is taken to weigh in the
socket: its kernel send buffer and the server's write buffer are each cut to
that (the kernel would otherwise let megabytes pile up for a client that
does not read, before the server even noticed it is behind)."""


class Refused(Exception):
    """A request the server refuses, with the status, message and headers to answer."""

    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.headers = headers


def error(status, message, headers=None):
    return web.json_response({"status": status, "message": message}, status=status, headers=headers)


@web.middleware
async def json_errors(request, handler):
    """Every refusal in the API's JSON error shape (aiohttp's own 404 and 405 too)."""
    try:
        return await handler(request)
    except Refused as exc:
        return error(exc.status, str(exc), exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error(exc.status, exc.reason if exc.status != 404 else
                     f"no stream at {request.path}; streams: " + ", ".join(events.STREAMS))


def parameters(request, stream, connection):
    """``(since, matches)`` from the query and headers, or Refused naming the problem."""
    query = request.query
    allowed = ("since", *FILTERS) if stream == events.VALID_TRANSACTIONS else ("since",)
    for name in query:
        if name not in allowed:
            raise Refused(400, f"{name}: not a parameter of this stream; allowed: {', '.join(allowed)}")
        if len(query.getall(name)) > 1:
            raise Refused(400, f"{name}: given more than once")
        if not query[name] or len(query[name]) > LONGEST_VALUE:
            raise Refused(400, f"{name}: empty or longer than {LONGEST_VALUE} characters")
    # an EventSource that reconnects sends the id of the last event it got
    token = request.headers.get("Last-Event-ID") or query.get("since")
    since = None
    if token:
        try:
            since = events.parse_since(connection, stream, token)
        except ValueError as exc:
            raise Refused(400, f"since: {token!r}: {exc}; allowed: the position of an event of this stream "
                                  "(0 for the start of the ledger)") from None
    operation = query.get("operation")
    if operation is not None and operation not in OPERATIONS:
        raise Refused(400, f"operation: {operation!r}: allowed: one of {', '.join(OPERATIONS)}")
    asset_id, public_key = query.get("asset_id"), query.get("public_key")

    def matches(event):
        return ((asset_id is None or event.asset_id == asset_id)
                and (operation is None or event.operation == operation)
                and (public_key is None or public_key in event.keys))
    return since, matches if (asset_id, operation, public_key) != (None, None, None) else None


def resume_hint(subscriber):
    return (f"too far behind: reconnect with since={subscriber.last_token}" if subscriber.last_token
            else "too far behind: reconnect with since= the position of the last event received")


class Streams:
    """The aiohttp application's state: one hub per source, and the settings."""

    def __init__(self, config, connection=None, run_directory=None):
        self.connection = connection or backend.connect(config["database"])
        self.bigchain = Bigchain.from_config(config, self.connection)
        settings = config["streams"]
        self.heartbeat = settings["heartbeat"]
        self.buffer = settings["buffer"]
        self.max_subscribers = settings["max_subscribers"]
        self.subscribers = 0  # clients following a stream, WebSocket and server-sent events alike
        self.socket_bytes = max(4096, self.buffer * BYTES_PER_EVENT)
        self.executor = ThreadPoolExecutor(REPLAY_THREADS, thread_name_prefix="replay")
        self.stage_heartbeat = health.Heartbeat(run_directory, "streams",
                                                health.limit_of(config["backlog_reassign_delay"]))
        self._reporting = None
        self.hubs = {}
        for stream in events.STREAMS:
            source = events.source_for(stream)
            if source not in self.hubs:
                start = events.start_position(stream, self.connection, RING_BACK)
                self.hubs[source] = Hub(stream, self.connection, lambda position, source=source:
                                        source(self.bigchain, position), start, self.executor)

    def hub(self, stream):
        return self.hubs[events.source_for(stream)]

    async def start(self, app):
        self._count(0)  # shown from the start, at 0 (and again after a restart)
        for hub in self.hubs.values():
            await hub.start()
        self._reporting = asyncio.create_task(self.report())

    async def report(self):
        """Beat the stage's heartbeat from the event loop (a loop that no longer turns
        stops beating), with how far behind the store the slowest reader is."""
        while True:
            self.stage_heartbeat.beat(max(hub.lag for hub in self.hubs.values()))
            await asyncio.sleep(self.stage_heartbeat.every)

    async def stop(self, app):
        if self._reporting is not None:
            self._reporting.cancel()
        for hub in self.hubs.values():
            hub.stop()
        self.executor.shutdown(wait=False, cancel_futures=True)

    async def serve(self, request):
        stream = request.match_info["stream"]
        if stream not in events.STREAMS:
            raise web.HTTPNotFound()
        if self.subscribers >= self.max_subscribers:
            metrics.metrics().stream_refusals.inc()
            raise Refused(503, f"this node serves at most {self.max_subscribers} stream subscribers at once "
                               "(streams.max_subscribers), and has that many: try again later",
                          {"Retry-After": str(RETRY_AFTER)})
        since, matches = parameters(request, stream, self.connection)
        # no compression: each message is serialised once and sent as is to every subscriber
        websocket = web.WebSocketResponse(heartbeat=self.heartbeat, compress=False, writer_limit=self.socket_bytes)
        if websocket.can_prepare(request).ok:
            send, respond = self._websocket(websocket, request.transport), websocket
        elif "text/event-stream" in request.headers.get("Accept", ""):
            respond = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                                  "X-Accel-Buffering": "no"})
            send = self._server_sent(respond)
        else:
            raise Refused(406, "a stream is a WebSocket (send Upgrade: websocket) or server-sent events "
                                  "(send Accept: text/event-stream)")
        self._bound_socket(request.transport)
        self._count(+1)  # no await since the check above: no other client took the room meanwhile
        catching_up = None
        hub = self.hub(stream)
        subscriber = Subscriber(stream, self.buffer, matches)
        try:
            await respond.prepare(request)
            subscriber.last_token = since.token if since else hub.head_token
            handler = asyncio.current_task()
            subscriber.on_cut_off = lambda: asyncio.get_running_loop().call_later(CUTOFF_GRACE, handler.cancel)
            catching_up = asyncio.create_task(hub.subscribe(subscriber, since))
            await send(subscriber)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if catching_up is not None:
                catching_up.cancel()
            hub.remove(subscriber)
            self._count(-1)
        return respond

    def _count(self, change):
        self.subscribers += change
        metrics.metrics().stream_subscribers.set(self.subscribers)

    def _bound_socket(self, transport):
        """Cut what the kernel and the transport hold for this client (see ``BYTES_PER_EVENT``)."""
        sock = transport.get_extra_info("socket") if transport else None
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.socket_bytes)
            transport.set_write_buffer_limits(high=self.socket_bytes)

    def _websocket(self, websocket, transport):
        async def send(subscriber):
            def write(events):
                # the frames as joined once for every client, in one write (aiohttp would
                # build and write each frame of each client apart)
                if transport.is_closing():
                    return False
                transport.write(events.frames())
                subscriber.last_token = events[-1].token
                return transport.get_write_buffer_size() <= self.socket_bytes

            # read what the client sends (pongs, its close) while sending
            listening = asyncio.create_task(self._listen(websocket, subscriber))
            subscriber.write = write
            try:
                while not websocket.closed and not listening.done():
                    taken = await subscriber.take()  # aiohttp sends the pings
                    if subscriber.cut_off:
                        await websocket.close(code=TOO_SLOW, message=resume_hint(subscriber).encode()[:123])
                        return
                    if taken:
                        write(taken)
                    await self._drained(transport)
                    subscriber.congested = False
            finally:
                subscriber.write = None
                listening.cancel()
        return send

    async def _drained(self, transport):
        """Wait while more than the client's share is waiting in the transport."""
        while transport.get_write_buffer_size() > self.socket_bytes:
            if transport.is_closing():
                raise ConnectionResetError("the client went away")
            await asyncio.sleep(DRAIN_PAUSE)

    @staticmethod
    async def _listen(websocket, subscriber):
        async for message in websocket:
            if message.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                break
        subscriber.close()

    def _server_sent(self, response):
        async def send(subscriber):
            await response.write(b"retry: 1000\n\n")
            while True:
                taken = await subscriber.take(self.heartbeat)
                if subscriber.cut_off:
                    await response.write(b"event: cut-off\ndata: " + resume_hint(subscriber).encode() + b"\n\n")
                    return
                # a comment when idle: keeps proxies from closing a quiet connection
                await response.write(b"".join(event.sse() for event in taken) if taken else b": heartbeat\n\n")
                if taken:
                    subscriber.last_token = taken[-1].token
        return send


def create_app(config, connection=None, run_directory=None):
    """The aiohttp application serving the streams of the node configured by ``config``
    (its heartbeats in ``run_directory``, if given: ``processes.RunDirectory``)."""
    streams = Streams(config, connection, run_directory)
    app = web.Application(middlewares=[json_errors])
    app.router.add_get(PATH, streams.serve)
    app.on_startup.append(streams.start)
    app.on_cleanup.append(streams.stop)
    return app


def open_files_for(subscribers):
    """Raise this process's limit of open files to what ``subscribers`` need, if it is lower
    (as far as the hard limit lets it, which only root can raise; a warning when that is short)."""
    wanted = subscribers + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
    if raised < wanted:
        logger.warning("streams: this process may open %d files at most (its hard limit, ulimit -Hn), fewer than "
                       "the %d that streams.max_subscribers (%d) needs: raise the limit or lower the setting",
                       raised, wanted, subscribers)


def run(config, listener_fd, run_directory=None):
    """Serve the streams on the listening socket ``listener_fd`` until SIGTERM."""
    open_files_for(config["streams"]["max_subscribers"])
    sock = socket.socket(fileno=listener_fd)
    web.run_app(create_app(config, run_directory=run_directory), sock=sock, print=None, access_log=None,
                handler_cancellation=True, shutdown_timeout=1.0, keepalive_timeout=REQUEST_TIMEOUT)
