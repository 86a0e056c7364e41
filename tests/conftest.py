"""Fixtures shared across the suite (helpers they build on are in tests/helpers.py)."""

import pytest

from tests.helpers import WebNode


@pytest.fixture(scope="module")
def web_node(tmp_path_factory):
    """A node's HTTP server on a fresh store, one per test module (see ``tests.helpers.WebNode``)."""
    node = WebNode(str(tmp_path_factory.mktemp("web_node"))).start()
    yield node
    node.stop()
