"""Votes: those cast on a block, optionally by one voter."""

from flask import Blueprint
from flask_restful import Resource

from bigchaindb.web.inputs import hex_id, public_key, query, required
from bigchaindb.web.views import JsonApi, bigchain

blueprint = Blueprint("votes", __name__)


class VoteListApi(Resource):
    def get(self):
        args = query("block_id", "voter")
        block_id = hex_id(required(args, "block_id"), "block_id")
        return bigchain().get_votes(block_id, public_key(args.get("voter"), "voter"))


api = JsonApi(blueprint)
api.add_resource(VoteListApi, "/votes", endpoint="votes")
