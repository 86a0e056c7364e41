"""Block stage: turn the backlog entries assigned to this node into blocks.

Entries are taken from the feed in batches: what arrived until the feed
had nothing more (it yields None after a poll interval without news), the
open block would be full, or a quarter of ``max_wait`` went by.  A batch is validated with the
ledger read for all of it at once (one round trip on an engine whose reads
are round trips, ``Bigchain.prefetched``).

A block closes at ``max_size`` transactions, when the feed falls quiet
(nothing new for ``QUIET`` seconds: two poll intervals, as a feed polled
under a steady load also has nothing for one interval after each poll), or
``max_wait`` seconds after the oldest transaction in it was taken,
whichever comes first (docs/protocol.md §5 lets a node close a block
sooner than its size cap).  Every transaction is validated again as it is
taken (the ledger may have moved since it was accepted); invalid ones are
dropped from the backlog, not blocked.  Its signatures are verified again
unless the entry carries this node's own note that one of its web workers
verified them (``Bigchain.checked_here``): a note any other writer of the
store cannot make.

The block is written before its transactions leave the backlog, so a crash
in between loses nothing: on restart they are found already blocked and
dropped.  Just before the block is written, the transactions in it that
were reassigned to another node meanwhile (this stage was slower than
``backlog_reassign_delay``) are left out: their new assignee blocks them,
and one transaction in two blocks would get both voted down.  So is a
transaction assigned more than half of ``backlog_reassign_delay`` ago: a
stale stage may reassign it while the block is being written, and its new
assignee block it too.  It stays in the backlog for the stale stage.  So
that this does not happen to every block when ``backlog_reassign_delay``
is short, a block closes at half of it at most.
"""

import itertools
import logging
import math
import time

from bigchaindb.backend.base import POLL_INTERVAL
from bigchaindb.backend.exceptions import DatabaseError
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.transaction import Transaction
from bigchaindb.health import Heartbeat, seconds_since
from bigchaindb.metrics import metrics
from bigchaindb.models import looks_like_transaction, validate_transaction

logger = logging.getLogger(__name__)

QUIET = 2 * POLL_INTERVAL
"""Seconds without a new backlog entry after which the open block closes."""


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
        self.assigned_at = {}  # tx id: the assignment time the feed gave (the latest, if given again)
        self.opened_at = None

    def run(self):
        """Follow the backlog forever (entries already there first)."""
        feed = self.connection.backlog_feed(self.bigchain.me)
        pending = self.connection.backlog_assigned_to(self.bigchain.me)
        for batch, quiet in self.batches(itertools.chain(pending, feed)):
            self.add_all(batch)
            self.close_if_due(quiet)
            # behind by the time the oldest entry just taken waited since its assignment
            self.heartbeat.beat(max((seconds_since(assigned_at) for _, assigned_at in batch), default=0.0))

    def batches(self, entries):
        """``(entries, quiet)``: the backlog ``entries`` in lists of what arrived
        until the feed had nothing more (a None), the open block would be
        full, or ``max_wait / 4`` seconds went by since the first; ``quiet``
        when nothing arrived for ``QUIET`` seconds.  An idle feed yields
        empty lists, so that a block still closes on time."""
        batch, started, last = [], None, time.monotonic()
        for entry in entries:
            now = time.monotonic()
            if entry is not None:
                batch.append(entry)
                started, last = started or now, now
            if entry is None or len(self.transactions) + len(batch) >= self.max_size or \
                    now - started >= self.max_wait / 4:
                yield batch, entry is None and now - last >= QUIET
                batch, started = [], None

    def add(self, tx_dict, assigned_at=None):
        """Validate one backlog transaction and take it into the open block."""
        self.add_all([(tx_dict, assigned_at)])

    def add_all(self, entries):
        """Validate the transactions of backlog ``entries`` (``(tx, assignment
        time)`` pairs) and take the valid ones into the open block; the ledger
        is read for all of them at once.  Invalid ones leave the backlog
        (together, in one write)."""
        parsed, dropped = [], []
        for tx_dict, assigned_at in entries:
            if not looks_like_transaction(tx_dict):
                # a row any member could write; with no id, there is no entry to delete it by
                logger.warning("passed over a backlog entry that is not a transaction: %.200r", tx_dict)
                continue
            try:
                parsed.append((tx_dict, Transaction.from_dict(tx_dict), assigned_at))
            except ValidationError as exc:
                logger.info("dropped transaction %s from the backlog: %s", tx_dict["id"], exc)
                dropped.append(tx_dict["id"])
            except Exception:
                logger.exception("dropped transaction %s from the backlog: it could not be checked", tx_dict["id"])
                dropped.append(tx_dict["id"])
        if parsed:
            checks = [("get_backlog_check", (tx.id,)) for _, tx, _ in parsed]
            view = self.bigchain.prefetched([tx for _, tx, _ in parsed], check_backlog=False, also=checks)
            for tx_dict, tx, assigned_at in parsed:
                if not self._take(view, tx_dict, tx, assigned_at):
                    dropped.append(tx.id)
        if dropped:
            self.connection.delete_backlog(dropped)

    def _take(self, view, tx_dict, tx, assigned_at):
        """Take one parsed transaction into the open block if it is valid against
        the ledger (as ``view`` has it) and the block; False when it must
        leave the backlog."""
        if tx.id in self.ids:
            self.assigned_at[tx.id] = assigned_at  # given to this node again
            return True
        try:
            for link in tx.spent_outputs():
                if link in self.spent:
                    raise ValidationError(f"output {link.cid} of {link.txid} is spent by another "
                                          "transaction in the same block")
            verified = self.bigchain.checked_here(tx_dict, view.connection.get_backlog_check(tx.id))
            validate_transaction(view, tx, check_backlog=False, check_signatures=not verified)
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
        self.assigned_at[tx.id] = assigned_at
        self.spent.update(tx.spent_outputs())
        if self.opened_at is None:
            self.opened_at = time.monotonic()
        return True

    def close_if_due(self, quiet=False):
        """Write the open block if it is full, the feed fell ``quiet``, or it has
        waited ``max_wait`` seconds."""
        if not self.transactions:
            return
        if len(self.transactions) < self.max_size and not quiet and \
                time.monotonic() - self.opened_at < self.max_wait:
            return
        # reassigned by a stale stage (this stage was slow), or blocked by their new assignee;
        # or soon to be reassigned, maybe while the block is being written
        soon_stale = time.time() - self.bigchain.backlog_reassign_delay / 2
        held = {tx_id for tx_id in self.connection.backlog_held_by(self.bigchain.me, self.ids)
                if _time_of(self.assigned_at.get(tx_id)) >= soon_stale}
        if held != self.ids:
            logger.info("%d transactions left this node's backlog, or are about to, before their block closed",
                        len(self.ids - held))
            self.transactions = [tx for tx in self.transactions if tx["id"] in held]
            self.ids = held
            if not self.transactions:
                self._reset()
                return
        block = self.bigchain.create_block(self.transactions)
        self.bigchain.write_block(block, taken=list(self.ids))
        metrics().blocks.inc()
        metrics().block_transactions.inc(len(self.transactions))
        self._reset()


def _time_of(assigned_at):
    """An assignment time as a number; one that is not a number (a row anyone may
    have written, or none given) is taken as just now: such an entry is not
    held back from its block, as the stale stage cannot compare it either."""
    if isinstance(assigned_at, (int, float)) and not isinstance(assigned_at, bool) and not math.isnan(assigned_at):
        return assigned_at
    return math.inf
