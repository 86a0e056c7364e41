"""Vote stage: judge every new block and write this node's signed vote.

A block is valid when its creator is a federation member, its voters are
the federation, its id and signature check, and every transaction in it is
valid against the ledger and against the other transactions in the block.

A block this node signed itself was made by its own block stage, which
verified every fulfillment in it moments before: those signatures are not
verified a second time (the ledger rules are, as the ledger may have moved).

Any member can write any row into the blocks table: a row this stage cannot
read as a block is voted INVALID with the reason, and one without even an
id to vote on is logged and passed over (such a block is INVALID anyway,
see ``Bigchain.block_status``).
"""

import itertools
import logging
import time

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Transaction
from bigchaindb.health import Heartbeat, seconds_since, timestamp_in
from bigchaindb.metrics import metrics
from bigchaindb.models import Block, validate_transaction

logger = logging.getLogger(__name__)
VERDICTS = ("invalid", "valid")  # by whether the block is valid
FOLLOW_WINDOW = 16
"""How many of the blocks waiting for its vote a node looks at for the one
the other members chained next (``next_in_chain``): a late voter's next
block is near the front of the order of writing, and each vote costs one
read of the votes on these."""


class VotePipeline:
    def __init__(self, bigchain, heartbeat=None):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.heartbeat = heartbeat or Heartbeat()
        self.settle = self.connection.write_order_settle
        for verdict in VERDICTS:
            metrics().votes.labels(verdict)  # shown from the start, at 0

    def run(self):
        """Vote on every block not yet voted on, then on each new one, forever.

        Blocks are voted in the store's order of writing, not in the order
        this node's feed delivered them (see ``vote_in_turn``): a block waits
        ``settle`` seconds after its delivery for one written before it."""
        feed = self.connection.block_feed()
        pending = self.bigchain.blocks_to_vote_on()
        if pending:
            logger.info("%d blocks to catch up on", len(pending))  # rows anyone wrote: not even dicts, maybe
        waiting = {}  # block id -> when it was delivered (monotonic)
        for header in itertools.chain(pending, feed):
            # behind by the age of the block it comes to
            self.heartbeat.beat(0.0 if header is None else seconds_since(timestamp_in(header, "block")))
            if header is not None:
                block_id = header.get("id") if isinstance(header, dict) else None
                if not isinstance(block_id, str):
                    logger.warning("passed over a stored block row with no id to vote on: %.200r", header)
                elif block_id != self.bigchain.genesis_id:
                    waiting.setdefault(block_id, time.monotonic())
            if waiting:
                self.vote_in_turn(waiting, time.monotonic() - self.settle)

    def vote_in_turn(self, waiting, settled_by):
        """Vote on the blocks of ``waiting`` (ids, and when each was delivered)
        that were delivered by ``settled_by``, and on those written before
        one of them, in the order of writing (``next_in_chain`` may put a
        block that the other members chained next first); take them out of
        ``waiting``.

        Every node so votes blocks in one order, the one the store wrote
        them in, and names the same ``previous_block`` (the election counts
        a block VALID only when a majority of its valid votes do): feeds
        deliver concurrent writes in the order they committed, and a feed
        that resumed, or a stage that restarted, delivers a batch at once.
        """
        if min(waiting.values()) > settled_by:
            return
        ordered = self.connection.blocks_in_write_order(waiting)
        settled = [position for position, block_id in enumerate(ordered) if waiting[block_id] <= settled_by]
        turn = ordered[:settled[-1] + 1] if settled else []
        for block_id in set(waiting) - set(ordered):  # not stored (yet?): a block is written before its feed sees it
            if waiting[block_id] <= settled_by:
                del waiting[block_id]
        while turn:
            block_id = self.next_in_chain(turn)
            turn.remove(block_id)
            del waiting[block_id]
            self.vote_on(block_id)

    def next_in_chain(self, blocks):
        """Of ``blocks`` (in the order of writing), the one to vote on next:
        the one that most other members voted on right after the block this
        node voted on last, if any did, else the first.

        A node that fell behind (its server restarted, its stage did) so
        joins the chain the others already voted, rather than starting
        another where they voted in another order."""
        candidates = blocks[:FOLLOW_WINDOW]
        if len(candidates) == 1:
            return candidates[0]
        last = self.bigchain.last_vote()
        previous = self.bigchain.genesis_id if last is None else last["vote"]["voting_for_block"]
        followers = [sum(vote["node_pubkey"] != self.bigchain.me and vote["vote"]["previous_block"] == previous
                         for vote in votes) for votes in self.bigchain.get_votes_of_blocks(candidates)]
        return candidates[max(range(len(candidates)), key=lambda index: (followers[index], -index))]

    def vote_on(self, block_id):
        # the block and the votes on it in one read (whether this node voted on it already)
        block, votes = self.connection.read_many([("get_block", (block_id,)), ("votes_for", (block_id,))])
        if block is None:
            return
        reason = self.invalid_reason(block, block_id)
        vote = self.bigchain.cast_vote(block_id, reason is None, reason, votes)
        if vote:
            metrics().votes.labels(VERDICTS[reason is None]).inc()
            logger.info("voted %s on block %s after %s%s", "valid" if reason is None else "INVALID", block_id,
                        vote["vote"]["previous_block"], f": {reason}" if reason else "")

    def invalid_reason(self, block_dict, block_id=None):
        """None when the block is valid, else why it is not.

        ``block_id`` is the id it is stored under (by default its own).
        """
        try:
            block = Block.from_dict(block_dict)
            if block_id is not None and block.id != block_id:
                return f"block {block.id} is stored under another id, {block_id}"
            federation = self.bigchain.federation
            if block.node_pubkey not in federation:
                return f"block creator {block.node_pubkey} is not a federation member"
            if sorted(block.voters) != sorted(federation):
                return "block voters are not the federation"
            txs = [Transaction.from_dict(tx_dict) for tx_dict in block.transactions]
            ids, spent = set(), set()
            for tx in txs:  # conflicts inside the block first: they name the real problem
                if tx.id in ids:
                    return f"transaction {tx.id} appears twice in the block"
                ids.add(tx.id)
                for link in tx.spent_outputs():
                    if link in spent:
                        return f"output {link.cid} of {link.txid} is spent twice in the block"
                    spent.add(link)
            verified_here = block.node_pubkey == self.bigchain.me
            view = self.bigchain.prefetched(txs, check_backlog=False, block_id=block.id)  # read for all at once
            for tx in txs:
                validate_transaction(view, tx, block.id, check_backlog=False, check_signatures=not verified_here)
        except ValidationError as exc:
            return str(exc)
        except DatabaseError:
            raise  # the store's trouble, not the block's: the supervisor restarts the stage
        except Exception as exc:
            # A malformed block, or a bug it triggers: either way it cannot be
            # shown valid, and voting beats failing on it after every restart.
            logger.exception("block %.200r could not be checked", block_dict)
            return f"block could not be checked: {exc!r}"
        return None
