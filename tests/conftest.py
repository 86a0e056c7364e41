"""Fixtures shared across the suite (helpers they build on are in tests/helpers.py)."""

import flask
import flask.testing
import pytest
import requests.hooks
import requests.sessions

from bigchaindb.common.crypto import use_hash
from tests import openapi_check
from tests.engines import ENGINES, fresh_store
from tests.helpers import WebNode
from tests.rethinkdb_server import RethinkDBServer


def _sessions_check_responses():
    """Every requests Session made from now on (requests.get makes one per call)
    checks each node's response against the OpenAPI document (tests.openapi_check)."""
    hooks = requests.hooks.default_hooks()
    hooks["response"].append(openapi_check.check_requests_response)
    return hooks


class CheckedClient(flask.testing.FlaskClient):
    """Flask's test client, checking each response against the OpenAPI document."""

    def open(self, *args, **kwargs):
        return openapi_check.check_test_client_response(super().open(*args, **kwargs))


requests.sessions.default_hooks = _sessions_check_responses
flask.Flask.test_client_class = CheckedClient


def pytest_configure(config):
    config.addinivalue_line("markers", "undocumented_responses(reason): the test provokes responses the "
                                       "OpenAPI document does not describe, on purpose (say why)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fails a test that saw a node response off the OpenAPI document
    (``tests.openapi_check``), in its set-up or its body, in any thread."""
    result = yield
    mismatches = openapi_check.take_mismatches()
    if mismatches and item.get_closest_marker("undocumented_responses") is None:
        raise AssertionError("responses off the OpenAPI document:\n" + "\n".join(mismatches[:20]))
    return result


@pytest.fixture(scope="module", params=ENGINES)
def web_node(request, tmp_path_factory):
    """A node's HTTP server on a fresh store, one per test module and engine (see ``tests.helpers.WebNode``)."""
    directory = tmp_path_factory.mktemp("web_node")
    with fresh_store(request.param, directory, request) as database:
        node = WebNode(str(directory), database=database).start()
        yield node
        node.stop()


@pytest.fixture(scope="session")
def rethinkdb_server(tmp_path_factory):
    """A real RethinkDB server for the whole run (one per test process); skips
    when none can be started (see ``tests.rethinkdb_server``)."""
    server = RethinkDBServer(str(tmp_path_factory.mktemp("rethinkdb"))).start()
    yield server
    server.remove()


@pytest.fixture
def keccak():
    """This test process makes its ids with Keccak-256 (the ``hash`` setting
    ``keccak_256``), as a client of such a node does; the default comes back after."""
    previous = use_hash("keccak_256")
    yield
    use_hash(previous)
