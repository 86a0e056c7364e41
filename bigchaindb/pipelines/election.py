"""Election stage: as votes arrive, decide blocks and requeue INVALID ones,
and STUCK ones (UNDECIDED for good: every member voted, see
``consensus.STUCK``).

Every node runs it; ``Bigchain.requeue`` makes the requeue happen once.
Votes written while the stage was down are not on its feed, so on start it
first goes back over the blocks this node voted on in the last
``RECHECK_SECONDS``, walking its own chain of votes (each names the block
voted on before): a handful of index reads, however long the chain.
"""

import logging
import time

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.consensus import INVALID, STUCK, UNDECIDED
from bigchaindb.health import Heartbeat, seconds_since, timestamp_in
from bigchaindb.metrics import metrics

logger = logging.getLogger(__name__)
ANNOUNCED_LIMIT = 100_000
RECHECK_SECONDS = 600


class ElectionPipeline:
    def __init__(self, bigchain, heartbeat=None):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.heartbeat = heartbeat or Heartbeat()
        self.announced = set()  # decided blocks already logged (bounded below)
        self.live = False  # counting new votes, not going over recent ones again after a start

    def run(self):
        feed = self.connection.vote_feed()
        for vote in self.own_recent_votes():
            self.count(vote)
            self.heartbeat.beat()  # old votes counted again: catching up on purpose, not behind
        self.live = True
        for vote in feed:
            if vote is not None:
                self.count(vote)
            # behind by the age of the vote it counted
            self.heartbeat.beat(0.0 if vote is None else seconds_since(timestamp_in(vote, "vote")))

    def own_recent_votes(self):
        """This node's votes of the last RECHECK_SECONDS, newest first."""
        me, genesis_id = self.bigchain.me, self.bigchain.genesis_id
        horizon = time.time() - RECHECK_SECONDS
        vote = self.bigchain.last_vote()
        while vote is not None and int(vote["vote"]["timestamp"]) >= horizon:
            yield vote
            previous = vote["vote"]["previous_block"]
            if previous == genesis_id:
                return
            vote = next(iter(self.bigchain.get_votes(previous, me)), None)

    def count(self, vote):
        try:
            self.on_vote(vote)
        except DatabaseError:
            raise  # the store's trouble: the supervisor restarts the stage
        except Exception:
            # a bug met on one vote must not stop elections
            logger.exception("could not count vote %.200r", vote)

    def on_vote(self, vote):
        body = vote.get("vote") if isinstance(vote, dict) else None
        block_id = body.get("voting_for_block") if isinstance(body, dict) else None
        if not isinstance(block_id, str):
            # anyone who can write to the store can write such a row: it is no vote
            logger.warning("passed over a stored vote row naming no block: %.200r", vote)
            return
        if block_id in self.announced:
            return
        view = self.bigchain.statuses_read([block_id])  # its votes, and its header if new: one read
        status = view.block_outcome(block_id)
        if status in (None, UNDECIDED):
            return
        if len(self.announced) >= ANNOUNCED_LIMIT:
            self.announced.clear()  # a block logged twice is harmless; unbounded memory is not
        self.announced.add(block_id)
        logger.info("block %s decided %s", block_id, status)
        if self.live:
            header = view.block_header(block_id)  # read with the status
            metrics().election_lag.observe(seconds_since(timestamp_in(header, "block")))
        if status in (INVALID, STUCK):
            self.bigchain.requeue(block_id, status)
