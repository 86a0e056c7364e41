"""What the backend suite expects of each engine beyond the storage interface
(the engines themselves and their stores are chosen in ``tests.engines``)."""

ATOMIC_BACKLOG_ENGINES = {"sqlite"}
"""Engines whose write_backlog checks and writes as one atomic step; the
others check then write, as ``base.Connection.write_backlog`` allows."""
