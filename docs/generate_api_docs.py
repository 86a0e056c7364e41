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
SHOWN_HEADERS = ("Location", "X-BigchainDB-Timestamp", "Content-Type")
NODE_JS = shutil.which("node")


class Recorder:
    """Sends requests to the node and keeps each exchange as a Markdown section."""

    def __init__(self, node):
        self.node = node
        self.sections = []

    def exchange(self, title, text, method, path, body=None, headers=None, raw=None):
        url = self.node.url + path
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        send_headers = dict(headers or {})
        if body is not None and raw is None:
            send_headers["Content-Type"] = "application/json"
        response = requests.request(method, url, data=data, headers=send_headers, allow_redirects=False,
                                    timeout=30)
        javascript = self._javascript(method, PUBLIC_HOST + path, send_headers, body, raw)
        if NODE_JS:
            run_javascript(javascript, PUBLIC_HOST, self.node.url, body, raw, response.status_code)
        self.sections.append(self._section(title, text, method, path, body, send_headers, raw, response,
                                           javascript))
        return response

    def _section(self, title, text, method, path, body, headers, raw, response, javascript):
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
        python += ["print(response.status_code, response.headers.get('Location'))", "print(response.json())"]
        shown = [f"HTTP/1.1 {response.status_code} {response.reason}"]
        shown += [f"{name}: {self._public(response.headers[name])}" for name in SHOWN_HEADERS
                  if name in response.headers]
        lines = [f"### {title}", "", *([text, ""] if text else []), f"`{method} {path}`", "", "```bash", " \\\n     ".join(curl), "```",
                 "", "```python", *python, "```", "", "```javascript", javascript, "```", "",
                 "Response:", "", "```http", *shown, "",
                 self._public(json.dumps(response.json(), indent=2, ensure_ascii=False)), "```", ""]
        return "\n".join(lines)

    @staticmethod
    def _javascript(method, url, headers, body, raw):
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
                          "console.log(await response.json());"])

    def _public(self, text):
        return text.replace(self.node.url, PUBLIC_HOST)


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
    recorder.exchange("The transactions of an asset", "Optionally only one `operation`.",
                      "GET", f"{api}/transactions?operation=CREATE&asset_id={ASSET_ID}")
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
        finally:
            node.stop()
    with open(output, "w", encoding="utf-8") as handle:
        handle.write(HEADER + "\n".join(recorder.sections))
    print(f"wrote {output} ({len(recorder.sections)} exchanges)")


if __name__ == "__main__":
    main()
