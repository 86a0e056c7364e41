"""The 0.8 transaction: build, sign, serialise, parse and check it.

A transaction moves an asset from the holders of some outputs ("conditions")
to new holders, proving the right to do so with "fulfillments".  Everything
here is pure: checks that need the ledger (do the inputs exist, are they
spent) live in ``bigchaindb.models``.

Wire names are kept (fulfillment, condition, owners_before, owners_after)
because every 0.8 client speaks them.
"""

import uuid

import base58
import cryptoconditions as cc

from bigchaindb.common import crypto
from bigchaindb.common.conditions import (
    check_form,
    check_fulfillment,
    condition_for,
    condition_uri_for,
    describe,
    details_describe_owners,
    parse_fulfillment,
    stated_threshold,
)
from bigchaindb.common.exceptions import (
    AmountError,
    InvalidFulfillment,
    InvalidHash,
    InvalidSignature,
    KeypairNotFound,
    NotSupported,
    OperationError,
    SchemaValidationError,
    ValidationError,
)
from bigchaindb.common.schema import validate_transaction_schema
from bigchaindb.common.utils import holds_float, serialize
from bigchaindb.common.values import check_values

VERSION = 1
CREATE, TRANSFER, GENESIS = "CREATE", "TRANSFER", "GENESIS"

MAX_SIGNED_BYTES = 16 * 1024 * 1024
"""How many bytes the signatures of one transaction may cover in all.

Each fulfillment signs the whole transaction but the other fulfillments
(docs/protocol.md §2), so checking them hashes about inputs x size bytes: a
1 MiB transaction with 1,700 inputs would make a node hash 900 MB, for
seconds of CPU, before it could refuse it.  Every signature counts: a
fulfillment counts once per ``ED25519_URI_LENGTH`` characters of its URI
(that is what an Ed25519 signature takes, so a threshold fulfillment of
n signatures counts at least n times).  Counted from the sizes alone, before
anything is hashed; see ``signed_bytes``."""

ED25519_URI_LENGTH = 133
"""Characters of a ``cf:4`` (Ed25519) fulfillment URI."""

_ID_KEY_LENGTH = len('"id":"",') + 64
"""What the ``"id"`` key adds to the partial transaction a fulfillment signs."""


# -- the parts of a transaction --------------------------------------------

class TransactionLink:
    """Points at output ``cid`` of transaction ``txid``."""

    __slots__ = ("txid", "cid")

    def __init__(self, txid, cid):
        self.txid = txid
        self.cid = cid

    @classmethod
    def from_dict(cls, link):
        return None if link is None else cls(link["txid"], link["cid"])

    def to_dict(self):
        return {"txid": self.txid, "cid": self.cid}

    def __eq__(self, other):
        return isinstance(other, TransactionLink) and (self.txid, self.cid) == (other.txid, other.cid)

    def __hash__(self):
        return hash((self.txid, self.cid))

    def __repr__(self):
        return f"TransactionLink({self.txid!r}, {self.cid})"


class Fulfillment:
    """An input: who spends (``owners_before``), what (``tx_input``), and the proof.

    ``uri`` is the signed ``cf:`` URI exactly as received or made; it is None
    until the fulfillment is signed.
    """

    __slots__ = ("owners_before", "tx_input", "uri")

    def __init__(self, owners_before, tx_input=None, uri=None):
        self.owners_before = list(owners_before)
        self.tx_input = tx_input
        self.uri = uri

    @classmethod
    def from_dict(cls, ffill):
        return cls(ffill["owners_before"], TransactionLink.from_dict(ffill["input"]), ffill["fulfillment"])

    def to_dict(self, fid):
        return {
            "fid": fid,
            "owners_before": self.owners_before,
            "input": self.tx_input.to_dict() if self.tx_input else None,
            "fulfillment": self.uri,
        }

    def signed_uri(self, index):
        """``uri``, or InvalidSignature naming fulfillment ``index`` if it is unsigned."""
        if self.uri is None:
            raise InvalidSignature(f"fulfillment {index} is not signed")
        return self.uri

    def parse(self, index):
        """The crypto-condition object of ``uri``; InvalidFulfillment if it is not one."""
        return parse_fulfillment(self.signed_uri(index), f"fulfillment {index}")


class Condition:
    """An output: ``amount`` units held by ``owners_after`` under a condition.

    Several owners must all sign, unless ``threshold`` says how many of them
    must (an m-of-n output, such as a 2-of-3 escrow).
    """

    __slots__ = ("owners_after", "amount", "uri", "details")

    def __init__(self, owners_after, amount=1, uri=None, details=None, threshold=None):
        self.owners_after = list(owners_after)
        self.amount = amount
        if uri is None:
            uri, details = describe(self.owners_after, threshold)
        self.uri = uri
        self.details = details

    @classmethod
    def from_dict(cls, cond, index):
        """Parse an output, checking that its URI and details are those of its owners_after.

        Otherwise owners_after, which clients and the node's queries read as
        "who holds this", could name someone other than who can spend it.
        Several owners may be an m-of-n threshold whose details state the m.
        """
        owners, uri, details = cond["owners_after"], cond["condition"]["uri"], cond["condition"]["details"]
        threshold = stated_threshold(owners, details)
        expected = _owners_condition_uri(owners, f"condition {index}: owners_after", threshold)
        if uri != expected:
            raise InvalidFulfillment(
                f"condition {index}: uri {uri} is not the condition of its owners_after ({expected})")
        if not details_describe_owners(details, owners, threshold):
            raise InvalidFulfillment(f"condition {index}: details do not match the uri {uri}")
        return cls(owners, cond["amount"], uri, details)

    def to_dict(self, cid):
        return {
            "cid": cid,
            "owners_after": self.owners_after,
            "amount": self.amount,
            "condition": {"uri": self.uri, "details": self.details},
        }


class Asset:
    """What a transaction moves.  A TRANSFER names it by ``id`` only."""

    __slots__ = ("id", "data", "divisible", "updatable", "refillable")

    def __init__(self, data=None, divisible=False, updatable=False, refillable=False, asset_id=None):
        self.id = asset_id or str(uuid.uuid4())
        self.data = data
        self.divisible = divisible
        self.updatable = updatable
        self.refillable = refillable

    @classmethod
    def from_dict(cls, asset):
        return cls(asset.get("data"), asset.get("divisible", False), asset.get("updatable", False),
                   asset.get("refillable", False), asset["id"])

    def to_dict(self, operation=CREATE):
        if operation == TRANSFER:
            return {"id": self.id}
        return {"id": self.id, "data": self.data, "divisible": self.divisible,
                "updatable": self.updatable, "refillable": self.refillable}


class Metadata:
    """Free data attached to one transaction, with a client-chosen uuid4."""

    __slots__ = ("id", "data")

    def __init__(self, data, metadata_id=None):
        self.id = metadata_id or str(uuid.uuid4())
        self.data = data

    @classmethod
    def from_dict(cls, metadata):
        return None if metadata is None else cls(metadata["data"], metadata["id"])

    def to_dict(self):
        return {"id": self.id, "data": self.data}


# -- the transaction -------------------------------------------------------

class Transaction:
    """A CREATE, TRANSFER or GENESIS transaction."""

    def __init__(self, operation, asset, fulfillments, conditions, metadata=None, version=VERSION):
        self.operation = operation
        self.asset = asset
        self.fulfillments = fulfillments
        self.conditions = conditions
        self.metadata = metadata
        self.version = version
        self._id = None
        self._signed_body = None  # _body(), kept while fulfillments are checked
        self._floats = None  # known once parsed: check_values tells; else looked for in the data

    # builders

    @classmethod
    def create(cls, owners_before, recipients, asset=None, metadata=None, operation=CREATE):
        """A new asset issued by ``owners_before`` to ``recipients``.

        ``recipients`` is a list of ``(owners_after, amount)`` pairs, where
        owners_after is a list of public keys (nested lists nest thresholds).
        ``metadata`` is a dict (given a fresh uuid4), a Metadata, or None.
        """
        if not owners_before:
            raise ValueError("a CREATE needs at least one owner_before")
        if not recipients:
            raise ValueError("a CREATE needs at least one recipient")
        asset = asset or Asset()
        conditions = [Condition(*recipient[:2], threshold=_threshold_of(recipient)) for recipient in recipients]
        fulfillments = [Fulfillment(owners_before)]
        return cls(operation, asset, fulfillments, conditions, _as_metadata(metadata))

    @classmethod
    def transfer(cls, inputs, recipients, asset_id, metadata=None):
        """Spend ``inputs`` (Fulfillments, see ``to_inputs``) to ``recipients``
        (``(owners_after, amount)`` pairs, or ``(owners_after, amount, threshold)``
        for an m-of-n output)."""
        if not inputs:
            raise ValueError("a TRANSFER needs at least one input")
        conditions = [Condition(*recipient[:2], threshold=_threshold_of(recipient)) for recipient in recipients]
        fulfillments = [Fulfillment(f.owners_before, f.tx_input) for f in inputs]
        return cls(TRANSFER, Asset(asset_id=asset_id), fulfillments, conditions, _as_metadata(metadata))

    def to_inputs(self, cids=None):
        """Unsigned fulfillments that spend this transaction's outputs ``cids`` (all by default)."""
        cids = range(len(self.conditions)) if cids is None else cids
        return [Fulfillment(self.conditions[cid].owners_after, TransactionLink(self.id, cid)) for cid in cids]

    # signing

    def sign(self, private_keys, signatures=None, thresholds=None):
        """Sign every fulfillment with the keys of its owners_before; returns self.

        Owners whose private keys are not at hand may have signed already:
        ``signatures`` maps a fulfillment's index to ``{public key: base58
        signature}`` of its message (``fulfillment_message``), as other
        parties made them.  ``thresholds`` maps the index of a fulfillment
        that spends an m-of-n output to its m: any m of the owners then sign,
        and the others are written as conditions.  KeypairNotFound when a
        fulfillment lacks the signatures it needs.
        """
        keys = {crypto.public_key_of(sk): sk for sk in private_keys}
        signatures, thresholds = signatures or {}, thresholds or {}
        body = self._body()
        floats = self.holds_floats()
        for index, ffill in enumerate(self.fulfillments):
            threshold = thresholds.get(index)
            condition_uri_for(ffill.owners_before, threshold)  # NotSupported for owners the package cannot encode
            message = _fulfillment_message(body, index, floats=floats)
            signer = _Signer(message, keys, signatures.get(index, {}))
            ffill.uri = _signed_condition(ffill.owners_before, signer, threshold).serialize_uri()
        self._id = self._signed_body = None
        return self

    def fulfillment_message(self, index):
        """The bytes fulfillment ``index`` signs (docs/protocol.md §2): what a
        party signs to hand its signature to another (see ``sign``)."""
        return _fulfillment_message(self._body(), index, floats=self.holds_floats())

    # serialisation

    def _body(self):
        """The dict with every fulfillment nulled and no id: what the id hashes."""
        return {
            "version": self.version,
            "transaction": {
                "fulfillments": [dict(f.to_dict(fid), fulfillment=None) for fid, f in enumerate(self.fulfillments)],
                "conditions": [c.to_dict(cid) for cid, c in enumerate(self.conditions)],
                "operation": self.operation,
                "asset": self.asset.to_dict(self.operation),
                "metadata": self.metadata.to_dict() if self.metadata else None,
            },
        }

    def holds_floats(self):
        """True when the asset's or the metadata's data holds a float (nothing else may)."""
        if self._floats is not None:
            return self._floats
        return holds_float(self.asset.data) or (self.metadata is not None and holds_float(self.metadata.data))

    @property
    def id(self):
        if self._id is None:
            self._id = hash_body(self._body(), self.holds_floats())
        return self._id

    def to_dict(self):
        body = self._body()
        for fid, ffill in enumerate(self.fulfillments):
            body["transaction"]["fulfillments"][fid]["fulfillment"] = ffill.uri
        body["id"] = self.id
        return body

    @classmethod
    def from_dict(cls, tx):
        """Parse a transaction dict, checking its shape and its id.

        Raises a ValidationError subclass naming the problem.  Signatures are
        checked by ``validate_fulfillments``, which needs the spent outputs.
        """
        floats = check_values(tx)
        validate_transaction_schema(tx)
        body = tx["transaction"]
        _check_indexes(body)
        conditions = [Condition.from_dict(cond, cid) for cid, cond in enumerate(body["conditions"])]
        fulfillments = [Fulfillment.from_dict(ffill) for ffill in body["fulfillments"]]
        for fid, ffill in enumerate(fulfillments):
            _owners_condition_uri(ffill.owners_before, f"fulfillment {fid}: owners_before")
        made = cls(body["operation"], Asset.from_dict(body["asset"]), fulfillments, conditions,
                   Metadata.from_dict(body["metadata"]), tx["version"])
        made._floats = floats
        nulled = _nulled_body(tx)
        canonical = _canonical(nulled, floats)
        expected_id = crypto.hash_data(canonical)
        if tx["id"] != expected_id:
            raise InvalidHash(f"transaction id {tx['id']} does not match its contents (expected {expected_id})")
        made._id, made._signed_body = expected_id, nulled  # as posted, so what _body() would build
        _check_signed_bytes(len(canonical), body["fulfillments"])
        made._check_asset_rules()
        return made

    # checks that need no ledger

    def _check_asset_rules(self):
        if self.operation == TRANSFER:
            for index, ffill in enumerate(self.fulfillments):
                if ffill.tx_input is None:
                    raise OperationError(f"fulfillment {index} of a TRANSFER has no input")
            return
        for index, ffill in enumerate(self.fulfillments):
            if ffill.tx_input is not None:
                raise OperationError(f"fulfillment {index} of a {self.operation} must have input null")
        if self.asset.updatable:
            raise NotSupported("updatable assets are not supported")
        if self.asset.refillable:
            raise NotSupported("refillable assets are not supported")
        total = sum(c.amount for c in self.conditions)
        if not self.asset.divisible and total != 1:
            raise AmountError(f"a non-divisible asset must have a total amount of 1, not {total}")
        if self.asset.divisible and total < 2:
            raise AmountError(f"a divisible asset must have a total amount of at least 2, not {total}")

    def input_condition_uris(self):
        """For a CREATE/GENESIS: the condition URI each fulfillment must meet."""
        return [condition_uri_for(f.owners_before) for f in self.fulfillments]

    def validate_fulfillments(self, input_condition_uris):
        """Check every fulfillment against the condition it spends.

        ``input_condition_uris[i]`` is the URI of the condition fulfillment i
        must meet (the spent output's, or for a CREATE the owners_before's).
        Raises InvalidSignature or InvalidFulfillment naming the fulfillment.
        """
        for index, (_, expected_uri) in enumerate(zip(self.fulfillments, input_condition_uris, strict=True)):
            self.validate_fulfillment(index, expected_uri)

    def validate_fulfillment(self, index, expected_uri):
        """Check fulfillment ``index`` against the condition URI ``expected_uri`` it must meet.

        The transaction's body is built once, at the first call, and kept for
        the next ones: a caller may check fulfillments one by one as it learns
        their conditions, at no more cost than checking them all at once.
        """
        if self._signed_body is None:
            self._signed_body = self._body()
        message = _fulfillment_message(self._signed_body, index, self.id, self.holds_floats())
        check_fulfillment(self.fulfillments[index].signed_uri(index), expected_uri, message, f"fulfillment {index}")

    def check_fulfillment_forms(self):
        """Refuse an unsigned or malformed fulfillment before anything is looked up (see ``check_form``)."""
        for index, ffill in enumerate(self.fulfillments):
            check_form(ffill.signed_uri(index), f"fulfillment {index}")

    def spent_outputs(self):
        """The TransactionLinks this transaction spends (empty for a CREATE)."""
        return [f.tx_input for f in self.fulfillments if f.tx_input is not None]

    def __eq__(self, other):
        return isinstance(other, Transaction) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"<Transaction {self.operation} {self.id}>"


# -- helpers ---------------------------------------------------------------

def hash_body(body, floats=None):
    """The id of a transaction dict that has no id and nulled fulfillments
    (``floats``: whether it holds a float, if known)."""
    return crypto.hash_data(serialize(body, floats))


def _nulled_body(tx):
    """``tx`` without its id and with every fulfillment nulled (shallow copies)."""
    body = tx["transaction"]
    return {
        "version": tx["version"],
        "transaction": dict(body, fulfillments=[dict(f, fulfillment=None) for f in body["fulfillments"]]),
    }


def _fulfillment_message(body, index, tx_id=None, floats=None):
    """The bytes fulfillment ``index`` signs (see docs/protocol.md §2).

    ``body`` is the nulled transaction without id, ``floats`` whether it
    holds a float.  With one fulfillment the partial transaction is the
    transaction itself, so its id is reused.
    """
    transaction = body["transaction"]
    if len(transaction["fulfillments"]) == 1:
        partial = dict(body)
        partial["id"] = tx_id or hash_body(body, floats)
        return serialize(partial, floats)
    only = dict(transaction["fulfillments"][index], fid=0)
    partial = {"version": body["version"], "transaction": dict(transaction, fulfillments=[only])}
    partial["id"] = hash_body(partial, floats)
    return serialize(partial, floats)


def _as_metadata(metadata):
    if metadata is None or isinstance(metadata, Metadata):
        return metadata
    return Metadata(metadata)


def _threshold_of(recipient):
    return recipient[2] if len(recipient) > 2 else None


class _Signer:
    """The signatures of one message: made with the private keys at hand, or given."""

    def __init__(self, message, keys, signatures):
        self.message, self.keys, self.signatures = message, keys, signatures

    def signature(self, public_key):
        """The signature bytes of ``public_key``, or None when it can be neither made nor found."""
        if public_key in self.keys:
            return crypto.signing_key(self.keys[public_key]).sign(self.message).signature  # key decoded once
        given = self.signatures.get(public_key)
        if given is None:
            return None
        if not crypto.verify(public_key, given, self.message):
            raise InvalidSignature(f"the signature given for {public_key} is not its signature of this transaction")
        return base58.b58decode(given)


def _signed_condition(owners, signer, threshold=None):
    """The fulfillment of the condition of ``owners`` (at ``threshold``, for the outer list)
    signed by ``signer``; for an m-of-n threshold, owners who cannot sign are written as
    conditions.  KeypairNotFound when a key that must sign cannot."""
    if isinstance(owners, str) or len(owners) == 1:
        public_key = owners if isinstance(owners, str) else owners[0]
        if not isinstance(public_key, str):
            return _signed_condition(public_key, signer)
        leaf = cc.Ed25519Fulfillment(public_key=public_key)
        signature = signer.signature(public_key)
        if signature is None:
            raise KeypairNotFound(f"no private key given for {public_key}")
        leaf.signature = signature
        return leaf
    needed = len(owners) if threshold is None else threshold
    made, signed, missing = cc.ThresholdSha256Fulfillment(threshold=needed), 0, []
    for owner in owners:
        try:
            made.add_subfulfillment(_signed_condition(owner, signer))
            signed += 1
        except KeypairNotFound as exc:
            if threshold is None:
                raise
            missing.append(str(exc))
            made.add_subcondition(condition_for(owner).condition)
    if signed < needed:
        raise KeypairNotFound(f"{needed} of {len(owners)} owners must sign and only {signed} can: "
                              + "; ".join(missing))
    return made


def _canonical(body, floats):
    """The canonical JSON of ``body`` (holding floats or not).  Raises SchemaValidationError
    if it has none.

    orjson refuses strings with lone surrogates and non-string keys (TypeError);
    neither comes out of a JSON parser that follows the standard, but a dict
    can come from anywhere.
    """
    try:
        return serialize(body, floats)
    except TypeError as exc:
        raise SchemaValidationError(f"the transaction cannot be written as canonical JSON: {exc}") from None


def signed_bytes(canonical_length, fulfillments):
    """What the signatures of a transaction cover in all, counted from sizes alone.

    ``canonical_length`` is the length of the canonical JSON of the transaction
    without id and with every fulfillment nulled; ``fulfillments`` are its
    fulfillment dicts.  Fulfillment i signs that JSON with the other
    fulfillments (and their commas) left out, its own ``fid`` set to 0, and
    the ``"id"`` key added: exactly the length of its message (docs/protocol.md
    §2), times its weight (see ``MAX_SIGNED_BYTES``).
    """
    if len(fulfillments) == 1:  # most transactions: the message is the whole of it, with its id
        return (canonical_length + _ID_KEY_LENGTH) * _signatures(fulfillments[0])
    nulled = [len(serialize(dict(ffill, fulfillment=None))) for ffill in fulfillments]
    shared = canonical_length - sum(nulled) - (len(nulled) - 1) + _ID_KEY_LENGTH
    total = 0
    for index, (ffill, length) in enumerate(zip(fulfillments, nulled)):
        message = shared + length - len(str(index)) + 1  # its fid written as 0
        total += message * _signatures(ffill)
    return total


def _signatures(ffill):
    """How many signatures a fulfillment dict counts for (see ``MAX_SIGNED_BYTES``)."""
    return max(1, len(ffill["fulfillment"] or "") // ED25519_URI_LENGTH)


def _check_signed_bytes(canonical_length, fulfillments):
    total = signed_bytes(canonical_length, fulfillments)
    if total > MAX_SIGNED_BYTES:
        raise NotSupported(
            f"the transaction is too costly to verify: its {len(fulfillments)} fulfillments would have "
            f"{total:,} bytes checked (each signs the transaction without the other fulfillments, once per "
            f"signature), and at most {MAX_SIGNED_BYTES:,} are: use fewer inputs or make the transaction smaller")


def _owners_condition_uri(owners, where, threshold=None):
    """condition_uri_for(owners, threshold), with ``where`` prefixed to any error."""
    try:
        return condition_uri_for(owners, threshold)
    except ValidationError as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _check_indexes(body):
    for fid, ffill in enumerate(body["fulfillments"]):
        if ffill["fid"] != fid:
            raise SchemaValidationError(f"transaction.fulfillments[{fid}].fid must be {fid}")
    for cid, cond in enumerate(body["conditions"]):
        if cond["cid"] != cid:
            raise SchemaValidationError(f"transaction.conditions[{cid}].cid must be {cid}")

