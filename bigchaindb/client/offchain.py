"""Preparing and signing transactions on the client, with no node involved.

``prepare_transaction`` builds an unsigned transaction dict the way
bigchaindb-driver 0.1.x users call it; ``fulfill_transaction`` signs one.
Both build on ``bigchaindb.common``, the node's own protocol code, so what
the client makes is what the node checks.

Outputs several parties hold are signed for by several parties, each with
its own key on its own machine: ``sign_partially`` gives one party's
signatures, which it hands to another (they reveal nothing but consent to
this very transaction), and ``fulfill_transaction`` puts them together.  An
m-of-n output (``owners_after`` entry ``(keys, amount, m)``, such as a 2-of-3
escrow) needs any m of them; ``fulfill_transaction`` learns the m from the
transactions spent (``spent=``).
"""

from bigchaindb.common.conditions import stated_threshold
from bigchaindb.common.crypto import public_key_of, sign
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
from bigchaindb.common.utils import flatten
from bigchaindb.client.exceptions import MissingPrivateKeyError


def prepare_transaction(*, operation=CREATE, owners_before=None, owners_after=None, asset=None,
                        metadata=None, inputs=None, metadata_id=None):
    """An unsigned transaction dict.

    CREATE: ``owners_before`` (a key or a list of keys) issue ``asset`` (a
    dict with ``data`` and optionally ``divisible`` and a uuid4 ``id``,
    fresh by default; or None) to
    ``owners_after`` (default: the owners_before).  TRANSFER: ``inputs``
    (one or a list of ``{"owners_before", "input": {"txid", "cid"}}``
    dicts, e.g. from ``inputs_of``) are spent to ``owners_after``;
    ``asset`` names the asset (``{"id": ...}`` or the whole asset).

    ``owners_after`` is a key (one output of amount 1), a list of keys (one
    output they must all sign for), or a list of ``(keys, amount)`` pairs
    (one output each, for divisible assets) or ``(keys, amount, m)`` triples
    for an output any m of the keys can spend.  ``metadata`` is the data
    dict to attach, or None; its id is a fresh uuid4 unless ``metadata_id``
    names one: transactions sharing a metadata id are found together by
    ``get(metadata_id=...)``.
    """
    operation = operation.upper()
    recipients = _recipients(owners_after if owners_after is not None else owners_before)
    if metadata is not None:
        metadata = Metadata(metadata, metadata_id)
    if operation == CREATE:
        if owners_before is None:
            raise ValueError("a CREATE needs owners_before: the keys of who issues the asset")
        asset = asset or {}
        made = Transaction.create(_keys(owners_before), recipients,
                                  asset=Asset(asset.get("data"), divisible=asset.get("divisible", False),
                                              asset_id=asset.get("id")),
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


def fulfill_transaction(transaction, private_keys=(), *, signatures=None, spent=None):
    """``transaction`` (a dict, as ``prepare_transaction`` made it) signed with ``private_keys``.

    ``signatures`` are other parties' (from ``sign_partially``, merged with
    ``merge_signatures``) for owners whose keys are not given.  ``spent`` are
    the transactions (dicts) whose outputs it spends; an m-of-n output among
    them needs only m signatures.  MissingPrivateKeyError when some are missing.
    """
    keys = [private_keys] if isinstance(private_keys, str) else list(private_keys)
    thresholds = _thresholds(transaction, spent or [])
    try:
        return _parsed(transaction).sign(keys, _by_index(signatures), thresholds).to_dict()
    except KeypairNotFound as exc:
        raise MissingPrivateKeyError(str(exc)) from None


def sign_partially(transaction, private_keys):
    """This party's signatures of ``transaction``: for each fulfillment, ``{public key:
    base58 signature}`` of the keys in ``private_keys`` among its owners_before.

    A list with one dict per fulfillment, JSON as it is: what one party hands
    another, who adds its own and calls ``fulfill_transaction``.
    """
    keys = {public_key_of(sk): sk for sk in ([private_keys] if isinstance(private_keys, str) else private_keys)}
    made = _parsed(transaction)
    return [{key: sign(keys[key], made.fulfillment_message(index))
             for key in flatten(ffill.owners_before) if key in keys}
            for index, ffill in enumerate(made.fulfillments)]


def merge_signatures(*signature_lists):
    """One list of signatures (see ``sign_partially``) holding those of every list given."""
    merged = [{} for _ in range(max((len(s) for s in signature_lists), default=0))]
    for signatures in signature_lists:
        for index, by_key in enumerate(signatures):
            merged[index].update(by_key)
    return merged


def _parsed(transaction):
    body = transaction["transaction"]
    return Transaction(body["operation"], Asset.from_dict(body["asset"]),
                       [Fulfillment.from_dict(f) for f in body["fulfillments"]],
                       [Condition.from_dict(c, cid) for cid, c in enumerate(body["conditions"])],
                       Metadata.from_dict(body["metadata"]), transaction["version"])


def _by_index(signatures):
    return {index: by_key for index, by_key in enumerate(signatures or [])}


def _thresholds(transaction, spent):
    """``{fulfillment index: m}`` for the fulfillments spending an m-of-n output of ``spent``."""
    outputs = {tx["id"]: tx["transaction"]["conditions"] for tx in spent}
    thresholds = {}
    for index, ffill in enumerate(transaction["transaction"]["fulfillments"]):
        link = ffill["input"]
        if link and link["txid"] in outputs and link["cid"] < len(outputs[link["txid"]]):
            condition = outputs[link["txid"]][link["cid"]]
            threshold = stated_threshold(condition["owners_after"], condition["condition"]["details"])
            if threshold is not None:
                thresholds[index] = threshold
    return thresholds


def _keys(owners):
    return [owners] if isinstance(owners, str) else list(owners)


def _recipients(owners_after):
    if isinstance(owners_after, str):
        return [([owners_after], 1)]
    owners_after = list(owners_after)
    if owners_after and all(isinstance(o, (tuple, list)) and len(o) in (2, 3) and isinstance(o[1], int)
                            for o in owners_after):
        return [(_keys(o[0]), *o[1:]) for o in owners_after]
    return [(owners_after, 1)]
