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
voted down.
"""

import itertools
import logging
import time

from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Transaction
from bigchaindb.models import looks_like_transaction, validate_transaction

logger = logging.getLogger(__name__)


class BlockPipeline:
    def __init__(self, bigchain, max_size=1000, max_wait=1.0):
        self.bigchain = bigchain
        self.connection = bigchain.connection
        self.max_size = max_size
        self.max_wait = max_wait
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
        for batch in self.batches(itertools.chain(pending, feed)):
            self.add_all(batch)
            self.close_if_due()

    def batches(self, entries):
        """The transactions of backlog ``entries`` in batches: what arrived until
        the feed fell idle (a None), the open block would be full, or
        ``max_wait / 4`` seconds went by.  An idle feed yields an empty batch,
        so that a block still closes on time."""
        batch, started = [], None
        for entry in entries:
            if entry is not None:
                batch.append(entry[0])
                started = started or time.monotonic()
            if entry is None or len(self.transactions) + len(batch) >= self.max_size or \
                    time.monotonic() - started >= self.max_wait / 4:
                yield batch
                batch, started = [], None

    def add_all(self, tx_dicts):
        """Validate backlog transactions and take the valid ones into the open
        block; the ledger is read for all of them at once.  Invalid ones
        leave the backlog (together, in one write)."""
        parsed, dropped = [], []
        for tx_dict in tx_dicts:
            if not looks_like_transaction(tx_dict):
                # a row any member could write; with no id, there is no entry to delete it by
                logger.warning("passed over a backlog entry that is not a transaction: %.200r", tx_dict)
                continue
            try:
                parsed.append((tx_dict, Transaction.from_dict(tx_dict)))
            except ValidationError as exc:
                logger.info("dropped transaction %s from the backlog: %s", tx_dict["id"], exc)
                dropped.append(tx_dict["id"])
            except Exception:
                logger.exception("dropped transaction %s from the backlog: it could not be checked", tx_dict["id"])
                dropped.append(tx_dict["id"])
        view = self.bigchain.prefetched([tx for _, tx in parsed], check_backlog=False) if parsed else None
        for tx_dict, tx in parsed:
            if not self._take(view, tx_dict, tx):
                dropped.append(tx.id)
        if dropped:
            self.connection.delete_backlog(dropped)

    def add(self, tx_dict):
        """Validate one backlog transaction and take it into the open block."""
        self.add_all([tx_dict])

    def _take(self, view, tx_dict, tx):
        """Take one parsed transaction into the open block if it is valid against
        the ledger (as ``view`` has it) and the block; False when it must
        leave the backlog."""
        if tx.id in self.ids:
            return True
        try:
            for link in tx.spent_outputs():
                if link in self.spent:
                    raise ValidationError(f"output {link.cid} of {link.txid} is spent by another "
                                          "transaction in the same block")
            validate_transaction(view, tx, check_backlog=False)
        except ValidationError as exc:
            logger.info("dropped transaction %s from the backlog: %s", tx.id, exc)
            return False
        except DatabaseError:
            raise  # the store's trouble, not the transaction's: the supervisor restarts the stage
        except Exception:
            # A bug met on this transaction: keeping it would fail the same way
            # after every restart, so it leaves the backlog (and the log says why).
            logger.exception("dropped transaction %s from the backlog: it could not be checked", tx.id)
            return False
        self.transactions.append(tx_dict)
        self.ids.add(tx.id)
        self.spent.update(tx.spent_outputs())
        if self.opened_at is None:
            self.opened_at = time.monotonic()
        return True

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
        self._reset()
