"""Errors of the storage layer."""

from bigchaindb.common.exceptions import BigchainDBError


class DatabaseError(BigchainDBError):
    """The store failed or could not be reached."""


class DatabaseAlreadyExists(DatabaseError):
    """``init`` found the tables already there."""


class DatabaseDoesNotExist(DatabaseError):
    """The tables are not there (``init`` has not run, or ``drop`` did)."""


class DatabaseDamaged(DatabaseError):
    """The store fails its engine's check of its own structure: a node must not start on it."""


class InvalidPosition(BigchainDBError, ValueError):
    """A position to read a page after (see the ``*_page`` methods) that is not
    one the engine gives: the client's cursor was made up or came from another list."""
