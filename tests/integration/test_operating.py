"""What an operator watches, on a real node (``bigchaindb start``) of each engine: its logs.

One node per engine for the module, with ``log.format`` json and two
gunicorn workers: every request gets one access-log line (method, path,
status, duration, request id), the request id is the client's when
plausible and a new one otherwise, and it is on the lines the request
causes.
"""

import json
import uuid

import pytest
import requests

from tests.engines import ENGINES, fresh_store
from tests.helpers import create_tx, wait_until
from tests.integration.node import Node
from bigchaindb.common.crypto import generate_key_pair


@pytest.fixture(scope="module", params=ENGINES)
def operated(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("operated")
    with fresh_store(request.param, directory, request) as database:
        node = Node(str(directory), "node", database, log={"format": "json"}).start()
        yield node
        node.stop()


def log_entries(node):
    """The node's log lines after its start-up banner, each read as JSON (which each must be)."""
    lines = node.log().split("(Ctrl-C stops the node)\n", 1)[1].splitlines()
    return [json.loads(line) for line in lines]


def entries_of(node, request_id, logger=None, wanted=1):
    """The log entries carrying ``request_id`` (of ``logger`` only, if given), once ``wanted`` are there."""
    def found():
        return [entry for entry in log_entries(node) if entry.get("request_id") == request_id
                and logger in (None, entry["logger"])]
    wait_until(lambda: len(found()) >= wanted, 10, f"no {wanted} log lines of request {request_id}")
    return found()


def test_a_request_gets_one_access_line_with_its_id_method_path_status_and_duration(operated):
    request_id = f"client-{uuid.uuid4()}"
    response = requests.get(f"{operated.api}/transactions/{'0' * 64}", headers={"X-Request-ID": request_id},
                            timeout=10)
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == request_id
    [entry] = entries_of(operated, request_id)
    assert entry["logger"] == "bigchaindb.access" and entry["level"] == "INFO"
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", f"/api/v1/transactions/{'0' * 64}", 404)
    assert 0 < entry["duration_ms"] < 10_000
    assert entry["message"].startswith(f"GET /api/v1/transactions/{'0' * 64} 404 ")


def test_without_a_plausible_request_id_the_node_makes_one(operated):
    for given in (None, "x" * 129, "a b", "caf\u00e9", "<script>"):
        headers = {} if given is None else {"X-Request-ID": given.encode("utf-8")}
        response = requests.get(f"{operated.url}/?q=1", headers=headers, timeout=10)
        assert response.status_code == 400  # an unknown parameter: still logged, still with an id
        made = response.headers["X-Request-ID"]
        assert made != given and len(made) == 32 and int(made, 16) >= 0
        [entry] = entries_of(operated, made)
        assert entry["path"] == "/?q=1" and entry["status"] == 400


def test_the_request_id_is_on_every_line_the_request_causes(operated):
    tx = create_tx(generate_key_pair())
    request_id = f"post-{uuid.uuid4()}"
    response = requests.post(f"{operated.api}/transactions", data=json.dumps(tx.to_dict()),
                             headers={"Content-Type": "application/json", "X-Request-ID": request_id}, timeout=10)
    assert response.status_code == 202
    entries = entries_of(operated, request_id, wanted=2)
    assert [entry["logger"] for entry in entries] == ["bigchaindb.core", "bigchaindb.access"]
    assert tx.id in entries[0]["message"]


def test_a_path_with_control_characters_stays_on_one_line(operated):
    response = requests.get(f"{operated.api}/transactions/%0a%22fake%22%0d", timeout=10)
    [entry] = entries_of(operated, response.headers["X-Request-ID"])
    assert entry["path"] == "/api/v1/transactions/%0A%22fake%22%0D"
