"""A new user's first ``bigchaindb start``: no config, no database, one command.

On the embedded store only: with no config the node runs on it, which is
the point.  (The first start on a RethinkDB database is what every node
fixture of tests/integration does on that engine.)
"""

import json
import stat
import subprocess
import time

import requests

from tests.helpers import free_port, node_environment, wait_until
from tests.integration.node import BIGCHAINDB


def test_start_on_a_machine_with_no_config(tmp_path):
    port = free_port()
    # the streams' default port (the API's + 1) may be another test's: name one of this test's own
    env = node_environment(HOME=str(tmp_path), BIGCHAINDB_SERVER_BIND=f"127.0.0.1:{port}",
                           BIGCHAINDB_STREAMS_BIND=f"127.0.0.1:{free_port()}")
    log_path = tmp_path / "start.log"
    began = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen([BIGCHAINDB, "start"], env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        def answers():
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        wait_until(answers, 10, f"no answer on GET / within 10 s:\n{log_path.read_text()}")
        assert time.monotonic() - began < 10

        config_path = tmp_path / ".bigchaindb"
        config = json.loads(config_path.read_text())
        assert stat.S_IMODE(config_path.stat().st_mode) == 0o600  # it holds the private key
        info = requests.get(f"http://127.0.0.1:{port}/").json()
        assert info["public_key"] == config["keypair"]["public"]
        output = log_path.read_text()
        assert str(config_path) in output
        assert str(tmp_path / ".bigchaindb-data" / "bigchaindb.sqlite") in output
        assert f"http://127.0.0.1:{port}/" in output
    finally:
        process.terminate()
        process.wait(30)
