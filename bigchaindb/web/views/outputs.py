"""Outputs: what a key holds, one output at a time (BigchainDB 0.9's ``/outputs``).

``GET /transactions?owners_after=`` answers whole transactions, and with
``fulfilled=false`` keeps a transaction while any output of the key in it
is unspent: a payment and its change to the same key cannot be told apart.
A client choosing what to spend needs each output's own state.
"""

from flask import Blueprint
from flask_restful import Resource

from bigchaindb.web.inputs import boolean, public_key, query, required
from bigchaindb.web.views import JsonApi, bigchain

blueprint = Blueprint("outputs", __name__)


class OutputListApi(Resource):
    def get(self):
        """``[{"transaction_id", "output_index", "asset_id", "amount", "owners_after"}]`` of the
        outputs of ``public_key`` in VALID or UNDECIDED blocks; ``unspent`` true or false keeps
        only the unspent or the spent ones."""
        args = query("public_key", "unspent")
        owner = public_key(required(args, "public_key"), "public_key")
        outputs = bigchain().get_outputs(owner, boolean(args.get("unspent"), "unspent"))
        return [{"transaction_id": tx["id"], "output_index": cid, "asset_id": tx["transaction"]["asset"]["id"],
                 "amount": tx["transaction"]["conditions"][cid]["amount"],
                 "owners_after": tx["transaction"]["conditions"][cid]["owners_after"]} for tx, cid in outputs]


api = JsonApi(blueprint)
api.add_resource(OutputListApi, "/outputs", endpoint="outputs")
