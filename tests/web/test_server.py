"""The gunicorn server and the per-process node: settings, graceful stop, no state across a fork."""

import itertools
import json
import multiprocessing
import os
import signal
import socket
import time
from concurrent.futures import ProcessPoolExecutor

import pytest

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.web.app import PerProcess
from bigchaindb.web.server import WORKER_CLASS, GunicornLog, create_server, default_workers
from tests.engines import ENGINES, fresh_store
from tests.helpers import WebNode, create_tx, node_config


def test_the_server_settings_come_from_the_config(tmp_path):
    config = node_config(str(tmp_path), server={"workers": 3})
    settings = create_server(config).cfg
    assert settings.bind == [config["server"]["bind"]]
    assert settings.workers == 3
    assert settings.worker_class_str == WORKER_CLASS
    # the access log is the node's own; gunicorn's messages go through the node's logging
    assert settings.accesslog is None and settings.errorlog is None and settings.logger_class is GunicornLog
    # only server.trusted_proxies decides which forwarded headers count
    assert settings.secure_scheme_headers == {} and settings.forwarder_headers == []


def test_workers_default_to_one_per_core(tmp_path):
    config = node_config(str(tmp_path), server={"workers": None})
    assert create_server(config).cfg.workers == default_workers() >= 1


_counter = itertools.count()
_value = PerProcess(lambda: (os.getpid(), next(_counter)))


def _value_in_a_child():
    return _value.get()


def test_a_per_process_value_is_built_once_per_process_and_again_after_a_fork():
    built = _value.get()
    assert built[0] == os.getpid() and _value.get() is built
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        in_child = pool.submit(_value_in_a_child).result()
    assert in_child[0] != os.getpid()
    assert _value.get() is built


@pytest.mark.parametrize("engine", ENGINES)
def test_sigterm_lets_the_request_in_flight_finish(engine, tmp_path, request):
    """On every engine: the request's write to the store finishes too."""
    with fresh_store(engine, tmp_path, request) as database:
        node = WebNode(str(tmp_path), database=database).start()
        try:
            tx = create_tx(generate_key_pair())
            body = json.dumps(tx.to_dict()).encode()
            host, port = node.config["server"]["bind"].rsplit(":", 1)
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                sock.sendall(b"POST /api/v1/transactions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body) + body[:100])
                time.sleep(0.5)  # a worker is now reading the body
                node.process.send_signal(signal.SIGTERM)
                time.sleep(0.5)
                sock.sendall(body[100:])
                response = sock.makefile("rb").read()
            assert response.startswith(b"HTTP/1.1 202 "), response
            assert node.process.wait(30) == 0
            assert node.ledger.connection.get_backlog_transaction(tx.id) == tx.to_dict()
        finally:
            node.stop()
