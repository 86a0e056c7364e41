"""The ``bigchaindb`` command line."""
