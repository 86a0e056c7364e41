"""Blocks: one by id and status, or those holding a transaction."""

from flask import Blueprint, abort
from flask_restful import Resource

from bigchaindb.consensus import INVALID, UNDECIDED, VALID
from bigchaindb.web.inputs import PAGE_PARAMETERS, hex_id, one_of, page, query, required
from bigchaindb.web.views import JsonApi, bigchain, listed

STATUSES = (VALID, UNDECIDED, INVALID)

blueprint = Blueprint("blocks", __name__)


class BlockApi(Resource):
    def get(self, block_id):
        """The block if its status is ``?status=`` (VALID by default), else 404 saying what it is."""
        args = query("status")
        block_id = hex_id(block_id, "block_id")
        status = one_of(args.get("status"), "status", STATUSES) or VALID
        node = bigchain()
        block = node.get_block(block_id, status)
        if block is None:
            actual = node.block_status(block_id)
            if actual is None:
                abort(404, f"no block {block_id}")
            if actual == status:  # stored, but not shaped as a block (anyone can write such a row)
                abort(404, f"block {block_id} is {actual} and is not served: it is not shaped as a block")
            abort(404, f"block {block_id} is {actual}, not {status}")
        return block


class BlockListApi(Resource):
    def get(self):
        """The blocks holding ``?tx_id=``, optionally only those of ``?status=``.

        the 0.8 API reference gives both 404 and 400 for /blocks without tx_id; a 400
        saying tx_id is required tells the client what to do.
        """
        args = query("tx_id", "status", *PAGE_PARAMETERS)
        tx_id = hex_id(required(args, "tx_id"), "tx_id")
        return listed(bigchain().get_blocks_with_transaction(tx_id, one_of(args.get("status"), "status", STATUSES),
                                                             *page(args)))


api = JsonApi(blueprint)
api.add_resource(BlockListApi, "/blocks", endpoint="blocks")
api.add_resource(BlockApi, "/blocks/<block_id>", endpoint="block")
