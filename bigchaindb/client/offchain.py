"""Preparing and signing transactions on the client, with no node involved.

``prepare_transaction`` builds an unsigned transaction dict the way
bigchaindb-driver 0.1.x users call it; ``fulfill_transaction`` signs one.
Both build on ``bigchaindb.common``, the node's own protocol code, so what
the client makes is what the node checks.
"""

from bigchaindb.common.exceptions import KeypairNotFound
from bigchaindb.common.transaction import (
    CREATE,
    TRANSFER,
    Asset,
    Condition,
    Fulfillment,
    Metadata,
    Transaction,
    TransactionLink,
)
from bigchaindb.client.exceptions import MissingPrivateKeyError


def prepare_transaction(*, operation=CREATE, owners_before=None, owners_after=None, asset=None,
                        metadata=None, inputs=None):
    """An unsigned transaction dict.

    CREATE: ``owners_before`` (a key or a list of keys) issue ``asset`` (a
    dict with ``data`` and optionally ``divisible``; or None) to
    ``owners_after`` (default: the owners_before).  TRANSFER: ``inputs``
    (one or a list of ``{"owners_before", "input": {"txid", "cid"}}``
    dicts, e.g. from ``inputs_of``) are spent to ``owners_after``;
    ``asset`` names the asset (``{"id": ...}`` or the whole asset).

    ``owners_after`` is a key (one output of amount 1), a list of keys (one
    output they must all sign for), or a list of ``(keys, amount)`` pairs
    (one output each, for divisible assets).  ``metadata`` is the data
    dict to attach, or None.
    """
    operation = operation.upper()
    recipients = _recipients(owners_after if owners_after is not None else owners_before)
    if operation == CREATE:
        if owners_before is None:
            raise ValueError("a CREATE needs owners_before: the keys of who issues the asset")
        asset = asset or {}
        made = Transaction.create(_keys(owners_before), recipients,
                                  asset=Asset(asset.get("data"), divisible=asset.get("divisible", False)),
                                  metadata=metadata)
    elif operation == TRANSFER:
        if not inputs:
            raise ValueError("a TRANSFER needs inputs: the outputs it spends")
        if not asset or "id" not in asset:
            raise ValueError("a TRANSFER needs asset={'id': <the asset's id>}")
        if owners_after is None:
            raise ValueError("a TRANSFER needs owners_after: who receives the asset")
        spent = [Fulfillment(i["owners_before"], TransactionLink.from_dict(i["input"]))
                 for i in (inputs if isinstance(inputs, list) else [inputs])]
        made = Transaction.transfer(spent, recipients, asset["id"], metadata=metadata)
    else:
        raise ValueError(f"operation must be CREATE or TRANSFER, not {operation!r}")
    return made.to_dict()


def inputs_of(transaction, cids=None):
    """The inputs spending outputs ``cids`` (all by default) of a transaction dict."""
    conditions = transaction["transaction"]["conditions"]
    cids = range(len(conditions)) if cids is None else cids
    return [{"owners_before": conditions[cid]["owners_after"], "input": {"txid": transaction["id"], "cid": cid},
             "fulfillment": None} for cid in cids]


def fulfill_transaction(transaction, private_keys):
    """``transaction`` (a dict, as ``prepare_transaction`` made it) signed with ``private_keys``."""
    keys = [private_keys] if isinstance(private_keys, str) else list(private_keys)
    body = transaction["transaction"]
    made = Transaction(body["operation"], Asset.from_dict(body["asset"]),
                       [Fulfillment.from_dict(f) for f in body["fulfillments"]],
                       [Condition.from_dict(c, cid) for cid, c in enumerate(body["conditions"])],
                       Metadata.from_dict(body["metadata"]), transaction["version"])
    try:
        return made.sign(keys).to_dict()
    except KeypairNotFound as exc:
        raise MissingPrivateKeyError(str(exc)) from None


def _keys(owners):
    return [owners] if isinstance(owners, str) else list(owners)


def _recipients(owners_after):
    if isinstance(owners_after, str):
        return [([owners_after], 1)]
    owners_after = list(owners_after)
    if owners_after and all(isinstance(o, (tuple, list)) and len(o) == 2 and isinstance(o[1], int)
                            for o in owners_after):
        return [(_keys(keys), amount) for keys, amount in owners_after]
    return [(owners_after, 1)]
