"""Transactions: post one, get one with its status, and find them by owner, asset or metadata."""

from functools import partial

from flask import Blueprint, abort, current_app, request
from flask_restful import Resource

from bigchaindb.common.transaction import CREATE, GENESIS, TRANSFER
from bigchaindb.web.inputs import PAGE_PARAMETERS, boolean, hex_id, json_body, one_of, page, public_key, query, uuid4
from bigchaindb.web.views import JsonApi, bigchain, id_url, listed

OPERATIONS = (GENESIS, CREATE, TRANSFER)
# The queries GET /transactions answers: a key parameter, and the optional one that refines it.
QUERIES = {"owners_after": "fulfilled", "asset_id": "operation", "metadata_id": None}

blueprint = Blueprint("transactions", __name__)


class TransactionApi(Resource):
    def get(self, tx_id):
        """The transaction from a VALID (else UNDECIDED) block, with the block's timestamp."""
        query()
        tx_id = hex_id(tx_id, "tx_id")
        found = bigchain().get_transaction(tx_id)
        if found is None:
            abort(404, f"transaction {tx_id} is not in a VALID or UNDECIDED block")
        tx, block = found
        return tx, 200, {"X-BigchainDB-Timestamp": block["block"]["timestamp"]}


class TransactionStatusApi(Resource):
    """The status of a transaction, at the path 0.8 clients use."""

    def get(self, tx_id):
        query()
        tx_id = hex_id(tx_id, "tx_id")
        status = bigchain().get_transaction_status(tx_id)
        if status is None:
            abort(404, f"transaction {tx_id} is unknown to this node")
        return {"status": status}


class TransactionListApi(Resource):
    def get(self):
        """A page of the transactions of an owner, asset or metadata (see ``web.views.listed``)."""
        args = query(*QUERIES, *filter(None, QUERIES.values()), *PAGE_PARAMETERS)
        if not set(args) - set(PAGE_PARAMETERS):
            # the 0.8 API reference: the bare collection is not exposed (it changes by the second).
            abort(404, "GET /transactions lists nothing without a query: "
                       "give owners_after, asset_id or metadata_id")
        for key, refinement in QUERIES.items():
            if refinement in args and key not in args:
                abort(400, f"query parameter {refinement} needs {key}")
        keys = [key for key in QUERIES if key in args]
        if len(keys) > 1:
            abort(400, f"query parameters {' and '.join(keys)} cannot be combined: give one of them")
        node = bigchain()
        if "owners_after" in args:
            found = partial(node.get_transactions_by_owner, public_key(args["owners_after"], "owners_after"),
                            boolean(args.get("fulfilled"), "fulfilled"))
        elif "asset_id" in args:
            found = partial(node.get_transactions_by_asset, uuid4(args["asset_id"], "asset_id"),
                            one_of(args.get("operation"), "operation", OPERATIONS))
        else:
            found = partial(node.get_transactions_by_metadata, uuid4(args["metadata_id"], "metadata_id"))
        return listed(found(*page(args)))

    def post(self):
        """Validate and store a transaction: 202, and where to follow its status."""
        query()
        tx = bigchain().accept_transaction(json_body())
        # what was posted is the transaction: answered with the bytes received, not serialised again
        return current_app.response_class(request.get_data(), status=202, mimetype="application/json", headers={
            "Location": id_url("statuses.status", resource_id=tx.id)})


api = JsonApi(blueprint)
api.add_resource(TransactionListApi, "/transactions", endpoint="transactions")
api.add_resource(TransactionApi, "/transactions/<tx_id>", endpoint="transaction")
api.add_resource(TransactionStatusApi, "/transactions/<tx_id>/status", endpoint="transaction_status")
