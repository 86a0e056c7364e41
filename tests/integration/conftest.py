"""Fixtures that start real nodes over real HTTP on a real store of every engine."""

import pytest

from tests.engines import ENGINES, fresh_store
from tests.integration.nginx import nginx_proxy  # noqa: F401 (a fixture, offered to every test here)
from tests.integration.node import Node, federation


@pytest.fixture(params=ENGINES)
def store(request, tmp_path):
    """The ``database`` section of a fresh store (see ``tests.engines``), on each engine in turn.

    A test about one engine only names it, saying why, rather than skipping
    the other: ``@pytest.mark.parametrize("store", ["sqlite"], indirect=True)``."""
    with fresh_store(request.param, tmp_path, request) as database:
        yield database


@pytest.fixture
def node(tmp_path, store):
    """One started node on a fresh store; stopped (SIGTERM) after the test."""
    started = Node(str(tmp_path), "node", store).start()
    yield started
    started.stop()


@pytest.fixture
def three_nodes(tmp_path, store):
    """A started federation of three node processes sharing one store."""
    nodes = federation(str(tmp_path), 3, store)
    for member in nodes:  # one at a time: the first start initialises the store
        member.start()
    yield nodes
    for member in nodes:
        member.stop()
