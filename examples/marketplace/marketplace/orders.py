"""An order as its records on the ledger tell it: contract, money, and where it stands.

Pure: ``Order(order_id, thread)`` reads the transactions of the order's
thread (see ``ledger``) and keeps only those signed by whom they must be,
so any participant's server derives the same order from the ledger alone.
"""

from marketplace.ledger import author_of, data_of, kind_of

# OpenBazaar-Server's order states, by number as its API gave them.
AWAITING_PAYMENT, FUNDED, CONFIRMED, COMPLETED, DISPUTED, DISPUTE_CLOSED, RESOLVED, REFUNDED = range(8)
STATUS_NAMES = ["AWAITING_PAYMENT", "FUNDED", "CONFIRMED", "COMPLETED", "DISPUTED", "DISPUTE_CLOSED",
                "RESOLVED", "REFUNDED"]
ESCROW_THRESHOLD = 2
"""Signatures of buyer, vendor and moderator that move a moderated payment."""

PAYOUT_STATUS = {"completion": COMPLETED, "refund": REFUNDED, "release": RESOLVED}


class OrderError(Exception):
    """The order does not exist, or does not allow what was asked."""


class Order:
    def __init__(self, order_id, thread):
        self.id = order_id
        records = [tx for tx in thread if tx["transaction"]["metadata"]["id"] == order_id and kind_of(tx)]
        placed = [tx for tx in records if kind_of(tx) == "order" and author_of(tx) == data_of(tx).get("buyer")]
        if not placed:
            raise OrderError(f"no order {order_id} on the ledger")
        self.placed = placed[0]
        self.contract = {k: v for k, v in data_of(self.placed).items() if k not in ("openbazaar", "time")}
        self.buyer, self.vendor = self.contract["buyer"], self.contract["vendor"]
        self.moderator = self.contract.get("moderator")
        self.amount = self.contract["amount"]
        self.payment = next((tx for tx in records if self._is_payment(tx)), None)
        self.confirmation = self._signed(records, "confirmation", self.vendor)
        self.dispute = next((tx for tx in records if kind_of(tx) == "dispute"
                             and author_of(tx) in (self.buyer, self.vendor)), None)
        self.resolution = self._signed(records, "resolution", self.moderator) if self.moderator else None
        self.payout = next((tx for tx in records if self._is_payout(tx)), None)
        self.completion = self.payout if self.moderator else self._signed(records, "completion", self.buyer)
        self.records = records

    # -- what the records must be ---------------------------------------------------

    @property
    def escrow_owners(self):
        return [self.buyer, self.vendor, self.moderator]

    def payee(self):
        """The output the payment must make first: 2-of-3 escrow, or the vendor."""
        return (self.escrow_owners, self.amount, ESCROW_THRESHOLD) if self.moderator else ([self.vendor], self.amount)

    def _is_payment(self, tx):
        body = tx["transaction"]
        if kind_of(tx) != "payment" or body["operation"] != "TRANSFER" \
                or body["asset"]["id"] != self.contract["currency"] or not body["conditions"]:
            return False
        first = body["conditions"][0]
        owners, amount, *threshold = self.payee()
        details = first["condition"]["details"]
        return (first["owners_after"] == owners and first["amount"] == amount
                and (not threshold or details.get("threshold") == threshold[0]))

    def escrow_link(self):
        return {"txid": self.payment["id"], "cid": 0} if self.payment and self.moderator else None

    def _is_payout(self, tx):
        body = tx["transaction"]
        link = self.escrow_link()
        return (link is not None and kind_of(tx) in PAYOUT_STATUS and body["operation"] == "TRANSFER"
                and [f["input"] for f in body["fulfillments"]] == [link])

    @staticmethod
    def _signed(records, kind, author):
        return next((tx for tx in records if kind_of(tx) == kind and author_of(tx) == author), None)

    # -- where it stands ------------------------------------------------------------

    @property
    def status(self):
        if self.payout is not None:
            return PAYOUT_STATUS[kind_of(self.payout)]
        if self.moderator is None and self.completion is not None:
            return COMPLETED
        if self.moderator is None and self._direct_refund() is not None:
            return REFUNDED
        for record, status in ((self.resolution, DISPUTE_CLOSED), (self.dispute, DISPUTED),
                               (self.confirmation, CONFIRMED), (self.payment, FUNDED)):
            if record is not None:
                return status
        return AWAITING_PAYMENT

    def _direct_refund(self):
        return next((tx for tx in self.records if kind_of(tx) == "refund" and self._pays(tx, self.buyer)
                     and tx["transaction"]["asset"]["id"] == self.contract["currency"]), None)

    def _pays(self, tx, guid):
        return sum(c["amount"] for c in tx["transaction"]["conditions"] if c["owners_after"] == [guid]) >= self.amount

    def role_of(self, guid):
        return {self.buyer: "buyer", self.vendor: "vendor", self.moderator: "moderator"}.get(guid)

    def require(self, guid, *roles):
        """OrderError unless ``guid`` is this order's party in one of ``roles``."""
        if self.role_of(guid) not in roles:
            raise OrderError(f"only the {' or '.join(roles)} of order {self.id} may do this")

    def require_status(self, *allowed):
        if self.status not in allowed:
            raise OrderError(f"order {self.id} is {STATUS_NAMES[self.status]}; this needs it "
                             + " or ".join(STATUS_NAMES[s] for s in allowed))

    def summary(self):
        """What get_sales and get_purchases list."""
        return {"order_id": self.id, "title": self.contract["title"], "contract_id": self.contract["listing"],
                "buyer_guid": self.buyer, "vendor_guid": self.vendor, "moderator": self.moderator,
                "quantity": self.contract["quantity"], "price": self.amount, "currency": self.contract["currency"],
                "timestamp": data_of(self.placed)["time"], "status": self.status,
                "status_name": STATUS_NAMES[self.status]}

    def to_dict(self):
        """What get_order answers: the summary, the contract and each step with its transaction."""
        def step(tx):
            return None if tx is None else dict(
                {k: v for k, v in data_of(tx).items() if k != "openbazaar"}, txid=tx["id"])
        return dict(self.summary(), contract=self.contract, payment=step(self.payment),
                    confirmation=step(self.confirmation), dispute=step(self.dispute),
                    resolution=step(self.resolution),
                    payout=step(self.payout) and dict(step(self.payout), kind=kind_of(self.payout)),
                    completion=step(self.completion), refund=step(self._direct_refund()),
                    history=[{"kind": kind_of(tx), "txid": tx["id"], "by": data_of(tx).get("by")}
                             for tx in self.records])
