"""Outputs: what a key holds, one output at a time, without the transactions.

``GET /transactions?owners_after=`` answers whole transactions, and with
``fulfilled=false`` keeps a transaction while any output of the key in it
is unspent: a payment and its change to the same key cannot be told apart.
A client choosing what to spend needs each output's own state.
"""

from flask import Blueprint, abort
from flask_restful import Resource

from bigchaindb.web.inputs import PAGE_PARAMETERS, boolean, page, public_key, query, required
from bigchaindb.web.views import JsonApi, bigchain, listed

blueprint = Blueprint("outputs", __name__)


class OutputListApi(Resource):
    def get(self):
        """A page of ``{"transaction_id", "output_index", "amount", "asset_id", "owners_after"}``
        (1.x's three keys, and what a wallet choosing what to spend reads) of the outputs
        ``?public_key=`` is among the owners of, in VALID or UNDECIDED blocks; only spent or
        unspent ones with ``?spent=true|false`` (or 0.9's ``?unspent=false|true``)."""
        args = query("public_key", "spent", "unspent", *PAGE_PARAMETERS)
        owner = public_key(required(args, "public_key"), "public_key")
        if "spent" in args and "unspent" in args:
            abort(400, "query parameters spent and unspent cannot be combined: give one of them")
        spent = boolean(args.get("spent"), "spent")
        if "unspent" in args:
            spent = not boolean(args["unspent"], "unspent")
        return listed(bigchain().get_outputs_of(owner, spent, *page(args)))


api = JsonApi(blueprint)
api.add_resource(OutputListApi, "/outputs", endpoint="outputs")
