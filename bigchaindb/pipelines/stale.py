"""Stale stage: hand backlog entries nobody picked up in time to another node.

An entry assigned more than ``backlog_reassign_delay`` seconds ago (its node
is down, or was when it was assigned) goes to another federation member,
whose block stage sees it as new.  Every node runs this stage; a
reassignment happens only if the entry is still stale, so one stage wins
each entry, and a block stage drops from its open block whatever was taken
from it meanwhile (see ``block``).
"""

import logging
import random
import time

from bigchaindb.health import Heartbeat
from bigchaindb.metrics import metrics

logger = logging.getLogger(__name__)


class StalePipeline:
    def __init__(self, bigchain, heartbeat=None):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.heartbeat = heartbeat or Heartbeat()
        self.delay = bigchain.backlog_reassign_delay
        self.interval = max(0.5, min(self.delay / 4, 10))

    def run(self):
        while True:
            self.heartbeat.beat()
            time.sleep(self.interval)
            self.reassign_stale()
            # GET /metrics reads the count from here: no scrape ever counts the backlog itself
            metrics().backlog.set(self.connection.backlog_size())

    def reassign_stale(self):
        now = time.time()
        older_than = now - self.delay
        for tx_id, assignee in self.connection.stale_backlog(older_than):
            others = [node for node in self.bigchain.federation if node != assignee]
            new_assignee = random.choice(others or self.bigchain.federation)
            # False when another node's stale stage reassigned it first
            if self.connection.reassign_backlog(tx_id, new_assignee, now, older_than):
                logger.info("reassigned stale backlog transaction %s from %s to %s", tx_id, assignee, new_assignee)
