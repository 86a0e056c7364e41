"""Pages of a list read while another client posts: no item twice, none skipped, in ledger order."""

import threading
import time

import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Metadata
from tests.helpers import create_tx

PAGE = 3


def post(node, tx):
    response = requests.post(f"{node.api}/transactions", json=tx.to_dict(), timeout=10)
    assert response.status_code == 202, response.text
    return tx


def keys(items):
    """What identifies an item of these lists: a transaction's id, an output's (id, cid), an asset's id."""
    return [(item["transaction_id"], item["output_index"]) if "output_index" in item else item["id"]
            for item in items]


def test_pages_read_while_transactions_arrive_repeat_and_skip_nothing(node):
    owner = generate_key_pair()
    tag = Metadata({"note": "stripes"})
    made = iter(range(10**6))

    def new_transaction():
        return create_tx(owner, data={"title": f"zebra {next(made)}"}, metadata=tag)

    before = [post(node, new_transaction()) for _ in range(2 * PAGE)]
    for tx in before:
        node.wait_for_status(tx.id)
    lists = [f"/outputs?public_key={owner.public_key}", f"/transactions?metadata_id={tag.id}",
             "/assets?search=zebra+stripes"]

    posting, posted = threading.Event(), []

    def poster():  # bursts, so that the block stage, idle in between, closes a block after each
        while not posting.is_set():
            posted.extend(post(node, new_transaction()) for _ in range(3))
            time.sleep(0.6)
    thread = threading.Thread(target=poster)
    thread.start()
    paged = {}
    try:
        for path in lists:
            paged[path], url = [], f"{node.api}{path}&limit={PAGE}"
            while url:
                response = requests.get(url, timeout=10)
                assert response.status_code == 200, response.text
                paged[path] += response.json()
                url = response.links.get("next", {}).get("url")
                time.sleep(0.2)  # the next page is read after a block or so more
    finally:
        posting.set()
        thread.join()
    for tx in posted:
        node.wait_for_status(tx.id)
    grown = False
    for path, items in paged.items():
        whole = requests.get(f"{node.api}{path}&limit=1000", timeout=10).json()
        assert len(keys(items)) == len(set(keys(items))), f"{path}: an item twice"
        assert keys(items) == keys(whole)[:len(items)], f"{path}: an item skipped or out of order"
        assert len(items) >= len(before)
        grown = grown or len(whole) > len(items) > len(before)
    assert grown, "no list grew while its pages were read: the test did not test it"
