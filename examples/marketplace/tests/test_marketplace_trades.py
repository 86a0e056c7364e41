"""Five trades between a buyer, a vendor and a moderator, over HTTP only, with every
balance checked on the ledger after each step (issue 14's "done when")."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bigchaindb.client import BadRequest, MissingPrivateKeyError
from bigchaindb.common.crypto import generate_key_pair
from marketplace import peers
from tests.helpers import wait_until

# one market (node and servers) per test process: keep its tests together under xdist
pytestmark = pytest.mark.xdist_group("marketplace")

PRICE = 100


def balances(market):
    """What each party holds alone, and what sits in 2-of-3 escrow, read from the node."""
    def coins(server):
        return sum(o["amount"] for o in market.bdb.outputs.get(server.guid, unspent=True)
                   if o["asset_id"] == market.currency and o["owners_after"] == [server.guid])
    parties = [market.buyer.guid, market.vendor.guid, market.moderator.guid]
    escrow = sum(o["amount"] for o in market.bdb.outputs.get(market.moderator.guid, unspent=True)
                 if o["asset_id"] == market.currency and o["owners_after"] == parties)
    return {"buyer": coins(market.buyer), "vendor": coins(market.vendor),
            "moderator": coins(market.moderator), "escrow": escrow}


def at_once(*calls):
    """Run the calls concurrently (their transactions share blocks); their answers in order."""
    with ThreadPoolExecutor(len(calls)) as pool:
        return [future.result() for future in [pool.submit(call) for call in calls]]


def status(server, order_id):
    return server.get("get_order", order_id=order_id)["status_name"]


@pytest.fixture(scope="module")
def listing(market):
    return market.vendor.post("contracts", title="Kind of Blue, first pressing", description="Vinyl, 1959",
                              price=PRICE, moderators=market.moderator.guid)["id"]


@pytest.fixture(scope="module")
def trades(market, listing):
    """The trades, step by step, each step's balances checked: the order ids, by how each ended."""
    buyer, vendor, moderator = market.buyer, market.vendor, market.moderator
    start = balances(market)

    def expect(**change):
        assert balances(market) == {party: start[party] + change.get(party, 0) for party in start}

    # six purchases at once: four into 2-of-3 escrow, two straight to the vendor
    orders = at_once(*[lambda moderated=moderated: buyer.post(
        "purchase_contract", id=listing, quantity=1, moderator=moderator.guid if moderated else "")
        for moderated in (True, True, True, True, False, False)])
    assert [o["escrow"] for o in orders] == [True, True, True, True, False, False]
    completed, refunded, for_buyer, for_vendor, direct, direct_refunded = [o["order_id"] for o in orders]
    expect(buyer=-6 * PRICE, escrow=4 * PRICE, vendor=2 * PRICE)
    for order_id in (completed, refunded, for_buyer, for_vendor, direct, direct_refunded):
        assert status(buyer, order_id) == status(vendor, order_id) == "FUNDED"

    # the vendor ships two and refunds one; the buyer disputes one and the vendor another
    at_once(lambda: vendor.post("confirm_order", id=completed, shipper="UPS", tracking_number="1Z999"),
            lambda: vendor.post("refund", order_id=refunded, reason="out of stock"),
            lambda: buyer.post("dispute_contract", order_id=for_buyer, claim="never arrived"),
            lambda: vendor.post("dispute_contract", order_id=for_vendor, claim="delivered, signed for"),
            lambda: vendor.post("confirm_order", id=direct, shipper="DHL"),
            lambda: vendor.post("refund", order_id=direct_refunded))  # from the vendor's own money
    expect(buyer=-4 * PRICE, escrow=3 * PRICE, vendor=PRICE)
    assert [status(buyer, o) for o in (completed, refunded, for_buyer, for_vendor, direct, direct_refunded)] == [
        "CONFIRMED", "REFUNDED", "DISPUTED", "DISPUTED", "CONFIRMED", "REFUNDED"]

    # no party alone moves escrowed money: the node refuses every one-signature spend
    for party in (buyer, vendor, moderator):
        assert_spending_alone_is_refused(market, party, for_buyer)
    expect(buyer=-4 * PRICE, escrow=3 * PRICE, vendor=PRICE)

    # the buyer completes; the moderator rules both disputes (a ruling moves nothing yet)
    at_once(lambda: buyer.post("complete_order", id=completed, rating=5, review="as described"),
            lambda: moderator.post("close_dispute", order_id=for_buyer, winner="buyer",
                                   resolution="no proof of delivery"),
            lambda: moderator.post("close_dispute", order_id=for_vendor, buyer_percentage=0,
                                   resolution="signed for"),
            lambda: buyer.post("complete_order", id=direct, rating=4))
    expect(buyer=-4 * PRICE, escrow=2 * PRICE, vendor=2 * PRICE)
    assert [status(vendor, o) for o in (completed, for_buyer, for_vendor, direct)] == [
        "COMPLETED", "DISPUTE_CLOSED", "DISPUTE_CLOSED", "COMPLETED"]

    # each winner releases the moderator's ruling with its own signature
    at_once(lambda: buyer.post("release_funds", order_id=for_buyer),
            lambda: vendor.post("release_funds", order_id=for_vendor))
    expect(buyer=-3 * PRICE, escrow=0, vendor=3 * PRICE)
    assert status(moderator, for_buyer) == status(moderator, for_vendor) == "RESOLVED"
    # the moderator holds nothing at any point: it can only co-sign
    assert balances(market)["moderator"] == start["moderator"]
    return {completed: "COMPLETED", refunded: "REFUNDED", for_buyer: "RESOLVED", for_vendor: "RESOLVED",
            direct: "COMPLETED", direct_refunded: "REFUNDED"}


def test_six_trades_moderated_refunded_disputed_both_ways_and_direct(market, trades):
    """(the steps and their balances are checked as the ``trades`` fixture makes them)"""
    for server, listed in ((market.vendor, "sales"), (market.buyer, "purchases")):
        statuses = {s["order_id"]: s["status_name"] for s in server.get(f"get_{listed}")[listed]}
        assert statuses.items() >= trades.items()



def assert_spending_alone_is_refused(market, party, order_id):
    """``party`` tries to take the escrow of ``order_id`` with its own key only."""
    bdb = market.bdb
    payment = bdb.transactions.retrieve(party.get("get_order", order_id=order_id)["payment"]["txid"])
    (escrow,) = bdb.transactions.inputs_of(payment, [0])
    assert escrow["owners_before"] == [market.buyer.guid, market.vendor.guid, market.moderator.guid]
    take = {"operation": "TRANSFER", "asset": {"id": market.currency}, "owners_after": [([party.guid], PRICE)]}
    with pytest.raises(MissingPrivateKeyError, match="2 of 3 owners must sign and only 1 can"):
        bdb.transactions.fulfill(bdb.transactions.prepare(inputs=[escrow], **take), party.keypair.private_key,
                                 spent=[payment])
    # past the client: the party signs as if the escrow were its own
    alone = bdb.transactions.fulfill(bdb.transactions.prepare(
        inputs=[dict(escrow, owners_before=[party.guid])], **take), party.keypair.private_key)
    with pytest.raises(BadRequest) as refused:
        bdb.transactions.send(alone)
    condition = payment["transaction"]["conditions"][0]["condition"]["uri"]
    assert refused.value.status_code == 400
    assert refused.value.message == f"fulfillment 0 does not meet the condition it spends ({condition})"


def test_a_wiped_server_rebuilds_its_sales_and_purchases_from_the_ledger(market, trades):
    buyer, vendor = market.buyer, market.vendor
    sales, purchases = vendor.get("get_sales")["sales"], buyer.get("get_purchases")["purchases"]
    assert len(sales) >= len(trades) and {s["order_id"] for s in sales} == {p["order_id"] for p in purchases}
    orders = {s["order_id"]: vendor.get("get_order", order_id=s["order_id"]) for s in sales}
    at_once(buyer.stop, vendor.stop)  # nothing of theirs but the configuration survives
    at_once(buyer.start, vendor.start)
    assert vendor.get("get_sales")["sales"] == sales
    assert buyer.get("get_purchases")["purchases"] == purchases
    assert {order_id: buyer.get("get_order", order_id=order_id) for order_id in orders} == orders
    assert market.moderator.get("get_cases")["cases"] == [dict(s) for s in sales if s["moderator"]]


def test_notifications_tell_each_party_what_the_others_did(market, trades):
    def types(server):
        notifications = server.get("notifications")["notifications"]
        if not {n["order_id"] for n in notifications} >= set(trades):
            return set()  # not yet told of every trade
        return {n["type"] for n in notifications}
    # a party's server learns of the others' records from the node's stream, a moment after they are
    # valid (a server just restarted, by the test above, first replays its whole history)
    wait_until(lambda: {"confirmation", "refund", "resolution", "dispute", "release"} <= types(market.buyer), 30,
               "the buyer was not told")
    wait_until(lambda: {"order", "payment", "dispute", "completion", "resolution"} <= types(market.vendor), 30,
               "the vendor was not told")
    buyer = market.buyer.get("notifications")
    assert all(n["guid"] != market.buyer.guid for n in buyer["notifications"])
    assert buyer["unread"] == len(buyer["notifications"])
    first = buyer["notifications"][0]["id"]
    market.buyer.post("mark_notification_as_read", id=first)
    assert market.buyer.get("notifications")["unread"] == buyer["unread"] - 1


@pytest.mark.parametrize("route", ["profile", "get_listings", "get_sales", "get_purchases", "get_order",
                                   "notifications", "contracts"])
def test_every_route_but_login_needs_a_session(market, route):
    for cookies in ({}, {"TWISTED_SESSION": "forged"}):
        for method in ("GET", "POST"):
            response = requests.request(method, f"{market.buyer.api}/{route}", cookies=cookies)
            assert response.status_code == 401
            assert response.json() == {"success": False, "reason": "not logged in: POST /api/v1/login first"}
    wrong = requests.post(f"{market.buyer.api}/login", data={"username": "buyer", "password": "guess"})
    assert wrong.status_code == 401 and wrong.json()["success"] is False


def test_the_peer_route_takes_only_messages_signed_by_an_order_s_party(market, trades):
    vendor = market.vendor
    unsigned = requests.post(f"{vendor.api}/cosign", json={"recipient": vendor.guid, "order_id": "x"})
    assert unsigned.status_code == 401 and "not signed" in unsigned.json()["reason"]
    sale = vendor.get("get_sales")["sales"][0]["order_id"]
    with pytest.raises(peers.PeerError, match="the peer refused: only the buyer and the vendor co-sign"):
        peers.send(f"{vendor.api}/cosign", generate_key_pair(), vendor.guid, {"order_id": sale})
    with pytest.raises(peers.PeerError, match="addressed to another participant"):
        peers.send(f"{vendor.api}/cosign", market.buyer.keypair, market.moderator.guid, {"order_id": sale})


def test_requests_the_market_cannot_serve_are_refused_with_a_reason(market, listing, trades):
    buyer, vendor = market.buyer, market.vendor

    def refused(server, route, status, reason, method="post", **fields):
        response = getattr(server.session, method)(f"{server.api}/{route}",
                                                   **({"data": fields} if method == "post" else {"params": fields}))
        assert response.status_code == status, response.text
        assert response.json()["success"] is False and reason in response.json()["reason"], response.json()

    refused(buyer, "purchase_contract", 404, "no listing", id="f" * 64)
    refused(buyer, "purchase_contract", 404, "no listing", id="not an id")
    refused(buyer, "purchase_contract", 400, "parameter id is required")
    refused(buyer, "purchase_contract", 400, "quantity must be a whole number", id=listing, quantity="two")
    refused(buyer, "purchase_contract", 400, "is not a moderator of listing", id=listing, moderator=buyer.guid)
    refused(vendor, "purchase_contract", 400, "cannot buy its own listing", id=listing)
    refused(vendor, "contracts", 400, "price must be a whole number", title="x", price="cheap")
    refused(buyer, "get_order", 404, "no order", method="get", order_id="6b1f7a2c-3d4e-4f50-8a6b-7c8d9e0f1a2b")
    refused(buyer, "get_order", 400, "order_id", method="get", order_id="nope")
    refused(buyer, "profile", 404, "no profile for guid", method="get", guid=generate_key_pair().public_key)
    sale = vendor.get("get_sales")["sales"][0]["order_id"]
    refused(buyer, "confirm_order", 409, "only the vendor of order", id=sale)
    refused(vendor, "release_funds", 409, "needs it DISPUTE_CLOSED", order_id=sale)
