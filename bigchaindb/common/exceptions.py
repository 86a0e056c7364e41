"""Exceptions of the protocol layer.

Every way a transaction, block or vote can be wrong has its own class, and
every message is written for the client that sent the thing: the web layer
answers ``ValidationError`` (and its subclasses) with a 400 and the message.
"""


class BigchainDBError(Exception):
    """Base class of the node's own errors."""


class ValidationError(BigchainDBError):
    """The thing sent is not valid; the message says which rule it breaks."""


class InvalidJSON(ValidationError):
    """The bytes are not JSON."""


class SchemaValidationError(ValidationError):
    """The JSON does not have the shape the protocol defines."""


class InvalidHash(ValidationError):
    """An id is not the hash of what it names."""


class InvalidSignature(ValidationError):
    """A fulfillment or signature does not verify."""


class InvalidFulfillment(ValidationError):
    """A fulfillment URI does not parse, or does not match its condition."""


class OperationError(ValidationError):
    """The operation does not allow what the transaction does."""


class AmountError(ValidationError):
    """Amounts break the asset's rules or do not add up."""


class AssetIdMismatch(ValidationError):
    """Inputs or the transaction name different assets."""


class NotSupported(ValidationError):
    """A feature of the format this node refuses (updatable, refillable)."""


class InputDoesNotExist(ValidationError):
    """A transaction spends an output that is not on the ledger."""


class InputNotValid(ValidationError):
    """A transaction spends an output of a transaction not yet in a VALID block."""


class DoubleSpend(ValidationError):
    """An output is spent twice."""


class InvalidBlock(ValidationError):
    """A block breaks a rule (creator, id, signature, contents)."""


class InvalidVote(ValidationError):
    """A vote breaks a rule (voter, signature, shape)."""


class KeypairNotFound(BigchainDBError):
    """A signer was asked for a key it was not given."""


class ConfigurationError(BigchainDBError):
    """The node's configuration cannot be used."""


class DuplicateTransaction(ValidationError):
    """The transaction is already in a VALID or UNDECIDED block."""
