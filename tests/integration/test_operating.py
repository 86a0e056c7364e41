"""What an operator watches, on a real node (``bigchaindb start``) of each engine: logs, health, metrics.

One node per engine for the module, with ``log.format`` json, two gunicorn
workers, and a ``backlog_reassign_delay`` of 4 s, so that a stage is
behind (for ``GET /health``) after 2 s:

- every request gets one access-log line (method, path, status, duration,
  request id), the request id is the client's when plausible and a new one
  otherwise, and it is on the lines the request causes;
- /health answers 200 while the store answers and every stage keeps up,
  503 naming the stage that died (until the supervisor has it back) or is
  stuck: a pipeline's, or the streams server;
- /metrics sums what every process counted: requests served by either
  worker, blocks, votes and elections of the stages, restarts by the
  supervisor, and the backlog as the stale stage counts it;
- at most ``streams.max_subscribers`` (3 here) clients follow the event
  streams at once: one more is refused with a 503 until one leaves, while
  the others keep receiving.
"""

import contextlib
import glob
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from bigchaindb.common.crypto import generate_key_pair
from tests.engines import ENGINES, fresh_store
from tests.helpers import create_tx, node_environment, wait_until
from tests.integration.node import Node
from tests.test_compose import dockerfile_instructions

REASSIGN_DELAY = 4  # s: a stage is behind after half of it
LIMIT = 2
SUBSCRIBERS = 3  # streams.max_subscribers


@pytest.fixture(scope="module", params=ENGINES)
def operated(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("operated")
    with fresh_store(request.param, directory, request) as database:
        node = Node(str(directory), "node", database, log={"format": "json"},
                    backlog_reassign_delay=REASSIGN_DELAY, streams={"max_subscribers": SUBSCRIBERS}).start()
        node.database = database
        yield node
        node.stop()


def log_entries(node):
    """The node's log lines after the start command's banner, each read as JSON (which each must be)."""
    lines = node.log().splitlines()
    first = next(index for index, line in enumerate(lines) if line.startswith("{"))
    entries = []
    for line in lines[first:]:
        try:
            entries.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"a log line that is not JSON: {line!r}") from None
    return entries


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


# -- health ------------------------------------------------------------------

def health(node):
    response = requests.get(f"{node.url}/health", timeout=10)
    assert response.status_code in (200, 503) and set(response.json()) == {"status", "message"}
    assert response.json()["status"] == response.status_code
    return response.status_code, response.json()["message"]


def healthy(node):
    return health(node)[0] == 200


def run_directory(node):
    [directory] = glob.glob(os.path.join(tempfile.gettempdir(), f"bigchaindb-node-{node.process.pid}-*"))
    return directory


def stage_pid(node, stage):
    """The pid of ``stage``, from its heartbeat in the node's run directory."""
    with open(os.path.join(run_directory(node), "stages", f"{stage}.json"), encoding="utf-8") as handle:
        return json.load(handle)["pid"]


def image_healthcheck(node):
    """The exit status of the Dockerfile's HEALTHCHECK command, run against ``node``."""
    command = json.loads(dict(dockerfile_instructions())["HEALTHCHECK"].split(" CMD ", 1)[1])
    environment = node_environment(BIGCHAINDB_SERVER_BIND=f"0.0.0.0:{node.port}")
    return subprocess.run(command, env=environment, capture_output=True, timeout=10).returncode


def test_health_is_200_while_the_store_answers_and_every_stage_keeps_up(operated):
    wait_until(lambda: healthy(operated), 10, f"never healthy: {health(operated)}")
    assert health(operated) == (200, "the store answers and every stage keeps up")
    assert image_healthcheck(operated) == 0


@pytest.mark.parametrize("operated", ["sqlite"], indirect=True)  # stages live alike on every engine
@pytest.mark.parametrize("stage", ["vote", "streams"])
def test_a_dead_stage_is_a_503_naming_it_until_the_supervisor_has_it_back(operated, stage):
    wait_until(lambda: healthy(operated), 10, f"never healthy: {health(operated)}")
    restarts = metric(operated, "bigchaindb_stage_restarts_total", stage=stage)
    os.kill(stage_pid(operated, stage), signal.SIGKILL)
    wait_until(lambda: not healthy(operated), 5, f"still healthy with its {stage} stage killed")
    status, message = health(operated)
    assert status == 503 and re.fullmatch(rf"stage {stage} (is down: it died \(exit code -9\) after [0-9.]+ s; "
                                          r"restarting it in 1 s|\(pid \d+\) is gone)", message), message
    wait_until(lambda: healthy(operated), 10, f"not healthy again: {health(operated)}")
    assert metric(operated, "bigchaindb_stage_restarts_total", stage=stage) == restarts + 1


@pytest.mark.parametrize("operated", ["sqlite"], indirect=True)
@pytest.mark.parametrize("stage", ["election", "streams"])  # the streams: their event loop no longer turns
def test_a_stuck_stage_is_a_503_naming_it(operated, stage):
    wait_until(lambda: healthy(operated), 10, f"never healthy: {health(operated)}")
    pid = stage_pid(operated, stage)
    os.kill(pid, signal.SIGSTOP)
    try:
        wait_until(lambda: not healthy(operated), LIMIT + 5, f"still healthy with its {stage} stage stopped")
        status, message = health(operated)
        assert re.fullmatch(rf"stage {stage} has not come around for [0-9.]+ s \(limit {LIMIT} s\): it is stuck",
                            message), message
        assert image_healthcheck(operated) != 0
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_until(lambda: healthy(operated), 10, f"not healthy again: {health(operated)}")


# -- metrics -----------------------------------------------------------------

def scrape(node):
    response = requests.get(f"{node.url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return response.text


def metric(node, name, **labels):
    """The value of the sample ``name{labels}`` (0 when absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    for line in scrape(node).splitlines():
        sample, _, value = line.rpartition(" ")
        if sample == (f"{name}{{{wanted}}}" if labels else name):
            return float(value)
    return 0.0


def test_requests_served_by_either_worker_all_count(operated):
    route = "/api/v1/transactions/<tx_id>"
    before = metric(operated, "bigchaindb_http_requests_total", code="404", method="GET", route=route)
    seen_before = metric(operated, "bigchaindb_http_request_duration_seconds_count", method="GET", route=route)
    marker = f"count-{uuid.uuid4()}"

    def get(index):
        # a new connection each: gunicorn's workers take them in turn as they are free
        with requests.Session() as session:
            return session.get(f"{operated.api}/transactions/{index:064x}", headers={"X-Request-ID": marker},
                               timeout=10).status_code

    # rounds of concurrent requests until both workers have served some (a loaded
    # machine may let one worker take a whole round)
    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            assert set(pool.map(get, range(sent, sent + 30))) == {404}
            sent += 30
            entries = entries_of(operated, marker, wanted=sent)
            if len({entry["pid"] for entry in entries}) == 2:
                break
        else:
            raise AssertionError(f"one worker served all {sent} requests")
    after = metric(operated, "bigchaindb_http_requests_total", code="404", method="GET", route=route)
    assert after - before == sent
    seen = metric(operated, "bigchaindb_http_request_duration_seconds_count", method="GET", route=route)
    assert seen - seen_before == sent


def test_a_count_file_a_killed_process_left_empty_spoils_no_scrape(operated):
    # a process makes its count file empty and sizes it a moment later: killed
    # in that moment, it leaves an empty file for good
    left = os.path.join(run_directory(operated), "metrics", "counter_999999.db")
    open(left, "wb").close()
    try:
        assert metric(operated, "bigchaindb_http_requests_total", code="200", method="GET", route="/") > 0
    finally:
        os.remove(left)


def test_a_made_up_method_or_an_unrouted_path_does_not_make_up_labels(operated):
    assert requests.request("BREW", f"{operated.url}/", timeout=10).status_code == 405
    assert requests.get(f"{operated.url}/{uuid.uuid4()}", timeout=10).status_code == 404
    text = scrape(operated)
    assert 'code="405",method="other",route="none"' in text and 'code="404",method="GET",route="none"' in text
    assert "BREW" not in text


def test_blocks_votes_and_elections_of_the_stages_are_counted(operated):
    before = {name: metric(operated, name) for name in ("bigchaindb_blocks_written_total",
                                                        "bigchaindb_block_transactions_written_total",
                                                        "bigchaindb_election_lag_seconds_count")}
    valid_votes = metric(operated, "bigchaindb_votes_written_total", verdict="valid")
    tx = create_tx(generate_key_pair())
    assert operated.post(tx.to_dict()).status_code == 202
    operated.wait_for_status(tx.id, "valid")

    def counted():
        return all(metric(operated, name) > value for name, value in before.items())

    wait_until(counted, 10, "the block, its transaction or its election was not counted")
    assert metric(operated, "bigchaindb_votes_written_total", verdict="valid") > valid_votes
    assert metric(operated, "bigchaindb_election_lag_seconds_sum") < 3600


def test_the_backlog_size_is_what_the_stale_stage_last_counted(operated):
    from bigchaindb import backend
    connection = backend.connect(operated.database)
    try:
        # entries for a member that is not running: no block stage takes them (until they are stale)
        absent = generate_key_pair().public_key
        entries = [create_tx(generate_key_pair()).to_dict() for _ in range(3)]
        for tx in entries:
            connection.write_backlog(tx, absent, time.time())
        wait_until(lambda: metric(operated, "bigchaindb_backlog_transactions") == 3, REASSIGN_DELAY,
                   "the backlog gauge never said 3")
        connection.delete_backlog([tx["id"] for tx in entries])
        wait_until(lambda: metric(operated, "bigchaindb_backlog_transactions") == 0, REASSIGN_DELAY,
                   "the backlog gauge never went back to 0")
    finally:
        connection.close()


# -- stream subscribers ------------------------------------------------------

def server_sent(url):
    """A server-sent events request to ``url`` (a ws:// one), left open."""
    return requests.get(url.replace("ws://", "http://", 1), headers={"Accept": "text/event-stream"}, stream=True,
                        timeout=30)


def assert_full(status, headers, body):
    assert (status, headers["Retry-After"]) == (503, "10")
    assert json.loads(body) == {"status": 503, "message": f"this node serves at most {SUBSCRIBERS} stream "
                                "subscribers at once (streams.max_subscribers), and has that many: try again later"}


@pytest.mark.parametrize("operated", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
def test_stream_subscribers_past_the_limit_are_refused_until_one_leaves(operated):
    refusals = metric(operated, "bigchaindb_stream_refusals_total")
    with contextlib.ExitStack() as stack:
        # the limit, WebSocket and server-sent events together
        transactions = stack.enter_context(connect(f"{operated.streams}/valid_transactions"))
        blocks = stack.enter_context(connect(f"{operated.streams}/blocks"))
        events = stack.enter_context(server_sent(f"{operated.streams}/valid_transactions"))
        assert events.status_code == 200
        assert metric(operated, "bigchaindb_stream_subscribers") == SUBSCRIBERS
        with pytest.raises(InvalidStatus) as refused:  # the handshake fails
            connect(f"{operated.streams}/votes")
        assert_full(refused.value.response.status_code, refused.value.response.headers, refused.value.response.body)
        with server_sent(f"{operated.streams}/votes") as over:
            assert_full(over.status_code, over.headers, over.content)
        assert metric(operated, "bigchaindb_stream_refusals_total") == refusals + 2
        # the others keep receiving
        tx = create_tx(generate_key_pair())
        assert operated.post(tx.to_dict()).status_code == 202
        wait_until(lambda: json.loads(transactions.recv(timeout=10))["transaction_id"] == tx.id, 10, "no event")
        wait_until(lambda: tx.id in json.loads(blocks.recv(timeout=10))["transactions"], 10, "no block")
        lines = events.iter_lines(decode_unicode=True)
        wait_until(lambda: tx.id in next(lines), 10, "no server-sent event")
        # one leaves: another comes in
        blocks.close()

        def admitted():
            with server_sent(f"{operated.streams}/votes") as response:
                return response.status_code == 200
        wait_until(admitted, 5, "still full with one subscriber gone")
