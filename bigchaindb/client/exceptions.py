"""What the client raises: one class per kind of failure, each carrying the node's words.

``BigchaindbException`` is the root (the name bigchaindb-driver users catch).
A node's refusal (4xx) is a ``TransportError`` subclass with the HTTP status,
the node's JSON ``message`` and the URL asked; a node that could not be
reached or kept failing (connection errors, timeouts, 5xx) after every retry
is a ``ConnectionError`` naming the nodes tried.
"""


class BigchaindbException(Exception):
    """Every error of the client."""


class TransportError(BigchaindbException):
    """A node answered with an error status."""

    def __init__(self, status_code, message, url, body=None):
        super().__init__(f"{status_code} from {url}: {message}")
        self.status_code = status_code
        self.message = message
        self.url = url
        self.body = body


class BadRequest(TransportError):
    """400: the node refused what was sent (the message names the rule)."""


class NotFoundError(TransportError):
    """404: no such transaction, block or route."""


class PayloadTooLarge(TransportError):
    """413: the body is larger than the node accepts."""


class ServerError(TransportError):
    """5xx: the node failed (retried on another node before it is raised)."""


class ConnectionError(BigchaindbException):  # noqa: A001 (the driver's name)
    """No node answered: every attempt failed to connect, timed out or got a 5xx."""

    def __init__(self, message, errors=()):
        super().__init__(message)
        self.errors = list(errors)


class MissingPrivateKeyError(BigchaindbException):
    """``fulfill`` was not given the private key of an owner who must sign."""


ERRORS_BY_STATUS = {400: BadRequest, 404: NotFoundError, 413: PayloadTooLarge}


def error_for(status_code, message, url, body=None):
    """The exception for an error answer with ``status_code``."""
    if status_code >= 500:
        cls = ServerError
    else:
        cls = ERRORS_BY_STATUS.get(status_code, TransportError)
    return cls(status_code, message, url, body)
