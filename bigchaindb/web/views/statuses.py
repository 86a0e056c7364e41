"""Statuses: where an asynchronously written transaction or block stands."""

from flask import Blueprint, abort, url_for
from flask_restful import Resource

from bigchaindb.consensus import VALID
from bigchaindb.core import TX_UNDECIDED, TX_VALID
from bigchaindb.web.inputs import hex_id, query
from bigchaindb.web.views import JsonApi, bigchain, id_url

blueprint = Blueprint("statuses", __name__)


class StatusApi(Resource):
    def get(self, resource_id):
        """200 with the status, or 303 to the resource once it is in a VALID or UNDECIDED block.

        Transaction and block ids are both hashes, so one id names at most one
        of them; the transaction is looked up first as the common case.
        """
        query()
        resource_id = hex_id(resource_id, "id")
        node = bigchain()
        status = node.get_transaction_status(resource_id)
        if status is not None:
            location = id_url("transactions.transaction", tx_id=resource_id)
        else:
            block_status = node.block_status(resource_id)
            if block_status is None:
                abort(404, f"no transaction or block {resource_id} on this node")
            status = block_status.lower()
            # A block URL serves VALID blocks unless told otherwise, so name an UNDECIDED one's status.
            location = url_for("blocks.block", block_id=resource_id,
                               status=None if block_status == VALID else block_status, _external=True)
        if status in (TX_VALID, TX_UNDECIDED):
            return {"status": status}, 303, {"Location": location}
        return {"status": status}


api = JsonApi(blueprint)
api.add_resource(StatusApi, "/statuses/<resource_id>", endpoint="status")
