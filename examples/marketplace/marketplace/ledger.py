"""The market's records on the node's ledger, written and read through ``bigchaindb.client``.

Every record is a transaction whose metadata ``data`` says what it is
(``{"openbazaar": kind, ...}``).  Records that belong together share one
metadata id, so that one indexed query (``GET /transactions?metadata_id=``)
reads them all:

* a participant's profile versions: the id ``thread_id(guid, "profile")``;
* a vendor's listings: ``thread_id(guid, "listings")``;
* everything about one order (the order itself, its payment, confirmation,
  dispute, resolution and payout): the order id, a uuid4 the buyer draws.

Anyone can write a transaction with any metadata id, so a record counts
only when signed by whom it claims (a CREATE's ``owners_before``; the node
checked the signature) and a payment or payout only when it moves the
money the order says.
"""

import hashlib
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from bigchaindb.client import BadRequest, BigchainDB, NotFoundError

LOG = logging.getLogger(__name__)
KIND = "openbazaar"
VALIDITY_TIMEOUT = 30
"""Seconds to wait for a transaction to be in a VALID block."""


class LedgerError(Exception):
    """The node refused, or did not settle, what the market asked of it."""


def thread_id(guid, topic):
    """The metadata id (a uuid4 in form) of ``guid``'s records about ``topic``."""
    digest = hashlib.sha3_256(f"{guid}/{topic}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def kind_of(tx):
    metadata = tx["transaction"]["metadata"]
    data = metadata and metadata["data"]
    return data.get(KIND) if isinstance(data, dict) else None


def data_of(tx):
    return tx["transaction"]["metadata"]["data"]


def author_of(tx):
    """The one key that signed a CREATE, or None (a TRANSFER, or several signers)."""
    ffills = tx["transaction"]["fulfillments"]
    if tx["transaction"]["operation"] != "CREATE" or len(ffills) != 1 or len(ffills[0]["owners_before"]) != 1:
        return None
    return ffills[0]["owners_before"][0]


class Ledger:
    """One participant's view of the ledger: its keypair, the node and the currency it pays in.

    ``follow(on_valid)`` follows the node's stream of the valid transactions
    that concern this participant (an output to it, or an input from it),
    from the start of the ledger: ``on_valid(tx)`` is called for each, and
    ``wait_valid`` returns once the stream has brought what it waits for.
    """

    def __init__(self, node_url, keypair, currency):
        self.bdb = BigchainDB(node_url, timeout=10)
        self.keypair = keypair
        self.guid = keypair.public_key
        self.currency = currency
        self._spending = set()  # outputs this server has spent in transactions not yet valid
        self._coins_lock = threading.Lock()
        self._cache = {}  # transaction id -> transaction: what is in a valid block never changes
        self._valid = set()  # ids of this participant's transactions the stream has brought
        self._arrived = threading.Condition()

    def follow(self, on_valid):
        """Start following this participant's valid transactions (a daemon thread)."""
        def run():
            for event in self.bdb.streams.valid_transactions(since="0", public_key=self.guid):
                try:
                    on_valid(self.transaction(event["transaction_id"]))
                except Exception:  # one odd transaction must not stop the server following the ledger
                    LOG.exception("could not read valid transaction %s", event["transaction_id"])
                with self._arrived:
                    self._valid.add(event["transaction_id"])
                    self._arrived.notify_all()
        threading.Thread(target=run, name="follower", daemon=True).start()

    # -- writing --------------------------------------------------------------

    def send(self, *transactions):
        """Post signed ``transactions`` and wait until every one is in a VALID block."""
        for tx in transactions:
            self.bdb.transactions.send(tx)
        self.wait_valid([tx["id"] for tx in transactions])
        for tx in transactions:
            self._cache[tx["id"]] = tx
        return transactions

    def wait_valid(self, txids, timeout=VALIDITY_TIMEOUT):
        """Return once the stream has brought every transaction of ``txids`` (each one of this
        participant's) as VALID; LedgerError, with the node's status of the first missing, if not
        within ``timeout`` seconds."""
        with self._arrived:
            if self._arrived.wait_for(lambda: self._valid.issuperset(txids), timeout):
                return
        missing = next(txid for txid in txids if txid not in self._valid)
        status = self.bdb.transactions.status(missing)["status"]
        raise LedgerError(f"transaction {missing} is {status}, not valid, after {timeout} s")

    def record(self, topic_id, data, owners_after=None, asset=None, asset_id=None):
        """A signed CREATE by this participant: a record ``data`` in the thread ``topic_id``.

        It is owned by ``owners_after`` (default: this participant), given as
        the client's recipients (``[(keys, amount, threshold)]``); ``asset_id``
        chooses the new asset's id.
        """
        prepared = self.bdb.transactions.prepare(
            operation="CREATE", owners_before=self.guid, owners_after=owners_after or self.guid,
            asset={"data": asset or {KIND: data[KIND]}, "id": asset_id},
            metadata=dict(data, time=int(time.time())),
            metadata_id=topic_id)
        return self.bdb.transactions.fulfill(prepared, self.keypair.private_key)

    def transfer(self, inputs, asset_id, recipients, topic_id, data, private_keys=(), signatures=None, spent=None):
        """A TRANSFER in thread ``topic_id``, signed by ``private_keys`` and the ``signatures``
        other parties handed over (unsigned when neither is given)."""
        prepared = self.bdb.transactions.prepare(operation="TRANSFER", inputs=inputs, asset={"id": asset_id},
                                                 owners_after=recipients, metadata=dict(data, time=int(time.time())),
                                                 metadata_id=topic_id)
        if not private_keys and not signatures:
            return prepared
        return self.bdb.transactions.fulfill(prepared, private_keys, signatures=signatures, spent=spent)

    # -- money ------------------------------------------------------------------

    def _coins(self):
        """This participant's unspent outputs of the currency that it holds alone."""
        return [o for o in self.bdb.outputs.get(self.guid, unspent=True)
                if o["asset_id"] == self.currency and o["owners_after"] == [self.guid]]

    def pay(self, amount, recipients, topic_id, data):
        """A signed TRANSFER of ``amount`` of this participant's currency to ``recipients``
        (``[(keys, amount[, threshold])]``, adding up to ``amount``), the change back to itself.

        Outputs spent by this server's transactions not yet valid are left
        alone, so that several payments may be under way at once.
        """
        with self._coins_lock:
            chosen, total = [], 0
            for coin in self._coins():
                if total >= amount:
                    break
                link = (coin["transaction_id"], coin["output_index"])
                if link not in self._spending:
                    chosen.append(coin)
                    total += coin["amount"]
            if total < amount:
                raise LedgerError(f"insufficient funds: {total} available, {amount} needed")
            self._spending.update((c["transaction_id"], c["output_index"]) for c in chosen)
        inputs = [{"owners_before": [self.guid], "input": {"txid": c["transaction_id"], "cid": c["output_index"]},
                   "fulfillment": None} for c in chosen]
        change = [([self.guid], total - amount)] if total > amount else []
        return self.transfer(inputs, self.currency, recipients + change, topic_id, data,
                             private_keys=self.keypair.private_key)

    def release(self, tx):
        """Forget the outputs ``tx`` spent (it was refused): they may be chosen again."""
        with self._coins_lock:
            for ffill in tx["transaction"]["fulfillments"]:
                self._spending.discard((ffill["input"]["txid"], ffill["input"]["cid"]))

    # -- reading ---------------------------------------------------------------

    def thread(self, topic_id):
        """The transactions of thread ``topic_id`` in VALID or UNDECIDED blocks."""
        return self.bdb.transactions.get(metadata_id=topic_id)

    def transaction(self, txid):
        """Transaction ``txid`` from the ledger (cached), or None."""
        if txid not in self._cache:
            try:
                self._cache[txid] = self.bdb.transactions.retrieve(txid)
            except (NotFoundError, BadRequest):  # none such, or not even a transaction id
                return None
        return self._cache[txid]

    def shared_assets(self):
        """Ids of the assets other than the currency of which this participant holds an output
        together with others: among them, the orders it is a party to (an order's asset id is
        its order id), each once, in ledger order."""
        found = []
        for output in self.bdb.outputs.get(self.guid):
            if (output["asset_id"] != self.currency and len(output["owners_after"]) > 1
                    and output["asset_id"] not in found):
                found.append(output["asset_id"])
        return found

    def threads(self, topic_ids):
        """``[thread(id) for id in topic_ids]``, read several at a time."""
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(self.thread, topic_ids))

    def profile(self, guid):
        """``(transaction, profile dict)`` of the current profile of ``guid``, or None.

        Versions chain: the first is a CREATE by ``guid``, each next one a
        TRANSFER of the one before; the current one is spent by none.
        """
        versions = [tx for tx in self.thread(thread_id(guid, "profile")) if kind_of(tx) == "profile"]
        created = [tx for tx in versions if author_of(tx) == guid]
        if not created:
            return None
        asset_id = created[0]["transaction"]["asset"]["id"]
        chain = {tx["id"]: tx for tx in versions if tx["transaction"]["asset"]["id"] == asset_id}
        spent = {f["input"]["txid"] for tx in chain.values() for f in tx["transaction"]["fulfillments"] if f["input"]}
        current = [tx for txid, tx in chain.items() if txid not in spent]
        return (current[0], data_of(current[0])["profile"]) if current else None

    def listings(self, guid):
        """The listing CREATEs of vendor ``guid``."""
        return [tx for tx in self.thread(thread_id(guid, "listings"))
                if kind_of(tx) == "listing" and author_of(tx) == guid]

