"""``GET /health`` (is this node alive and keeping up?) and ``GET /metrics`` (Prometheus), for operators.

Both are cheap whatever the ledger's size: /health reads one block header
by its id (the store answers) and the stages' heartbeat files
(``bigchaindb.health``); /metrics reads the counts every process of the
node keeps (``bigchaindb.metrics``), the backlog's size included, which the
stale stage counts: neither reads a table.
"""

from flask import Blueprint, current_app
from flask_restful import Resource

from bigchaindb import health
from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.metrics import CONTENT_TYPE, directory_in, exposition
from bigchaindb.web.inputs import query
from bigchaindb.web.views import JsonApi, bigchain

blueprint = Blueprint("monitoring", __name__)


class Health(Resource):
    def get(self):
        """200 when the store answers and every stage keeps up; else 503 naming each problem."""
        query()
        node = bigchain()
        try:
            node.connection.get_block_header(node.genesis_id)
            problems = []
        except DatabaseError as exc:
            problems = [f"the store does not answer: {exc}"]
        limit = health.limit_of(node.backlog_reassign_delay)
        problems += health.stage_problems(current_app.config["RUN_DIRECTORY"], limit)
        if problems:
            return {"status": 503, "message": "; ".join(problems)}, 503
        return {"status": 200, "message": "the store answers and every stage keeps up"}


class Metrics(Resource):
    def get(self):
        """Every metric of the node's processes, in Prometheus's text format."""
        query()
        run_directory = current_app.config["RUN_DIRECTORY"]
        body = exposition(None if run_directory is None else directory_in(run_directory))
        return current_app.response_class(body, content_type=CONTENT_TYPE)


api = JsonApi(blueprint)
api.add_resource(Health, "/health", endpoint="health")
api.add_resource(Metrics, "/metrics", endpoint="metrics")
