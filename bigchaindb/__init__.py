"""A blockchain database node speaking the BigchainDB 0.8 protocol."""

__version__ = "0.8.3"
