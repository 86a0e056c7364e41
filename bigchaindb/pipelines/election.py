"""Election stage: as votes arrive, decide blocks and requeue INVALID ones.

Every node runs it; ``Bigchain.requeue`` makes the requeue happen once.
"""

import logging

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.consensus import INVALID, UNDECIDED

logger = logging.getLogger(__name__)
ANNOUNCED_LIMIT = 100_000


class ElectionPipeline:
    def __init__(self, bigchain):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.announced = set()  # decided blocks already logged (bounded below)

    def run(self):
        for vote in self.connection.vote_feed():
            if vote is None:
                continue
            try:
                self.on_vote(vote)
            except DatabaseError:
                raise  # the store's trouble: the supervisor restarts the stage
            except Exception:
                # a malformed vote (anyone in the keyring can write one) must not stop elections
                logger.exception("could not count vote %r", vote)

    def on_vote(self, vote):
        block_id = vote["vote"]["voting_for_block"]
        if block_id in self.announced:
            return
        status = self.bigchain.block_status(block_id)
        if status in (None, UNDECIDED):
            return
        if len(self.announced) >= ANNOUNCED_LIMIT:
            self.announced.clear()  # a block logged twice is harmless; unbounded memory is not
        self.announced.add(block_id)
        logger.info("block %s decided %s", block_id, status)
        if status == INVALID:
            block = self.connection.get_block(block_id)
            self.bigchain.requeue(block)
