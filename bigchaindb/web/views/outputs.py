"""Outputs: those a public key holds, spent or not, without their transactions."""

from flask import Blueprint
from flask_restful import Resource

from bigchaindb.web.inputs import PAGE_PARAMETERS, boolean, page, public_key, query, required
from bigchaindb.web.views import JsonApi, bigchain, listed

blueprint = Blueprint("outputs", __name__)


class OutputListApi(Resource):
    def get(self):
        """A page of ``{"transaction_id", "output_index", "amount"}`` of the outputs
        ``?public_key=`` owns in VALID or UNDECIDED blocks, only spent or unspent
        ones with ``?spent=true|false``."""
        args = query("public_key", "spent", *PAGE_PARAMETERS)
        owner = public_key(required(args, "public_key"), "public_key")
        return listed(bigchain().get_outputs_of(owner, boolean(args.get("spent"), "spent"), *page(args)))


api = JsonApi(blueprint)
api.add_resource(OutputListApi, "/outputs", endpoint="outputs")
