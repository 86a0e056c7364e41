"""The fields of a transaction (docs/protocol.md §2) the engine indexes."""

from bigchaindb.common.utils import flatten


def spent_inputs(tx):
    """``(txid, cid)`` of every output ``tx`` spends."""
    return [(ffill["input"]["txid"], ffill["input"]["cid"])
            for ffill in tx["transaction"]["fulfillments"] if ffill.get("input")]


def owners(owners_after):
    """Every key in a condition's ``owners_after``, once; nested lists
    (nested thresholds) included."""
    return set(flatten(owners_after))


def conditions(tx):
    """``(cid, condition uri, amount, asset id)`` of every output of ``tx``."""
    body = tx["transaction"]
    asset_id = body["asset"]["id"]
    return [(condition["cid"], condition["condition"]["uri"], condition["amount"], asset_id)
            for condition in body["conditions"]]
