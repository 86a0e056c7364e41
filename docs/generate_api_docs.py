"""Write docs/api.md from a live node, so the API reference cannot drift from the code.

Starts a real node on a fresh store, sends every request the reference
shows, and records what the node really answered: status line, the headers
that matter, and the body.  Each request is shown in shell (curl), Python
(requests) and JavaScript (the built-in ``fetch`` of Node 18+ and browsers);
the JavaScript is then run, with Node, against the same node, and must get
the same status (every request shown can be repeated: a node accepts the
very transaction it holds again).  Run it after any change to the web layer:

    .venv/bin/python docs/generate_api_docs.py            # rewrites docs/api.md
    .venv/bin/python docs/generate_api_docs.py -o FILE    # writes elsewhere
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bigchaindb.common.crypto import CryptoKeypair  # noqa: E402
from bigchaindb.common.transaction import Asset, Metadata, Transaction  # noqa: E402
from tests.integration.node import Node  # noqa: E402

# Fixed keys and ids: transaction ids in the docs stay the same run to run.
ALICE = CryptoKeypair("CdVGmFqgtQYJWnkvjkg7zL6Z4RjcMgHu89RmZrW6CsL2", "DJeBpu5wuH2aAtTKJ1rdYKCvzjqU9r4kCpXrgd3v3WsE")
BOB = CryptoKeypair("HyA967oAB8Jo38kj2n1xMheLsGbCamEFFo3Vm52FpYhW", "8YKjFUq3vWDdqnCXHopFDZtb5WP6sztRjkVmQyCwt7Y1")
NODE = CryptoKeypair("E5TiV7pi3PY3LpGFEZf4fox8S8BEmB9Eq9sYRpfrzFrC", "EunPyXVrLtN6qhGQzGzkdwzDbnhPSWPFe8Vz939YSNvh")
ASSET_ID = "0d3c42b4-7c5b-4a4a-8b56-6e3a2a6c1f01"
METADATA_ID = "7b1e8a4e-0f0e-4d57-9a8e-2f1c3e5d7a90"
PUBLIC_HOST = "http://localhost:9984"
PUBLIC_STREAMS = "ws://localhost:9985"
SHOWN_HEADERS = ("Location", "X-BigchainDB-Timestamp", "Link", "Content-Type")
NODE_JS = shutil.which("node")


class Recorder:
    """Sends requests to the node and keeps each exchange as a Markdown section."""

    def __init__(self, node):
        self.node = node
        self.sections = []

    def exchange(self, title, text, method, path, body=None, headers=None, raw=None, plain=False):
        """Send one request and keep it as a section; ``plain``: the answer is text, not JSON."""
        url = self.node.url + path
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        send_headers = dict(headers or {})
        if body is not None and raw is None:
            send_headers["Content-Type"] = "application/json"
        response = requests.request(method, url, data=data, headers=send_headers, allow_redirects=False,
                                    timeout=30)
        javascript = self._javascript(method, PUBLIC_HOST + path, send_headers, body, raw, plain)
        if NODE_JS:
            run_javascript(javascript, PUBLIC_HOST, self.node.url, body, raw, response.status_code)
        self.sections.append(self._section(title, text, method, path, body, send_headers, raw, response,
                                           javascript, plain))
        return response

    def stream(self, title, text, path, count):
        """Read the first ``count`` events of the stream at ``path`` as server-sent
        events, run the JavaScript for them, and keep it all as a section."""
        url = self.node.streams.rpartition("/api/")[0].replace("ws://", "http://") + path
        public = PUBLIC_STREAMS + path
        response = requests.get(url, headers={"Accept": "text/event-stream"}, stream=True, timeout=30)
        with response:
            body = read_events(response, count)
        javascript = stream_javascript(public, count)
        if NODE_JS:
            run_stream_javascript(javascript, self._public_streams_url(url), url, count)
        python = ["import asyncio", "import json", "", "import websockets", "", "",
                  "async def follow():",
                  f"    async with websockets.connect('{public}') as stream:",
                  "        async for message in stream:",
                  "            event = json.loads(message)",
                  "            print(event['position'], event)",
                  "            # remember event['position']: reconnect with ?since=<it> to resume", "", "",
                  "asyncio.run(follow())"]
        shown = [f"HTTP/1.1 {response.status_code} {response.reason}",
                 f"Content-Type: {response.headers['Content-Type']}", "", self._public(body)]
        self.sections.append("\n".join([
            f"### {title}", "", text, "", f"`GET {path}`", "",
            "```bash", f"curl -N -H 'Accept: text/event-stream' '{public.replace('ws://', 'http://')}'", "```", "",
            "```python", *python, "```", "", "```javascript", javascript, "```", "",
            f"Response (the first {count} events):", "", "```http", *shown, "```", ""]))

    @staticmethod
    def _public_streams_url(url):
        return PUBLIC_STREAMS.replace("ws://", "http://") + "/api/" + url.partition("/api/")[2]

    def _section(self, title, text, method, path, body, headers, raw, response, javascript, plain):
        public = PUBLIC_HOST + path
        curl = ["curl -i"]
        if method != "GET":
            curl.append(f"-X {method}")
        curl += [f"-H '{k}: {v}'" for k, v in headers.items()]
        if body is not None or raw is not None:
            curl.append("--data @body.json")
        curl.append(f"'{public}'")
        python = ["import requests", ""]
        if body is not None and raw is None:
            python.append(f"response = requests.{method.lower()}('{public}', json=tx)")
        else:
            python.append(f"response = requests.{method.lower()}('{public}', allow_redirects=False)")
        python += ["print(response.status_code, response.headers.get('Location'))",
                   "print(response.text)" if plain else "print(response.json())"]
        shown = [f"HTTP/1.1 {response.status_code} {response.reason}"]
        shown += [f"{name}: {self._public(response.headers[name])}" for name in SHOWN_HEADERS
                  if name in response.headers]
        lines = [f"### {title}", "", *([text, ""] if text else []), f"`{method} {path}`", "", "```bash", " \\\n     ".join(curl), "```",
                 "", "```python", *python, "```", "", "```javascript", javascript, "```", "",
                 "Response:", "", "```http", *shown, "",
                 self._public(plain_excerpt(response.text) if plain else
                              json.dumps(response.json(), indent=2, ensure_ascii=False)), "```", ""]
        return "\n".join(lines)

    @staticmethod
    def _javascript(method, url, headers, body, raw, plain=False):
        """The request as a ``fetch`` call; ``tx`` is the transaction object, ``body`` raw text."""
        options = [f"  method: '{method}',"] if method != "GET" else []
        if headers:
            options.append("  headers: {" + ", ".join(f"'{k}': '{v}'" for k, v in headers.items()) + "},")
        if raw is not None:
            options.append("  body,")
        elif body is not None:
            options.append("  body: JSON.stringify(tx),")
        options.append("  redirect: 'manual',  // read a 303's own body: it holds the status")
        return "\n".join([f"const response = await fetch('{url}', {{", *options, "});",
                          "console.log(response.status, response.headers.get('Location'));",
                          f"console.log(await response.{'text' if plain else 'json'}());"])

    def _public(self, text):
        return text.replace(self.node.url, PUBLIC_HOST).replace(self.node.streams.rpartition("/api/")[0],
                                                                PUBLIC_STREAMS)


def plain_excerpt(text, lines=14):
    """The first ``lines`` lines of a text answer, and a note of how many more there are."""
    shown = text.splitlines()
    more = len(shown) - lines
    return "\n".join(shown[:lines] + ([f"... ({more} more lines)"] if more > 0 else []))


def run_javascript(javascript, public_host, url, body, raw, expected_status):
    """Run one example with Node against ``url``; it must get ``expected_status``."""
    prelude = f"const tx = {json.dumps(body)};\n" if raw is None else f"const body = {json.dumps(raw.decode())};\n"
    script = prelude + javascript.replace(public_host, url)
    # on stdin: a transaction may be longer than one command-line argument may be (128 kB)
    done = subprocess.run([NODE_JS, "--input-type=module"], input=script, capture_output=True, text=True,
                          timeout=30)
    status = done.stdout.split(" ", 1)[0]
    if done.returncode != 0 or status != str(expected_status):
        raise RuntimeError(f"the JavaScript example got {status or 'nothing'} instead of {expected_status}:\n"
                           f"{script}\n{done.stdout}{done.stderr}")


def read_events(response, count):
    """The text of a server-sent events response up to its ``count``-th event."""
    lines, events = [], 0
    for line in response.iter_lines(decode_unicode=True):
        lines.append(line)
        if line.startswith("data: "):
            events += 1
        elif not line and events == count:
            return "\n".join(lines)
    raise RuntimeError(f"the stream ended after {events} of {count} events")


def stream_javascript(url, count):
    """A browser's two ways to follow a stream: a WebSocket, and an EventSource
    (which reconnects by itself, resuming after the last event it got)."""
    return "\n".join([
        f"const url = '{url}';",
        f"const shown = {count};  // the events shown below; leave out the close() calls to follow for good",
        "",
        "// WebSocket",
        "const socket = new WebSocket(url);",
        "let received = 0;",
        "socket.onmessage = (message) => {",
        "  const event = JSON.parse(message.data);",
        "  console.log('websocket', event.position, event);",
        "  if (++received === shown) socket.close();",
        "};",
        "",
        "// Server-sent events (http:// or https://, not ws://)",
        "const source = new EventSource(url.replace(/^ws/, 'http'));",
        "let seen = 0;",
        "source.onmessage = (message) => {",
        "  console.log('eventsource', message.lastEventId, JSON.parse(message.data));",
        "  if (++seen === shown) source.close();",
        "};"])


EVENT_SOURCE = """\
// An EventSource for Node, which has none (browsers do): enough for the example.
globalThis.EventSource = class {
  constructor(url) {
    this.controller = new AbortController();
    fetch(url, {headers: {Accept: 'text/event-stream'}, signal: this.controller.signal}).then(async (response) => {
      let text = '';
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        let end;
        while ((end = text.indexOf('\\n\\n')) >= 0) {
          const fields = Object.fromEntries(text.slice(0, end).split('\\n')
            .filter((line) => line && !line.startsWith(':')).map((line) => line.split(/: (.*)/s).slice(0, 2)));
          text = text.slice(end + 2);
          if ('data' in fields) this.onmessage({data: fields.data, lastEventId: fields.id});
        }
      }
    }).catch((error) => { if (error.name !== 'AbortError') throw error; });
  }
  close() { this.controller.abort(); }
};
"""


def run_stream_javascript(javascript, public_url, url, count):
    """Run a stream example with Node (its WebSocket, and ``EVENT_SOURCE``) against ``url``:
    both clients must print ``count`` events."""
    script = EVENT_SOURCE + javascript.replace(public_url.replace("http://", "ws://"), url.replace("http://", "ws://"))
    done = subprocess.run([NODE_JS, "--experimental-websocket", "--no-warnings", "--input-type=module"],
                          input=script, capture_output=True, text=True, timeout=30)
    printed = done.stdout.splitlines()
    for client in ("websocket", "eventsource"):
        if done.returncode != 0 or sum(line.startswith(client) for line in printed) != count:
            raise RuntimeError(f"the JavaScript example's {client} did not print {count} events:\n"
                               f"{script}\n{done.stdout}{done.stderr}")


def build_transactions():
    create = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)],
                                asset=Asset({"msg": "Hello BigchainDB!"}, asset_id=ASSET_ID),
                                metadata=Metadata({"planet": "earth"}, METADATA_ID))
    create.sign([ALICE.private_key])
    transfer = Transaction.transfer(create.to_inputs([0]), [([BOB.public_key], 1)], ASSET_ID)
    transfer.sign([ALICE.private_key])
    return create, transfer


def too_costly_to_verify():
    """Alice's CREATE with 200 fulfillments and 100 kB of metadata: 200 signatures over 100 kB each."""
    tx = Transaction.create([ALICE.public_key], [([ALICE.public_key], 1)], asset=Asset(asset_id=ASSET_ID),
                            metadata=Metadata({"notes": "x" * 100_000}, METADATA_ID))
    tx.fulfillments = tx.fulfillments * 200
    return tx.sign([ALICE.private_key])


def record_everything(recorder):
    node = recorder.node
    create, transfer = build_transactions()
    api = "/api/v1"
    recorder.exchange("The node", "Which node this is, its federation, and where the API lives.", "GET", "/")
    recorder.exchange("The API root", "Links to the API's collections.", "GET", f"{api}/")
    recorder.exchange("Post a transaction",
                      "`202 Accepted`: the transaction is valid against the ledger and stored; "
                      "`Location` is where to follow its status.", "POST", f"{api}/transactions",
                      body=create.to_dict())
    node.wait_for_status(create.id, "valid")
    recorder.exchange("Follow a transaction's status",
                      "`303 See Other` once it is in a VALID or UNDECIDED block (`Location` names it); "
                      "`200` with `backlog` or `invalid` before or instead.", "GET", f"{api}/statuses/{create.id}")
    recorder.exchange("Read a transaction",
                      "From a VALID (else UNDECIDED) block; `X-BigchainDB-Timestamp` is the block's timestamp.",
                      "GET", f"{api}/transactions/{create.id}")
    recorder.exchange("A transaction's status, as 0.8 clients ask", "Always `200` with the status.",
                      "GET", f"{api}/transactions/{create.id}/status")
    recorder.exchange("Transfer it", "Alice gives the asset to Bob.", "POST", f"{api}/transactions",
                      body=transfer.to_dict())
    node.wait_for_status(transfer.id, "valid")
    recorder.exchange("Unspent outputs of an owner",
                      "Transactions with an output of `owners_after` not yet spent (`fulfilled=false`).",
                      "GET", f"{api}/transactions?fulfilled=false&owners_after={BOB.public_key}")
    recorder.exchange("Each output of an owner",
                      "One entry per output, of transactions in VALID or UNDECIDED blocks as the other lists: "
                      "`spent=false` keeps those not yet spent, `spent=true` the spent ones (`unspent=`, as "
                      "BigchainDB 0.9 named it, is taken too), so that a payment and its change to one key "
                      "are told apart, as `fulfilled=false` cannot.",
                      "GET", f"{api}/outputs?public_key={BOB.public_key}&spent=false")
    recorder.exchange("The transactions of an asset", "Optionally only one `operation`.",
                      "GET", f"{api}/transactions?operation=CREATE&asset_id={ASSET_ID}")
    recorder.exchange("A page of a list",
                      "Every list comes a page at a time: `limit` items (100 unless asked, at most 1000), and "
                      "when more follow, a `Link` header with the URL of the next page (its `cursor`).",
                      "GET", f"{api}/transactions?asset_id={ASSET_ID}&limit=1")
    recorder.exchange("Search assets",
                      "The assets whose data holds the most of the words first (words: letters and digits, "
                      "any case, in any string value of the data), then in ledger order.",
                      "GET", f"{api}/assets?search=hello%20world&limit=10")
    recorder.exchange("Search metadata", "", "GET", f"{api}/metadata?search=earth")
    recorder.exchange("An asset", "Its data, from its CREATE in a VALID or UNDECIDED block.",
                      "GET", f"{api}/assets/{ASSET_ID}")
    recorder.exchange("Some metadata", "From the first transaction in a VALID or UNDECIDED block holding it.",
                      "GET", f"{api}/metadata/{METADATA_ID}")
    recorder.exchange("The transaction with some metadata", "", "GET",
                      f"{api}/transactions?metadata_id={METADATA_ID}")
    blocks = recorder.exchange("The blocks holding a transaction", "Optionally only those of one `status`.",
                               "GET", f"{api}/blocks?tx_id={create.id}&status=VALID").json()
    block_id = blocks[0]["id"]
    recorder.exchange("A block", "`status` defaults to VALID: a block of another status is a `404` unless asked "
                      "for by its status.", "GET", f"{api}/blocks/{block_id}")
    recorder.exchange("A block's status", "", "GET", f"{api}/statuses/{block_id}")
    recorder.exchange("The votes on a block", "The votes that count: the first one each member of this node's "
                      "federation signed on the block. Rows in the store whose signature does not verify, or by "
                      "anyone else, are not served. A client that trusts no one node checks each signature.",
                      "GET", f"{api}/votes?block_id={block_id}")
    recorder.exchange("One voter's vote on a block", "", "GET",
                      f"{api}/votes?block_id={block_id}&voter={node.public_key}")
    tampered = create.to_dict()
    tampered["transaction"]["metadata"]["data"] = {"planet": "mars"}
    recorder.exchange("Errors: an invalid transaction",
                      "Every error is JSON with the code and a message naming the problem.",
                      "POST", f"{api}/transactions", body=tampered)
    recorder.exchange("Errors: an unknown key", "", "POST", f"{api}/transactions",
                      body=dict(create.to_dict(), timestamp="1480000000"))
    recorder.exchange("Errors: a double spend", "", "POST", f"{api}/transactions",
                      body=Transaction.transfer(create.to_inputs([0]), [([ALICE.public_key], 1)], ASSET_ID)
                      .sign([ALICE.private_key]).to_dict())
    recorder.exchange("Errors: a transaction too costly to verify",
                      "Each fulfillment signs the whole transaction but the other fulfillments, so its "
                      "inputs times its size is what checking it costs: above 16 MiB in all it is refused "
                      "before any signature is checked (see protocol-choices.md).",
                      "POST", f"{api}/transactions", body=too_costly_to_verify().to_dict())
    recorder.exchange("Errors: not JSON", "", "POST", f"{api}/transactions",
                      raw=b'{"id": ', headers={"Content-Type": "application/json"})
    recorder.exchange("Errors: an unknown transaction", "", "GET", f"{api}/transactions/{'0' * 64}")
    recorder.exchange("Errors: a missing parameter", "", "GET", f"{api}/votes")
    recorder.exchange("Errors: a page too large", "", "GET", f"{api}/outputs?public_key={BOB.public_key}&limit=5000")
    recorder.exchange("Health", "For operators and container health checks: `200` when the store answers and "
                      "every stage (block, vote, election, stale) is alive and keeping up; `503` with a message "
                      "naming each problem otherwise (see operating.md).", "GET", "/health")
    recorder.exchange("Metrics", "For Prometheus: every process of the node counted, in its text format (the "
                      "first lines shown; see operating.md for what each metric means).", "GET", "/metrics",
                      plain=True)


def record_streams(recorder):
    """The event streams: each shown as server-sent events (curl), a WebSocket
    (Python), and both in a browser (JavaScript), answered from the start of
    the ledger (``since=0``), so the answer is what the node sent."""
    streams = "/api/v1/streams"
    recorder.stream("Stream: valid transactions",
                    "Every transaction of every block decided VALID, in the ledger's order, as BigchainDB 1.x "
                    "sent them, with the event's `position`. Without `since` a stream starts with what is "
                    "decided from the moment it connects; here it starts at the beginning of the ledger (the "
                    "genesis block's transaction first).", f"{streams}/valid_transactions?since=0", 3)
    recorder.stream("Stream: filtered",
                    "`asset_id`, `public_key` (an output to that key, or an input from it) and `operation` "
                    "select transactions; a filtered stream's positions are those of the whole stream.",
                    f"{streams}/valid_transactions?since=0&asset_id={ASSET_ID}&operation=TRANSFER", 1)
    recorder.stream("Stream: decided blocks",
                    "Every block when it is decided (`VALID` or `INVALID`), with its transactions' ids; a block that "
                    "every node voted on and that stays `UNDECIDED` for good comes with that status.",
                    f"{streams}/blocks?since=0", 3)
    recorder.stream("Stream: votes", "Every vote that counts (signed by a member of the federation), as signed, "
                    "in the order the votes were written.", f"{streams}/votes?since=0", 2)


HEADER = """# The HTTP API, by example

Every example below was produced by `docs/generate_api_docs.py` against a
live node: the requests are the ones it sent and the responses are what the
node answered (with the node's address shown as `{host}`). Ids of blocks and
votes, and timestamps, differ from run to run.

Routes and codes are those of the BigchainDB 0.8 HTTP API; the formats and
rules behind them are in [protocol.md](protocol.md), and where the 0.8
documents were silent, see [protocol-choices.md](protocol-choices.md). For the `curl` examples that
post, save the transaction as `body.json`; in the Python and JavaScript
ones `tx` is the transaction (see [transactions.md](transactions.md), or
`bigchaindb.client`, for building one). The JavaScript runs as it is in
Node 18+ (as an ES module: `node --input-type=module`) and in browsers;
every example in it was run against the node that answered below.

The same API is described for machines by the OpenAPI 3.1 document every
node serves at `/api/v1/openapi.json` (linked from the API root below):
every route, parameter, status code, header and schema, the transaction
schema included. The test suite holds every response it sees to it.

""".format(host=PUBLIC_HOST)


STREAMS_INTRO = """## Event streams

A node also pushes what happens in its ledger, so that a client need not poll
`/statuses` to learn that its transaction became valid. Its streams server
listens on a port of its own (`streams.bind`; by default the API's port plus
one: {streams} beside {host}), and `GET /api/v1` links each stream under
`_links.streams`: `ws://` or `wss://` as the client came, and behind a
proxy the proxy's own URL ([nginx.conf](nginx.conf) routes
`/api/v1/streams/` to the streams port).

- **WebSocket or server-sent events.** A request that upgrades is a
  WebSocket: one JSON text message per event. A request with
  `Accept: text/event-stream` gets server-sent events (for `curl -N` and a
  browser's `EventSource`): each event's `id:` is its position, its `data:`
  the same JSON. Anything else is a `406`.
- **Order.** Events follow the ledger: blocks in the order they were
  written, each one once it is decided, so a block decided early waits for
  the blocks written before it. Votes follow the order they were written.
- **Positions.** Every event has one (`position` in the message), taken from
  the store: it stays valid across restarts of the node and is the same on
  every node sharing the store. On the embedded store a block's is a number
  (`42`) and its transactions' are `42:0`, `42:1`...; on RethinkDB the
  block's write time (and its id, for a block written in the same
  millisecond as another). Take them as opaque text.
- **Resuming.** `?since=<position>` (or `Last-Event-ID`, which an
  `EventSource` sends by itself when it reconnects) gives every event after
  that one, from the store, then the live ones: none missed, none twice.
  `since=0` starts at the beginning of the ledger; without `since` a stream
  starts with what happens after the client connected.
- **Filters** (`valid_transactions` only): `asset_id`, `public_key` (a
  transaction with an output to that key or an input from it), `operation`
  (`CREATE`, `TRANSFER` or `GENESIS`).
- **A client that falls behind** (it has `streams.buffer` events, 1,000 by
  default, still waiting when the next ones come) is disconnected, never
  waited for: a WebSocket is closed with code `1013` and the reason
  `too far behind: reconnect with since=<the last position sent>`; server-sent
  events end with an `event: cut-off` of the same text. Reconnect with
  `since`, and nothing is lost.
- **Heartbeats.** Every `streams.heartbeat` seconds (20) a WebSocket ping
  (a client that does not answer within half that is disconnected), or a
  comment line `: heartbeat` on a quiet server-sent events stream, so that
  proxies do not close a quiet connection.
- **Errors** before a stream starts are JSON, like every other answer of the
  API: `400` naming a bad parameter or position, `404` for an unknown stream,
  `503` with `Retry-After` when the node already serves as many stream
  clients as it takes at once (`streams.max_subscribers`; a WebSocket
  client sees its handshake fail with that status, an `EventSource` an
  `error` without retrying by itself: retry after that many seconds).

The JavaScript below is a browser's. Node 22+ has its `WebSocket` too (Node
20 and 21 with `--experimental-websocket`), but no `EventSource`: the
generator runs each example under Node with a minimal one of its own.

""".format(streams=PUBLIC_STREAMS.replace("ws://", ""), host=PUBLIC_HOST.replace("http://", ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=os.path.join(HERE, "api.md"))
    output = parser.parse_args().output
    with tempfile.TemporaryDirectory() as directory:
        store = {"backend": "sqlite", "path": os.path.join(directory, "docs.sqlite")}
        node = Node(directory, "docs", store, NODE).start()
        try:
            recorder = Recorder(node)
            record_everything(recorder)
            api_sections = len(recorder.sections)
            record_streams(recorder)
        finally:
            node.stop()
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n".join(recorder.sections[:api_sections]) + "\n" + STREAMS_INTRO
                     + "\n".join(recorder.sections[api_sections:]))
    print(f"wrote {output} ({len(recorder.sections)} exchanges)")


if __name__ == "__main__":
    main()
