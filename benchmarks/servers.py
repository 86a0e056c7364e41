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
from tests.integration.node import Node, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = ["Ceiling", "Node"]


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
