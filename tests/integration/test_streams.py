"""The event streams of a real node, over real sockets: WebSocket and server-sent events.

One node per engine serves the whole module (its store grows from test to
test; every test reads only what it wrote, or replays from positions it
took).  Heartbeats and buffers are small (tests.integration.streams).
"""

import json
import time

import pytest
import requests
from websockets.sync.client import connect

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from bigchaindb.backend import connect as connect_store
from tests.engines import ENGINES, fresh_store
from tests.integration.node import Node
from tests.integration.streams import BUFFER, CLOSE, HEARTBEAT, PING, SETTINGS, TEXT, RawWebSocket, sse

ALICE, BOB, CAROL = generate_key_pair(), generate_key_pair(), generate_key_pair()


@pytest.fixture(scope="module", params=ENGINES)
def node(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp(f"streams-{request.param}")
    with fresh_store(request.param, directory, request) as database:
        started = Node(str(directory), "node", database, streams=SETTINGS).start()
        yield started
        started.stop()


def create(owner=ALICE, data=None):
    return Transaction.create([owner.public_key], [([owner.public_key], 1)], Asset(data or {})).sign(
        [owner.private_key])


def transfer(tx, owner, recipient):
    return Transaction.transfer(tx.to_inputs(), [([recipient.public_key], 1)], tx.asset.id).sign([owner.private_key])


def accepted(node, *txs):
    for tx in txs:
        response = node.post(tx.to_dict())
        assert response.status_code == 202, response.text
    return [tx.id for tx in txs]


def valid(node, *txs):
    ids = accepted(node, *txs)
    for tx_id in ids:
        node.wait_for_status(tx_id, "valid")
    return ids


def received(websocket, count, timeout=30):
    return [json.loads(websocket.recv(timeout=timeout)) for _ in range(count)]


def first_where(websocket, wanted, most=10):
    """The first message for which ``wanted(message)`` is true.  A client that
    connects without a position starts where the server's reader is, which
    may lag the store by an event or two that the previous test made: those
    are passed over."""
    for _ in range(most):
        message = received(websocket, 1)[0]
        if wanted(message):
            return message
    raise AssertionError(f"no message wanted among the first {most}")


def about(tx_or_block_id):
    return lambda message: tx_or_block_id in (message.get("transaction_id"), message.get("block_id"),
                                              message.get("vote", {}).get("vote", {}).get("voting_for_block"))


def valid_block_of(node, tx_id):
    blocks = requests.get(f"{node.api}/blocks", params={"tx_id": tx_id, "status": "VALID"}).json()
    assert len(blocks) == 1, blocks
    return blocks[0]


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
def test_the_api_links_the_streams(node):
    links = requests.get(f"{node.api}/").json()["_links"]["streams"]
    assert links == {name: f"{node.streams}/{name}" for name in ("valid_transactions", "blocks", "votes")}


def test_valid_transactions_arrive_in_ledger_order_with_their_block(node):
    alice_asset = create(ALICE, {"n": 1})
    with connect(f"{node.streams}/valid_transactions") as websocket:
        valid(node, alice_asset)
        to_bob = transfer(alice_asset, ALICE, BOB)
        others = [create(CAROL, {"n": n}) for n in range(3)]
        accepted(node, to_bob, *others)
        events = [first_where(websocket, about(alice_asset.id)), *received(websocket, 4)]
    ids = [event["transaction_id"] for event in events]
    assert sorted(ids) == sorted(tx.id for tx in (alice_asset, to_bob, *others))
    assert ids[0] == alice_asset.id  # valid before the others were even posted
    for event in events:
        assert set(event) == {"transaction_id", "asset_id", "block_id", "position"}
        assert event["block_id"] == valid_block_of(node, event["transaction_id"])["id"]
    by_id = {event["transaction_id"]: event for event in events}
    assert by_id[to_bob.id]["asset_id"] == by_id[alice_asset.id]["asset_id"] == alice_asset.asset.id
    # the ledger's order: what a replay from the start of the ledger gives, position for position
    replayed = sse(f"{node.streams}/valid_transactions?since=0")
    positions = [event["id"] for event in replayed]
    assert [event["position"] for event in events] == positions[positions.index(events[0]["position"]):][:5]
    assert [event["data"]["transaction_id"] for event in replayed[-5:]] == ids


def test_server_sent_events_resume_after_a_position_then_go_live(node):
    txs = [create(CAROL, {"resume": n}) for n in range(4)]
    valid(node, *txs)
    everything = sse(f"{node.streams}/valid_transactions?since=0")
    mine = [event for event in everything if event["data"]["transaction_id"] in {tx.id for tx in txs}]
    assert len(mine) == 4
    start = everything.index(mine[1])
    after = sse(f"{node.streams}/valid_transactions?since={mine[1]['id']}")
    assert after == everything[start + 1:]
    # an EventSource reconnecting sends Last-Event-ID, which wins over the since of its URL
    assert sse(f"{node.streams}/valid_transactions?since=0", headers={"Last-Event-ID": mine[2]["id"]}) \
        == everything[start + 2:]
    # from the last one: nothing repeated, then the next live one
    later = create(CAROL, {"resume": "later"})
    accepted(node, later)
    live = sse(f"{node.streams}/valid_transactions?since={everything[-1]['id']}", count=1)
    assert live[0]["data"]["transaction_id"] == later.id


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
def test_filters_by_asset_key_and_operation(node):
    alice_asset, carol_asset = create(ALICE, {"filters": 1}), create(CAROL, {"filters": 2})
    valid(node, alice_asset, carol_asset)
    to_bob = transfer(alice_asset, ALICE, BOB)
    valid(node, to_bob)
    start = sse(f"{node.streams}/valid_transactions?since=0")[-4]["id"]  # before these three

    def ids(**filters):
        query = "&".join(f"{name}={value}" for name, value in filters.items())
        return [event["data"]["transaction_id"]
                for event in sse(f"{node.streams}/valid_transactions?since={start}&{query}")]
    asset_id = alice_asset.asset.id
    assert ids(asset_id=asset_id) == [alice_asset.id, to_bob.id]
    assert ids(public_key=BOB.public_key) == [to_bob.id]  # an output to bob
    assert ids(public_key=ALICE.public_key) == [alice_asset.id, to_bob.id]  # to alice, then an input from her
    assert ids(operation="TRANSFER") == [to_bob.id]
    assert ids(operation="CREATE", public_key=CAROL.public_key) == [carol_asset.id]


def test_blocks_and_votes_streams(node):
    tx = create(ALICE, {"blocks": 1})
    with connect(f"{node.streams}/blocks") as blocks, connect(f"{node.streams}/votes") as votes:
        valid(node, tx)
        block = valid_block_of(node, tx.id)
        decided = first_where(blocks, about(block["id"]))
        vote = first_where(votes, about(block["id"]))
    assert decided == {"block_id": block["id"], "status": "VALID", "transactions": [tx.id],
                       "position": decided["position"]}
    assert vote["vote"]["vote"]["voting_for_block"] == block["id"]
    assert vote["vote"]["node_pubkey"] == node.public_key
    assert vote["vote"] in requests.get(f"{node.api}/votes", params={"block_id": block["id"]}).json()
    # the whole ledger from the start: the genesis block first, every block once
    history = [event["data"] for event in sse(f"{node.streams}/blocks?since=0")]
    assert history[-1] == decided
    assert len({event["block_id"] for event in history}) == len(history)
    assert all(event["status"] == "VALID" for event in history)


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
@pytest.mark.parametrize(("path", "headers", "status", "words"), [
    ("valid_transactions?since=x", {}, 400, "since: 'x': not a position"),
    ("valid_transactions?since=1:x", {}, 400, "since: '1:x': not a position"),
    ("blocks?since=1:0", {}, 400, "not a position of this stream"),
    ("valid_transactions?owner=x", {}, 400, "owner: not a parameter of this stream"),
    ("blocks?asset_id=x", {}, 400, "asset_id: not a parameter of this stream"),
    ("valid_transactions?operation=BURN", {}, 400, "operation: 'BURN': allowed: one of CREATE, TRANSFER"),
    ("valid_transactions?asset_id=a&asset_id=b", {}, 400, "asset_id: given more than once"),
    ("valid_transactions", {"Accept": "application/json"}, 406, "Accept: text/event-stream"),
    ("transactions", {"Accept": "text/event-stream"}, 404, "no stream at /api/v1/streams/transactions"),
])
def test_bad_requests_are_refused_in_json(node, path, headers, status, words):
    response = requests.get(f"{node.streams.replace('ws://', 'http://')}/{path}", headers=headers, timeout=10)
    assert response.status_code == status
    assert response.json()["status"] == status
    assert words in response.json()["message"]


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
def test_heartbeats_on_idle_streams(node):
    websocket = RawWebSocket(f"{node.streams}/votes", timeout=HEARTBEAT * 6)
    try:
        assert websocket.frame(pong=False)[0] == PING
    finally:
        websocket.close()
    response = requests.get(f"{node.streams.replace('ws://', 'http://')}/votes",
                            headers={"Accept": "text/event-stream"}, stream=True, timeout=HEARTBEAT * 6)
    with response:
        lines = response.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 1000"
        assert next(lines) == ""
        assert next(lines) == ": heartbeat"


@pytest.mark.parametrize("node", ["sqlite"], indirect=True)  # the streams server alone: engine-blind
def test_a_slow_consumer_is_cut_off_and_told_where_to_resume_without_hurting_others(node):
    # blocks written straight into the store, as the node's block stage would, and voted on
    ledger = Bigchain.from_config(node.config, connect_store(node.config["database"]))
    blocks = [ledger.create_block([create(CAROL, {"slow": number, "n": n}).to_dict() for n in range(BUFFER * 2)])
              for number in range(8)]
    txs = [tx for block in blocks for tx in block.transactions]
    # a client that reads nothing for now, with a small receive buffer
    slow = RawWebSocket(f"{node.streams}/valid_transactions", receive_buffer=2048)
    with connect(f"{node.streams}/valid_transactions", max_queue=None) as others:
        for block in blocks:  # one at a time, as the block stage writes them
            ledger.write_block(block)
            ledger.cast_vote(block.id, True)
            time.sleep(0.1)
        got = received(others, len(txs))
    assert [event["transaction_id"] for event in got] == [tx["id"] for tx in txs]
    frames = []
    while not frames or frames[-1][0] not in (CLOSE,):
        frames.append(slow.frame())
    slow.close()
    texts = [payload for opcode, payload in frames if opcode == TEXT]
    assert len(texts) < len(txs)
    code, reason = int.from_bytes(frames[-1][1][:2], "big"), frames[-1][1][2:].decode()
    last = json.loads(texts[-1])["position"] if texts else None
    assert code == 1013
    assert reason.startswith("too far behind: reconnect with since=")
    if last:
        assert reason == f"too far behind: reconnect with since={last}"


def test_resume_across_a_restart_loses_nothing(node):
    first = [create(BOB, {"restart": n}) for n in range(2)]
    with connect(f"{node.streams}/valid_transactions") as websocket:
        valid(node, *first)
        last = first_where(websocket, about(first[-1].id))["position"]
    # decided while no client listens, then the node stops before the next ones are even in a block
    meanwhile = [create(BOB, {"restart": n}) for n in range(2, 5)]
    accepted(node, *meanwhile)
    node.stop()
    node.start()
    with connect(f"{node.streams}/valid_transactions?since={last}") as websocket:
        resumed = received(websocket, 3)
        live = create(BOB, {"restart": "live"})
        accepted(node, live)
        resumed += received(websocket, 1)
    assert sorted(event["transaction_id"] for event in resumed[:3]) == sorted(tx.id for tx in meanwhile)
    assert resumed[3]["transaction_id"] == live.id
