"""The embedded default storage engine: one SQLite file, zero set-up.

Several node processes (a federation on one machine) may share the file:
writes serialise on SQLite's write lock (``BEGIN IMMEDIATE``), change feeds
poll the tables by their ever-growing ``seq`` column.  ``connection`` holds the
engine class; the other modules are the SQL of one concern each.
"""
