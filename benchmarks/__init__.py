"""Benchmarks of the node: ``run.py`` (load, follow, report) and ``validate_tx.py``.

A package so the harness's modules import each other and the test helpers
(``tests.integration.node``) by their full names.
"""
