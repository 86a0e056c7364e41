"""Five trades between a buyer, a vendor and a moderator, over HTTP only, with every
balance checked on the ledger after each step (issue 14's "done when")."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bigchaindb.client import BadRequest

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


def test_five_trades_moderated_refunded_disputed_both_ways_and_direct(market, listing):
    buyer, vendor, moderator = market.buyer, market.vendor, market.moderator
    start = balances(market)

    def expect(**change):
        assert balances(market) == {party: start[party] + change.get(party, 0) for party in start}

    # five purchases at once: four into 2-of-3 escrow, one straight to the vendor
    orders = at_once(*[lambda moderated=moderated: buyer.post(
        "purchase_contract", id=listing, quantity=1, moderator=moderator.guid if moderated else "")
        for moderated in (True, True, True, True, False)])
    assert [o["escrow"] for o in orders] == [True, True, True, True, False]
    completed, refunded, for_buyer, for_vendor, direct = [o["order_id"] for o in orders]
    expect(buyer=-5 * PRICE, escrow=4 * PRICE, vendor=PRICE)
    for order_id in (completed, refunded, for_buyer, for_vendor, direct):
        assert status(buyer, order_id) == status(vendor, order_id) == "FUNDED"

    # the vendor ships two and refunds one; the buyer disputes one and the vendor another
    at_once(lambda: vendor.post("confirm_order", id=completed, shipper="UPS", tracking_number="1Z999"),
            lambda: vendor.post("refund", order_id=refunded, reason="out of stock"),
            lambda: buyer.post("dispute_contract", order_id=for_buyer, claim="never arrived"),
            lambda: vendor.post("dispute_contract", order_id=for_vendor, claim="delivered, signed for"),
            lambda: vendor.post("confirm_order", id=direct, shipper="DHL"))
    expect(buyer=-4 * PRICE, escrow=3 * PRICE, vendor=PRICE)
    assert [status(buyer, o) for o in (completed, refunded, for_buyer, for_vendor, direct)] == [
        "CONFIRMED", "REFUNDED", "DISPUTED", "DISPUTED", "CONFIRMED"]

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

    sales = vendor.get("get_sales")["sales"]
    assert {s["order_id"]: s["status_name"] for s in sales}.items() >= {
        completed: "COMPLETED", refunded: "REFUNDED", for_buyer: "RESOLVED", for_vendor: "RESOLVED",
        direct: "COMPLETED"}.items()

