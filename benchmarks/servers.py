"""The two servers a run measures, started, sampled and stopped the same way.

The node is the integration tests' ``Node`` (``bigchaindb start`` with its
own config file, port and log).  ``Ceiling`` is a ``Node`` in every respect
but the program it runs, so both get the same config, the same readiness
check (GET / answers 200), the same process tree for RSS and the same stop.
"""

import os
import subprocess
import sys

from bigchaindb import config as node_config
from bigchaindb.web.server import create_server
from tests.integration.node import Node, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDED = ("worker_class", "workers", "worker_connections", "keepalive")

__all__ = ["Ceiling", "Node", "code_version", "gunicorn_settings"]


def gunicorn_settings(config):
    """The gunicorn settings that both targets run with under ``config``, for the record:
    figures of different worker classes or counts do not compare."""
    options = create_server(config).options
    return {name: options[name] for name in RECORDED if name in options}


def code_version():
    """``git describe --always --dirty`` of the repository: which code the figures are of."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


class Ceiling(Node):
    """``benchmarks.ceiling_app`` served with the gunicorn settings of this config's node."""

    def start(self, timeout=30):
        node_config.write_file(self.config, self.config_path)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "benchmarks.ceiling_app", self.config_path],
                                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL)
        wait_until(self._answers, timeout, f"{self.name} did not answer GET / (see {self.log_path})")
        return self
