"""Fixtures that start real nodes over real HTTP on the real embedded store."""

import os

import pytest

from tests.integration.nginx import nginx_proxy  # noqa: F401 (a fixture, offered to every test here)
from tests.integration.node import Node, federation


@pytest.fixture
def node(tmp_path):
    """One started node on a fresh store; stopped (SIGTERM) after the test."""
    started = Node(str(tmp_path), "node", os.path.join(str(tmp_path), "node.sqlite")).start()
    yield started
    started.stop()


@pytest.fixture
def three_nodes(tmp_path):
    """A started federation of three node processes sharing one store file."""
    nodes = federation(str(tmp_path), 3)
    for member in nodes:  # one at a time: the first start initialises the store
        member.start()
    yield nodes
    for member in nodes:
        member.stop()
