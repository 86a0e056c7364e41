"""GET /outputs, pages of every list (limit, cursor and the Link header), search, and assets and metadata by id."""

import pytest
import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Metadata, Transaction
from tests.helpers import create_tx, json_error, write_block


def get(url):
    response = requests.get(url)
    assert response.status_code == 200, response.text
    return response


def every_page(url):
    """The items of every page from ``url`` on, following the Link headers; and the pages' sizes."""
    items, sizes = [], []
    while url:
        response = get(url)
        items += response.json()
        sizes.append(len(response.json()))
        url = response.links.get("next", {}).get("url")
    return items, sizes


def ids(items):
    return [item["id"] for item in items]


@pytest.fixture(scope="module")
def alice():
    return generate_key_pair()


def test_outputs_of_a_key_spent_and_unspent(web_node, alice):
    bob = generate_key_pair()
    created = create_tx(alice, amount=5)
    write_block(web_node.ledger, [created], valid=True)
    split = Transaction.transfer(created.to_inputs(), [([bob.public_key], 3), ([alice.public_key], 2)],
                                 created.asset.id).sign([alice.private_key])
    write_block(web_node.ledger, [split])  # UNDECIDED: counted, as GET /transactions?owners_after= counts it
    refused = create_tx(alice)
    write_block(web_node.ledger, [refused], valid=False)
    outputs = f"{web_node.api}/outputs?public_key="

    def held(query):
        return [(o["transaction_id"], o["output_index"], o["amount"]) for o in get(outputs + query).json()]
    assert get(outputs + bob.public_key).json() == [{"transaction_id": split.id, "output_index": 0, "amount": 3,
                                                     "asset_id": created.asset.id, "owners_after": [bob.public_key]}]
    assert held(alice.public_key) == [(created.id, 0, 5), (split.id, 1, 2)]
    assert held(alice.public_key + "&spent=true") == held(alice.public_key + "&unspent=false&limit=1") == [
        (created.id, 0, 5)]
    assert held(alice.public_key + "&spent=FALSE") == [(split.id, 1, 2)]
    assert held(generate_key_pair().public_key) == []
    assert "public_key" in json_error(requests.get(f"{web_node.api}/outputs"), 400)
    assert "public_key" in json_error(requests.get(outputs + "nope"), 400)
    assert "spent" in json_error(requests.get(outputs + bob.public_key + "&spent=maybe"), 400)
    assert "combined" in json_error(requests.get(outputs + bob.public_key + "&spent=true&unspent=false"), 400)


@pytest.fixture(scope="module")
def lists(web_node):
    """Seven of everything, in three blocks (one UNDECIDED), with an INVALID block in between."""
    dave = generate_key_pair()
    tag = Metadata({"note": "tulip season"})
    minted = Transaction.create([dave.public_key], [([dave.public_key], 1)] * 7, asset=Asset({"kind": "coin"},
                                divisible=True), metadata=tag).sign([dave.private_key])
    transfers = [Transaction.transfer(minted.to_inputs([cid]), [([dave.public_key], 1)], minted.asset.id,
                                      metadata=tag).sign([dave.private_key]) for cid in range(6)]
    flowers = [create_tx(dave, data={"title": f"Tulip {n}"}) for n in range(7)]
    write_block(web_node.ledger, [minted, *flowers[:3]], valid=True)
    write_block(web_node.ledger, [create_tx(dave, data={"title": "tulip"}, metadata=tag)], valid=False)
    write_block(web_node.ledger, [*transfers[:3], *flowers[3:5]], valid=True)
    write_block(web_node.ledger, [*transfers[3:], *flowers[5:]])
    in_three = create_tx(generate_key_pair())
    holders = [write_block(web_node.ledger, [in_three, create_tx(generate_key_pair())], valid=valid)
               for valid in (True, False, None)]
    return {"dave": dave, "minted": minted, "transfers": transfers, "flowers": flowers, "tag": tag,
            "in_three": in_three, "holders": holders}


@pytest.mark.parametrize("query", ["/transactions?owners_after={dave}", "/transactions?owners_after={dave}&fulfilled=false",
                                   "/transactions?asset_id={asset}", "/transactions?asset_id={asset}&operation=TRANSFER",
                                   "/transactions?metadata_id={tag}", "/outputs?public_key={dave}",
                                   "/outputs?public_key={dave}&spent=true", "/assets?search=tulip+coin",
                                   "/metadata?search=tulip", "/blocks?tx_id={in_three}"])
def test_pages_of_a_list_join_into_the_whole_list(web_node, lists, query):
    path = query.format(dave=lists["dave"].public_key, asset=lists["minted"].asset.id, tag=lists["tag"].id,
                        in_three=lists["in_three"].id)
    whole = get(web_node.api + path).json()
    assert len(whole) >= 3
    for limit in (1, 2, 5):
        paged, sizes = every_page(f"{web_node.api}{path}&limit={limit}")
        assert paged == whole
        assert all(size == limit for size in sizes[:-1]) and 0 < sizes[-1] <= limit, sizes


def test_a_page_links_to_the_next_with_the_same_query(web_node, lists):
    dave = lists["dave"].public_key
    response = get(f"{web_node.api}/transactions/?owners_after={dave}&fulfilled=false&limit=2")
    link = response.headers["Link"]
    assert link.startswith(f"<{web_node.api}/transactions?") and link.endswith('>; rel="next"')
    following = response.links["next"]["url"]
    for parameter in (f"owners_after={dave}", "fulfilled=false", "limit=2", "cursor="):
        assert parameter in following
    last = get(f"{web_node.api}/transactions?asset_id={lists['minted'].asset.id}&limit=7")
    assert len(last.json()) == 7 and "Link" not in last.headers


def test_what_each_list_holds(web_node, lists):
    dave, minted, transfers, flowers = lists["dave"].public_key, lists["minted"], lists["transfers"], lists["flowers"]
    asset = f"{web_node.api}/transactions?asset_id={minted.asset.id}"
    assert ids(get(asset).json()) == [minted.id, *(tx.id for tx in transfers)]
    assert ids(get(f"{web_node.api}/transactions?owners_after={dave}&fulfilled=true").json()) == [minted.id]
    blocks = get(f"{web_node.api}/blocks?tx_id={lists['in_three'].id}&status=UNDECIDED&limit=1")
    assert ids(blocks.json()) == [lists["holders"][2].id] and "Link" not in blocks.headers
    searched = get(f"{web_node.api}/assets?search=TULIP").json()
    assert searched == [{"id": tx.asset.id, "data": tx.asset.data} for tx in flowers]
    # one a transaction: the tag is on the CREATE and its six TRANSFERs
    assert get(f"{web_node.api}/metadata?search=Season").json() == [{"id": lists["tag"].id,
                                                                      "data": {"note": "tulip season"}}] * 7


def test_search_ranks_what_holds_more_of_the_words_first(web_node):
    owner = generate_key_pair()
    made = [create_tx(owner, data=data) for data in (
        {"title": "a red bike"}, {"title": "Red car", "year": 1999}, {"tags": ["car"], "note": {"deep": ["fast, RED"]}},
        {"title": "blue car"}, {"red": "car"}, {"title": "nothing here"})]
    write_block(web_node.ledger, made, valid=True)
    found = get(f"{web_node.api}/assets?search=red%20CAR").json()
    assert ids(found) == [made[n].asset.id for n in (1, 2, 0, 3, 4)]  # keys are not searched: "red" of made[4]
    assert found[0] == {"id": made[1].asset.id, "data": {"title": "Red car", "year": 1999}}
    assert get(f"{web_node.api}/assets?search=1999").json() == []  # a number, not a string
    assert get(f"{web_node.api}/assets?search=absent").json() == []


def test_an_asset_or_metadata_by_its_id(web_node, alice):
    tx = create_tx(alice, data={"msg": "hello"}, metadata={"planet": "earth"})
    write_block(web_node.ledger, [tx], valid=True)
    assert get(f"{web_node.api}/assets/{tx.asset.id}").json() == {"id": tx.asset.id, "data": {"msg": "hello"}}
    assert get(f"{web_node.api}/metadata/{tx.metadata.id}/").json() == {"id": tx.metadata.id, "data": {"planet": "earth"}}
    refused = create_tx(alice, data={"msg": "no"}, metadata={"x": 1})
    write_block(web_node.ledger, [refused], valid=False)
    assert refused.asset.id in json_error(requests.get(f"{web_node.api}/assets/{refused.asset.id}"), 404)
    assert refused.metadata.id in json_error(requests.get(f"{web_node.api}/metadata/{refused.metadata.id}"), 404)
    assert "asset_id" in json_error(requests.get(f"{web_node.api}/assets/not-a-uuid"), 400)


@pytest.mark.parametrize("path, named", [
    ("/assets", "search"), ("/metadata?search=%20%21", "no word"),
    ("/assets?search=a+b+c+d+e+f+g+h+i", "at most 8"), ("/assets?search=x&limit=0", "limit"),
    ("/assets?search=x&limit=-1", "limit"), ("/metadata?search=x&limit=1e3", "limit"),
    ("/assets?search=x&cursor=WzAsMF0", "cursor"), ("/assets?search=x&cursor=WyJhIl0", "cursor"),
    ("/outputs?public_key={key}&cursor=bm90IGpzb24", "cursor"), ("/blocks?tx_id={zero}&cursor=ImEi", "cursor"),
    ("/votes?block_id={zero}&cursor=Im5vYm9keSI", "cursor"), ("/transactions?limit=3", "owners_after")])
def test_bad_page_and_search_parameters_are_refused_naming_them(web_node, alice, path, named):
    path = path.format(key=alice.public_key, zero="0" * 64)
    status = 404 if named == "owners_after" else 400
    assert named in json_error(requests.get(web_node.api + path), status)


def test_without_a_limit_a_page_holds_100(web_node):
    erin = generate_key_pair()
    made = [create_tx(erin) for _ in range(101)]
    write_block(web_node.ledger, made, valid=True)
    first = get(f"{web_node.api}/outputs?public_key={erin.public_key}")
    assert [item["transaction_id"] for item in first.json()] == [tx.id for tx in made[:100]]
    assert first.links["next"]["url"].startswith(f"{web_node.api}/outputs?public_key={erin.public_key}&cursor=")
    assert [item["transaction_id"] for item in get(first.links["next"]["url"]).json()] == [made[100].id]
    thousand = get(f"{web_node.api}/transactions?owners_after={erin.public_key}&limit=1000")
    assert ids(thousand.json()) == [tx.id for tx in made] and "Link" not in thousand.headers
