"""Votes: those cast on a block, optionally by one voter."""

from flask import Blueprint
from flask_restful import Resource

from bigchaindb.web.inputs import PAGE_PARAMETERS, hex_id, page, public_key, query, required
from bigchaindb.web.views import JsonApi, bigchain, listed

blueprint = Blueprint("votes", __name__)


class VoteListApi(Resource):
    def get(self):
        args = query("block_id", "voter", *PAGE_PARAMETERS)
        block_id = hex_id(required(args, "block_id"), "block_id")
        return listed(bigchain().get_votes_page(block_id, public_key(args.get("voter"), "voter"), *page(args)))


api = JsonApi(blueprint)
api.add_resource(VoteListApi, "/votes", endpoint="votes")
