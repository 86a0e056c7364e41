"""One participant's marketplace server: OpenBazaar-Server 1.x's REST API over this node's ledger.

``create_app(config)`` builds the Flask app of one participant (a store, a
shopper or a moderator).  Every route but ``/login`` and the peer route
``/cosign`` needs the session cookie ``/login`` sets; every answer to a
change is ``{"success": true, ...}`` or ``{"success": false, "reason": ...}``.
What the server knows beyond its configuration (keypair, username,
password, node, currency) it reads from the ledger, so a wiped server is
whole again as soon as it restarts.
"""

import secrets
import threading
import uuid

from flask import Flask, jsonify, request

from bigchaindb.client import BigchaindbException
from bigchaindb.common.crypto import CryptoKeypair
from bigchaindb.common.exceptions import ValidationError
from bigchaindb.common.utils import flatten
from marketplace import peers
from marketplace.ledger import KIND, Ledger, LedgerError, author_of, data_of, kind_of, thread_id
from marketplace.orders import (
    CONFIRMED,
    DISPUTE_CLOSED,
    DISPUTED,
    FUNDED,
    Order,
    OrderError,
)

API = "/api/v1"
SESSION_COOKIE = "TWISTED_SESSION"  # OpenBazaar-Server's name for it
PROFILE_FIELDS = ("name", "handle", "about", "location", "website", "email", "moderator", "moderation_fee")
NOTIFIED = {"order": "new order", "payment": "payment received", "confirmation": "order confirmed",
            "completion": "order completed", "dispute": "dispute opened", "resolution": "dispute closed",
            "refund": "refund", "release": "funds released"}


class Refused(Exception):
    """A request the server answers ``success: false``, with ``status``."""

    def __init__(self, reason, status=400):
        super().__init__(reason)
        self.reason, self.status = reason, status


class Market:
    """This participant's operations; the routes below are thin over them."""

    def __init__(self, config):
        keypair = config["keypair"]
        self.keypair = CryptoKeypair(keypair["private"], keypair["public"])
        self.guid = self.keypair.public_key
        self.ledger = Ledger(config["node"], self.keypair, config["currency"])
        self.url = config["public_url"]
        self.read_notifications = set()
        self.notes = []  # notifications, oldest first, as the stream brings them
        self.record_assets = set()  # assets of order records other than the order itself: not orders
        self._profile_lock = threading.Lock()  # a version spends the one before: one at a time
        self.ledger.follow(self.on_valid)

    # -- profile and listings ------------------------------------------------------

    def profile(self, guid=None):
        guid = guid or self.guid
        found = self.ledger.profile(guid)
        if found is None:
            raise Refused(f"no profile for guid {guid} on the ledger", 404)
        return dict(found[1], guid=guid)

    def set_profile(self, fields):
        """A new version of this participant's profile: its first CREATE, or a TRANSFER to itself."""
        with self._profile_lock:
            return self._set_profile(fields)

    def _set_profile(self, fields):
        found = self.ledger.profile(self.guid)
        profile = dict(found[1] if found else {}, server=self.url)
        profile.update({k: fields[k] for k in PROFILE_FIELDS if k in fields})
        if "moderator" in profile:
            profile["moderator"] = _flag(profile["moderator"])
        data = {KIND: "profile", "by": self.guid, "profile": profile}
        topic = thread_id(self.guid, "profile")
        if found is None:
            tx = self.ledger.record(topic, data)
        else:
            previous = found[0]
            tx = self.ledger.transfer(self.ledger.bdb.transactions.inputs_of(previous),
                                      previous["transaction"]["asset"]["id"], [([self.guid], 1)], topic, data,
                                      private_keys=self.keypair.private_key)
        self.ledger.send(tx)
        return tx["id"]

    def ensure_profile(self, fields):
        """Publish this server's address in its profile (first made of ``fields``) unless the ledger
        has it already."""
        found = self.ledger.profile(self.guid)
        if found is None or found[1].get("server") != self.url:
            self.set_profile({} if found else fields)

    def add_listing(self, fields):
        try:
            price = int(fields["price"])
        except (KeyError, ValueError):
            raise Refused("price must be a whole number of units of the currency") from None
        if price < 1 or not fields.get("title"):
            raise Refused("a listing needs a title and a price of at least 1")
        moderators = _listed(fields.get("moderators"))
        for moderator in moderators:
            if not self.profile(moderator).get("moderator"):
                raise Refused(f"{moderator} is not a moderator")
        data = {KIND: "listing", "by": self.guid, "title": fields["title"],
                "description": fields.get("description", ""), "price": price,
                "currency": self.ledger.currency, "moderators": moderators}
        tx = self.ledger.record(thread_id(self.guid, "listings"), data, asset=data)
        self.ledger.send(tx)
        return tx["id"]

    def listing(self, contract_id):
        tx = self.ledger.transaction(contract_id)
        if tx is None or kind_of(tx) != "listing" or author_of(tx) != data_of(tx)["by"]:
            raise Refused(f"no listing {contract_id} on the ledger", 404)
        return dict({k: v for k, v in tx["transaction"]["asset"]["data"].items() if k not in (KIND, "by")},
                    id=tx["id"], vendor_guid=author_of(tx))

    def listings(self, guid=None):
        return [self.listing(tx["id"]) for tx in self.ledger.listings(guid or self.guid)]

    # -- orders ----------------------------------------------------------------------

    def order(self, order_id):
        try:
            order = Order(order_id, self.ledger.thread(order_id))
        except OrderError as exc:
            raise Refused(str(exc), 404) from None
        except BigchaindbException as exc:
            raise Refused(f"order_id: {exc}", 400) from None
        if order.role_of(self.guid) is None:
            raise Refused(f"order {order_id} is not one of this participant's", 404)
        return order

    def orders(self, *roles):
        """This participant's orders in ``roles``, read from the ledger: those whose order record
        it is an owner of (others may name it in records of their own: they do not count)."""
        candidates = [asset for asset in self.ledger.shared_assets() if asset not in self.record_assets]
        found = []
        for order_id, thread in zip(candidates, self.ledger.threads(candidates)):
            try:
                order = Order(order_id, thread)
            except OrderError:
                continue
            self.record_assets.update(tx["transaction"]["asset"]["id"] for tx in order.records
                                      if tx["transaction"]["operation"] == "CREATE" and tx is not order.placed)
            if order.placed["transaction"]["asset"]["id"] == order_id and order.role_of(self.guid) in roles:
                found.append(order)
        return found

    def purchase(self, fields):
        listing = self.listing(_required(fields, "id"))
        vendor = listing["vendor_guid"]
        if vendor == self.guid:
            raise Refused("a vendor cannot buy its own listing")
        quantity = _whole(fields.get("quantity", 1), "quantity")
        moderator = fields.get("moderator") or None
        if moderator is not None and moderator not in listing["moderators"]:
            raise Refused(f"{moderator} is not a moderator of listing {listing['id']}")
        for party in (vendor, moderator):
            if party is not None:
                self.profile(party)  # the other servers must be reachable through their profiles
        order_id = str(uuid.uuid4())
        parties = [self.guid, vendor] + ([moderator] if moderator else [])
        contract = {KIND: "order", "by": self.guid, "listing": listing["id"], "title": listing["title"],
                    "buyer": self.guid, "vendor": vendor, "moderator": moderator, "quantity": quantity,
                    "price": listing["price"], "amount": listing["price"] * quantity,
                    "currency": listing["currency"], "ship_to": fields.get("ship_to", ""),
                    "address": fields.get("address", "")}
        if listing["currency"] != self.ledger.currency:
            raise Refused("the listing is priced in another currency than this server pays with")
        placed = self.ledger.record(order_id, contract, owners_after=[(parties, 1, 1)], asset_id=order_id)
        order = Order(order_id, [placed])
        payment = self._ledger_call(self.ledger.pay, order.amount, [order.payee()], order_id,
                                    {KIND: "payment", "by": self.guid})
        try:
            self.ledger.send(placed, payment)
        except (LedgerError, BigchaindbException) as exc:
            self.ledger.release(payment)
            raise Refused(f"the ledger refused the purchase: {exc}") from None
        return {"order_id": order_id, "amount": order.amount, "payment_txid": payment["id"],
                "escrow": moderator is not None}

    def confirm(self, fields):
        order = self.order(_required(fields, "id", "order_id"))
        order.require(self.guid, "vendor")
        order.require_status(FUNDED)
        note = {k: fields.get(k, "") for k in ("shipper", "tracking_number", "comments")}
        return self._record(order, dict(note, **{KIND: "confirmation"}))

    def complete(self, fields):
        order = self.order(_required(fields, "id", "order_id"))
        order.require(self.guid, "buyer")
        order.require_status(FUNDED, CONFIRMED)
        review = {k: fields.get(k, "") for k in ("rating", "review")}
        if not order.moderator:
            return self._record(order, dict(review, **{KIND: "completion"}))
        return self._cosigned_payout(order, "completion", order.vendor, review)

    def refund(self, fields):
        order = self.order(_required(fields, "id", "order_id"))
        order.require(self.guid, "vendor")
        order.require_status(FUNDED, CONFIRMED, DISPUTED)
        note = {"reason": fields.get("reason", "")}
        if order.moderator:
            return self._cosigned_payout(order, "refund", order.buyer, note)
        payment = self._ledger_call(self.ledger.pay, order.amount, [([order.buyer], order.amount)], order.id,
                                    dict(note, **{KIND: "refund", "by": self.guid}))
        return self._send(payment)

    def dispute(self, fields):
        order = self.order(_required(fields, "order_id", "id"))
        order.require(self.guid, "buyer", "vendor")
        if not order.moderator:
            raise Refused("a direct purchase has no moderator to dispute it with")
        order.require_status(FUNDED, CONFIRMED)
        return self._record(order, {KIND: "dispute", "claim": fields.get("claim", "")})

    def close_dispute(self, fields):
        """The moderator's ruling: the escrow split between buyer and vendor, signed by the moderator
        alone and written on the ledger; the party paid calls ``release_funds`` to add its signature."""
        order = self.order(_required(fields, "order_id", "id"))
        order.require(self.guid, "moderator")
        order.require_status(DISPUTED)
        buyer_share = _share(fields, order.amount)
        payees = [(party, amount) for party, amount in ((order.buyer, buyer_share),
                                                        (order.vendor, order.amount - buyer_share)) if amount]
        payout = self._payout(order, "release", payees, {})
        ruling = {KIND: "resolution", "resolution": fields.get("resolution", ""), "buyer_amount": buyer_share,
                  "vendor_amount": order.amount - buyer_share, "payout": payout,
                  "signatures": self.ledger.bdb.transactions.sign_partially(payout, self.keypair.private_key)}
        return self._record(order, ruling)

    def release_funds(self, fields):
        order = self.order(_required(fields, "order_id", "id"))
        order.require(self.guid, "buyer", "vendor")
        order.require_status(DISPUTE_CLOSED)
        ruling = data_of(order.resolution)
        try:
            signed = self.ledger.bdb.transactions.fulfill(ruling["payout"], self.keypair.private_key,
                                                          signatures=ruling["signatures"], spent=[order.payment])
        except (BigchaindbException, ValidationError) as exc:
            raise Refused(f"the moderator's payout cannot be signed: {exc}") from None
        return self._send(signed)

    def cosign(self, sender, message):
        """A peer's half-signed payout of an order's escrow: add this participant's signature and
        post it, when it pays this participant the whole escrow and the peer is the order's other party."""
        order = self.order(_required(message, "order_id"))
        wanted = {order.vendor: "completion", order.buyer: "refund"}.get(self.guid)
        if wanted is None or order.role_of(sender) not in ("buyer", "vendor") or sender == self.guid:
            raise Refused("only the buyer and the vendor co-sign each other's payouts", 403)
        tx = message.get("transaction")
        expected = self._payout(order, wanted, [(self.guid, order.amount)], {})
        if not isinstance(tx, dict) or not _same_payout(tx, expected):
            raise Refused(f"the transaction is not a {wanted} paying this participant the escrow of the order")
        handed = message.get("signatures") or [{}]
        if not isinstance(handed, list) or sender not in handed[0]:
            raise Refused("the transaction does not carry the sender's signature")
        try:
            signed = self.ledger.bdb.transactions.fulfill(tx, self.keypair.private_key, signatures=handed,
                                                          spent=[order.payment])
        except (BigchaindbException, ValidationError) as exc:
            raise Refused(f"the signatures handed over do not sign this transaction: {exc}") from None
        return self._send(signed)

    # -- notifications ------------------------------------------------------------

    def on_valid(self, tx):
        """A valid transaction concerning this participant, from the node's stream: a notification
        when another party wrote it in one of its orders."""
        kind = kind_of(tx)
        if kind is None:
            return
        body, by = tx["transaction"], data_of(tx).get("by")
        if body["operation"] == "CREATE" and kind != "order":
            self.record_assets.add(body["asset"]["id"])
        signers = ([author_of(tx)] if body["operation"] == "CREATE"
                   else [key for f in body["fulfillments"] for key in flatten(f["owners_before"])])
        if kind in NOTIFIED and by != self.guid and by in signers:
            self.notes.append({"id": tx["id"], "type": kind, "title": NOTIFIED[kind],
                               "order_id": body["metadata"]["id"], "guid": by, "timestamp": data_of(tx)["time"]})

    def notifications(self):
        """What others did in this participant's orders, newest first."""
        return [dict(note, read=note["id"] in self.read_notifications) for note in reversed(self.notes)]

    # -- helpers ---------------------------------------------------------------------

    def _record(self, order, data):
        """A record of this participant's in ``order``, owned by (addressed to) all its parties."""
        parties = [party for party in order.escrow_owners if party]
        return self._send(self.ledger.record(order.id, dict(data, by=self.guid), owners_after=[(parties, 1, 1)]))

    def _send(self, tx):
        try:
            self.ledger.send(tx)
        except (LedgerError, BigchaindbException) as exc:
            if tx["transaction"]["operation"] == "TRANSFER":
                self.ledger.release(tx)
            raise Refused(f"the ledger refused it: {exc}") from None
        return {"txid": tx["id"]}

    def _payout(self, order, kind, payees, note):
        """The unsigned TRANSFER of the order's escrow to ``payees`` (``[(guid, amount)]``)."""
        escrow = {"owners_before": order.escrow_owners, "input": order.escrow_link(), "fulfillment": None}
        return self.ledger.transfer([escrow], self.ledger.currency, [([guid], amount) for guid, amount in payees],
                                    order.id, dict(note, **{KIND: kind, "by": self.guid}))

    def _cosigned_payout(self, order, kind, payee, note):
        """Pay the escrow to ``payee``, the order's other party, who adds its signature to this one's."""
        payout = self._payout(order, kind, [(payee, order.amount)], note)
        signatures = self.ledger.bdb.transactions.sign_partially(payout, self.keypair.private_key)
        server = self.profile(payee).get("server")
        try:
            answer = peers.send(f"{server}{API}/cosign", self.keypair, payee,
                                {"order_id": order.id, "transaction": payout, "signatures": signatures})
        except peers.PeerError as exc:
            raise Refused(str(exc), 502) from None
        self.ledger.wait_valid([answer["txid"]])
        return {"txid": answer["txid"]}

    @staticmethod
    def _ledger_call(function, *args):
        try:
            return function(*args)
        except LedgerError as exc:
            raise Refused(str(exc)) from None


def _same_payout(tx, expected):
    """True when ``tx`` is ``expected`` but for its metadata's own notes (time, rating, ...)."""
    try:
        body, want = tx["transaction"], expected["transaction"]
        return (body["operation"] == want["operation"] and body["asset"] == want["asset"]
                and body["fulfillments"] == want["fulfillments"] and body["conditions"] == want["conditions"]
                and body["metadata"]["id"] == want["metadata"]["id"]
                and body["metadata"]["data"].get(KIND) == want["metadata"]["data"][KIND])
    except (KeyError, TypeError, AttributeError):
        return False


def _required(fields, *names):
    for name in names:
        if fields.get(name):
            return fields[name]
    raise Refused(f"parameter {names[0]} is required")


def _whole(value, name):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise Refused(f"{name} must be a whole number") from None
    if number < 1:
        raise Refused(f"{name} must be at least 1")
    return number


def _share(fields, amount):
    """The buyer's part of the escrow a ruling gives: ``buyer_percentage`` (0 to 100), or all of it
    to ``winner`` ("buyer" or "vendor")."""
    winner = fields.get("winner")
    if winner in ("buyer", "vendor"):
        return amount if winner == "buyer" else 0
    try:
        percentage = float(fields["buyer_percentage"])
    except (KeyError, TypeError, ValueError):
        raise Refused("give winner (buyer or vendor) or buyer_percentage (0 to 100)") from None
    if not 0 <= percentage <= 100:
        raise Refused("buyer_percentage must be between 0 and 100")
    return round(amount * percentage / 100)


def _flag(value):
    return value is True or str(value).lower() in ("true", "1", "yes")


def _listed(value):
    if not value:
        return []
    return list(value) if isinstance(value, list) else [v for v in str(value).split(",") if v]


def create_app(config):
    """The Flask app of the participant ``config`` describes (see ``marketplace.__main__``)."""
    app = Flask(__name__)
    market = Market(config)
    sessions, lock = set(), threading.Lock()
    app.extensions["market"] = market

    def fields():
        given = request.get_json(silent=True) if request.is_json else None
        values = dict(request.args.items())
        values.update({k: (v[0] if len(v) == 1 else v) for k, v in request.form.lists()})
        values.update(given if isinstance(given, dict) else {})
        return values

    def answer(result=None, status=200):
        return jsonify(dict(result or {}, success=True)), status

    @app.errorhandler(Refused)
    def refused(exc):
        return jsonify(success=False, reason=exc.reason), exc.status

    @app.errorhandler(OrderError)
    def order_refused(exc):
        return jsonify(success=False, reason=str(exc)), 409

    @app.errorhandler(404)
    @app.errorhandler(405)
    def http_error(exc):
        return jsonify(success=False, reason=exc.description), exc.code

    @app.before_request
    def authenticate():
        if request.endpoint in ("login", "cosign") or request.method == "OPTIONS":
            return None
        with lock:
            if request.cookies.get(SESSION_COOKIE) not in sessions:
                return jsonify(success=False, reason="not logged in: POST /api/v1/login first"), 401
        return None

    @app.post(f"{API}/login", endpoint="login")
    def login():
        given = fields()
        if not (secrets.compare_digest(str(given.get("username", "")), config["username"])
                and secrets.compare_digest(str(given.get("password", "")), config["password"])):
            return jsonify(success=False, reason="invalid username or password"), 401
        token = secrets.token_urlsafe(32)
        with lock:
            sessions.add(token)
        response, status = answer()
        response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict")
        return response, status

    @app.get(f"{API}/profile")
    def get_profile():
        return jsonify(profile=market.profile(request.args.get("guid")))

    @app.post(f"{API}/profile")
    def post_profile():
        return answer({"txid": market.set_profile(fields())})

    @app.get(f"{API}/contracts")
    def get_contract():
        return jsonify(vendor_offer=market.listing(_required(request.args, "id")))

    @app.post(f"{API}/contracts")
    def post_contract():
        return answer({"id": market.add_listing(fields())})

    @app.get(f"{API}/get_listings")
    def get_listings():
        return jsonify(listings=market.listings(request.args.get("guid")))

    routes = {"purchase_contract": market.purchase, "confirm_order": market.confirm,
              "complete_order": market.complete, "refund": market.refund, "dispute_contract": market.dispute,
              "close_dispute": market.close_dispute, "release_funds": market.release_funds}
    for name, action in routes.items():
        app.add_url_rule(f"{API}/{name}", name, lambda action=action: answer(action(fields())), methods=["POST"])

    @app.get(f"{API}/get_sales")
    def get_sales():
        return jsonify(sales=[order.summary() for order in market.orders("vendor")])

    @app.get(f"{API}/get_purchases")
    def get_purchases():
        return jsonify(purchases=[order.summary() for order in market.orders("buyer")])

    @app.get(f"{API}/get_cases")
    def get_cases():
        return jsonify(cases=[order.summary() for order in market.orders("moderator")])

    @app.get(f"{API}/get_order")
    def get_order():
        return jsonify(market.order(_required(request.args, "order_id", "id")).to_dict())

    @app.get(f"{API}/notifications")
    def notifications():
        found = market.notifications()
        return jsonify(notifications=found, unread=sum(not n["read"] for n in found))

    @app.post(f"{API}/mark_notification_as_read")
    def mark_notification_as_read():
        market.read_notifications.add(_required(fields(), "id"))
        return answer()

    @app.post(f"{API}/cosign", endpoint="cosign")
    def cosign():
        try:
            sender, message = peers.received(request, market.guid)
        except peers.PeerError as exc:
            raise Refused(str(exc), 401) from None
        return answer(market.cosign(sender, message))

    return app
