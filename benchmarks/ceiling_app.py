"""The machine's ceiling: the node's routes answered by a trivial Flask app.

POST /api/v1/transactions parses the body and echoes it back with a 202;
GET /api/v1/transactions/<id> returns a fixed transaction.  With no ledger
behind it, what it accepted is as committed as it gets, so the harness does
not follow it (a transaction's valid time is its 202).  It is served by
gunicorn with the node's own settings (``bigchaindb.web.server``: worker
class, count, timeouts), so under the same load the gap between node and
ceiling is what the node's own work costs, not HTTP, gunicorn, Flask or the
harness.

    python -m benchmarks.ceiling_app CONFIG   # a node config file: server.* is used
"""

import sys

from flask import Flask, request

from bigchaindb import config as node_config
from bigchaindb.web.server import Server, create_server
from benchmarks.transactions import signed_creates

app = Flask(__name__)
TRANSACTION = signed_creates(0, 1)[0]


@app.post("/api/v1/transactions")
def post_transaction():
    return request.get_json(), 202


@app.get("/api/v1/transactions/<tx_id>")
def transaction(tx_id):
    return TRANSACTION


@app.get("/")
def root():
    return {"ceiling": True}


def serve(config):
    """Serve ``app`` exactly as ``bigchaindb start`` would serve the node with ``config``."""
    Server(lambda: app, create_server(config).options).run()


if __name__ == "__main__":
    serve(node_config.load(sys.argv[1]))
