"""Assets and metadata: search their data for words, or get one by its id."""

from flask import Blueprint, abort
from flask_restful import Resource

from bigchaindb.backend.base import SEARCHED_WORDS
from bigchaindb.common.words import words
from bigchaindb.web.inputs import PAGE_PARAMETERS, page, query, required, uuid4
from bigchaindb.web.views import JsonApi, bigchain, listed

blueprint = Blueprint("assets", __name__)


def search(kind):
    """A page of ``{"id", "data"}`` whose data holds the most of the words of ``?search=``."""
    args = query("search", *PAGE_PARAMETERS)
    searched = words(required(args, "search"))
    if not searched:
        abort(400, "query parameter search holds no word (letters or digits) to look for")
    if len(searched) > SEARCHED_WORDS:
        abort(400, f"query parameter search holds {len(searched)} words; give at most {SEARCHED_WORDS}")
    return listed(bigchain().search(kind, searched, *page(args)))


class AssetListApi(Resource):
    def get(self):
        return search("asset")


class MetadataListApi(Resource):
    def get(self):
        return search("metadata")


class AssetApi(Resource):
    def get(self, asset_id):
        """``{"id", "data"}`` of the asset, from its CREATE in a VALID or UNDECIDED block."""
        query()
        asset_id = uuid4(asset_id, "asset_id")
        found = bigchain().get_asset(asset_id)
        if found is None:
            abort(404, f"asset {asset_id} is not created in a VALID or UNDECIDED block")
        return found


class MetadataApi(Resource):
    def get(self, metadata_id):
        """``{"id", "data"}`` of the metadata, from the first transaction in a VALID or UNDECIDED block holding it."""
        query()
        metadata_id = uuid4(metadata_id, "metadata_id")
        found = bigchain().get_metadata(metadata_id)
        if found is None:
            abort(404, f"metadata {metadata_id} is in no transaction of a VALID or UNDECIDED block")
        return found


api = JsonApi(blueprint)
api.add_resource(AssetListApi, "/assets", endpoint="assets")
api.add_resource(AssetApi, "/assets/<asset_id>", endpoint="asset")
api.add_resource(MetadataListApi, "/metadata", endpoint="metadata_list")
api.add_resource(MetadataApi, "/metadata/<metadata_id>", endpoint="metadata")
