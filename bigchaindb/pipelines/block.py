"""Block stage: turn the backlog entries assigned to this node into blocks.

A block closes at ``max_size`` transactions, or ``max_wait`` seconds after
the oldest transaction in it was taken from the backlog, whichever comes
first.  Every transaction is validated again as it is taken (the ledger
may have moved since it was accepted); invalid ones are dropped from the
backlog, not blocked.  The block is written before its transactions leave
the backlog, so a crash in between loses nothing: on restart they are
found already blocked and dropped.  Just before the block is written, the
transactions in it that were reassigned to another node meanwhile (this
stage was slower than ``backlog_reassign_delay``) are left out: their new
assignee blocks them, and one transaction in two blocks would get both
voted down.  So that this does not happen to every block when
``backlog_reassign_delay`` is short, a block closes at half of it at most.
"""

import itertools
import logging
import time

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.health import Heartbeat, seconds_since
from bigchaindb.metrics import metrics
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Transaction
from bigchaindb.models import looks_like_transaction, validate_transaction

logger = logging.getLogger(__name__)


class BlockPipeline:
    def __init__(self, bigchain, max_size=1000, max_wait=1.0, heartbeat=None):
        self.bigchain = bigchain
        self.heartbeat = heartbeat or Heartbeat()
        self.connection = bigchain.connection
        self.max_size = max_size
        # a block must close before its transactions turn stale and go to another node
        self.max_wait = min(max_wait, bigchain.backlog_reassign_delay / 2)
        self._reset()

    def _reset(self):
        self.transactions = []
        self.ids = set()
        self.spent = set()
        self.opened_at = None

    def run(self):
        """Follow the backlog forever (entries already there first)."""
        feed = self.connection.backlog_feed(self.bigchain.me)
        pending = self.connection.backlog_assigned_to(self.bigchain.me)
        for entry in itertools.chain(pending, feed):
            if entry is not None:
                self.add(entry[0])
            self.close_if_due()
            # behind by the time the entry just taken waited since its assignment
            self.heartbeat.beat(0.0 if entry is None else seconds_since(entry[1]))

    def add(self, tx_dict):
        """Validate one backlog transaction and take it into the open block."""
        if not looks_like_transaction(tx_dict):
            # a row any member could write; with no id, there is no entry to delete it by
            logger.warning("passed over a backlog entry that is not a transaction: %.200r", tx_dict)
            return
        tx_id = tx_dict["id"]
        if tx_id in self.ids:
            return
        try:
            tx = Transaction.from_dict(tx_dict)
            for link in tx.spent_outputs():
                if link in self.spent:
                    raise ValidationError(f"output {link.cid} of {link.txid} is spent by another "
                                          "transaction in the same block")
            validate_transaction(self.bigchain.prefetched([tx], check_backlog=False), tx, check_backlog=False)
        except ValidationError as exc:
            logger.info("dropped transaction %s from the backlog: %s", tx_id, exc)
            self.connection.delete_backlog([tx_id])
            return
        except DatabaseError:
            raise  # the store's trouble, not the transaction's: the supervisor restarts the stage
        except Exception:
            # A bug met on this transaction: keeping it would fail the same way
            # after every restart, so it leaves the backlog (and the log says why).
            logger.exception("dropped transaction %s from the backlog: it could not be checked", tx_id)
            self.connection.delete_backlog([tx_id])
            return
        self.transactions.append(tx_dict)
        self.ids.add(tx_id)
        self.spent.update(tx.spent_outputs())
        if self.opened_at is None:
            self.opened_at = time.monotonic()

    def close_if_due(self):
        if not self.transactions:
            return
        if len(self.transactions) < self.max_size and time.monotonic() - self.opened_at < self.max_wait:
            return
        held = set(self.connection.backlog_held_by(self.bigchain.me, self.ids))
        if held != self.ids:
            # reassigned by a stale stage (this stage was slow), or blocked by their new assignee
            logger.info("%d transactions left this node's backlog before their block closed", len(self.ids - held))
            self.transactions = [tx for tx in self.transactions if tx["id"] in held]
            self.ids = held
            if not self.transactions:
                self._reset()
                return
        block = self.bigchain.create_block(self.transactions)
        self.bigchain.write_block(block)
        self.connection.delete_backlog(list(self.ids), blocked=True)
        metrics().blocks.inc()
        metrics().block_transactions.inc(len(self.transactions))
        self._reset()
