"""The app's error handlers, through Flask's test client: what no client request should reach."""

import pytest

from bigchaindb.web.app import create_app
from tests.engines import ENGINES, fresh_store
from tests.helpers import node_config


@pytest.fixture(params=ENGINES)
def app(request, tmp_path):
    # the store is never initialised: every query on it fails
    with fresh_store(request.param, tmp_path, request) as database:
        yield create_app(node_config(str(tmp_path), database=database))


def message_of(response, status):
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"status", "message"} and body["status"] == status
    return body["message"]


def test_a_store_that_fails_is_a_503(app):
    assert "try again" in message_of(app.test_client().get(f"/api/v1/transactions/{'0' * 64}"), 503)


@pytest.mark.undocumented_responses("a route that is not the node's, added to raise: a 500 is never documented")
def test_a_bug_is_a_500_without_the_details(app, caplog):
    def broken():
        raise RuntimeError("secret internals")

    app.add_url_rule("/broken", view_func=broken)
    assert "secret" not in message_of(app.test_client().get("/broken"), 500)
    assert "secret internals" in caplog.text  # the traceback is in the log
