"""Moving a ledger: `bigchaindb export` from one engine, `bigchaindb import` into the other.

A node on the embedded store makes a ledger (valid transfers, and a rogue
block voted INVALID); it is exported, imported into RethinkDB and exported
again back into SQLite, and a node on each copy answers every read the same.
"""

import copy
import json
import re
import subprocess

import orjson
import pytest
import requests

from bigchaindb import backend, config as node_config
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.core import Bigchain
from tests.engines import fresh_store
from tests.helpers import create_tx, transfer_tx, wait_until
from tests.integration.node import BIGCHAINDB, Node


def cli(config_path, *args):
    return subprocess.run([BIGCHAINDB, "-c", config_path, *args], capture_output=True, text=True, timeout=300)


def make_ledger(node):
    """Post a few transactions and a rogue block; returns every transaction id."""
    alice, bob = generate_key_pair(), generate_key_pair()
    creates = [create_tx(alice, data={"n": n}) for n in range(3)]
    for tx in creates:
        assert node.post(tx.to_dict()).status_code == 202
    for tx in creates:
        node.wait_for_status(tx.id)
    spend = transfer_tx(creates[0], alice, bob.public_key)
    assert node.post(spend.to_dict()).status_code == 202
    node.wait_for_status(spend.id)
    forged = create_tx(alice, data={"forged": True}).to_dict()
    forged["transaction"]["asset"]["data"] = {"forged": "after signing"}
    ledger = Bigchain.from_config(node.config, backend.connect(node.config["database"]))
    rogue = ledger.create_block([forged])
    ledger.write_block(rogue)
    wait_until(lambda: requests.get(f"{node.api}/statuses/{rogue.id}", allow_redirects=False).json()["status"]
               == "invalid", 20,
               "the rogue block was not voted INVALID")
    # requeued by the election, then dropped from the backlog by the block stage
    wait_until(lambda: node.status(forged["id"]) == "invalid", 20, "the forged transaction was not dropped")
    return [tx.id for tx in creates] + [spend.id, forged["id"]], alice.public_key


def reads(node, tx_ids, owner):
    """Every read a client could make about these transactions, as (route, status, body)."""
    answers = []

    def get(path, **params):
        response = requests.get(f"{node.api}{path}", params=params, allow_redirects=False, timeout=10)
        answers.append((path, sorted(params.items()), response.status_code, response.json()))
        return response.json()

    for tx_id in tx_ids:
        get(f"/transactions/{tx_id}")
        get(f"/statuses/{tx_id}")
        for block in get("/blocks", tx_id=tx_id):
            get(f"/blocks/{block['id']}", status="VALID")
            get("/votes", block_id=block["id"])
    get("/transactions", owners_after=owner, fulfilled="false")
    return answers


def node_on(tmp_path, name, keypair, database=None):
    """A node (not started) with ``keypair`` on ``database`` (default: a SQLite file of its own)."""
    database = database or {"backend": "sqlite", "path": str(tmp_path / f"{name}.sqlite")}
    return Node(str(tmp_path), name, database, keypair)


def test_export_then_import_across_engines_answers_every_read_the_same(tmp_path, request):
    keypair = generate_key_pair()
    first = node_on(tmp_path, "sqlite1", keypair).start()
    try:
        tx_ids, owner = make_ledger(first)
        expected = reads(first, tx_ids, owner)
    finally:
        first.stop()

    exported = tmp_path / "ledger.jsonl"
    done = cli(first.config_path, "export", str(exported))
    assert done.returncode == 0, done.stderr
    lines = exported.read_bytes().splitlines()
    assert orjson.loads(lines[0]) == {"format": "bigchaindb-ledger", "version": 1}
    counted = re.search(r"Exported (\d+) blocks and (\d+) votes", done.stderr)
    assert counted and int(counted[1]) == len(lines) - 1 >= 4  # genesis, the creates, the spend, the rogue
    back = tmp_path / "back.jsonl"
    with fresh_store("rethinkdb", tmp_path, request) as rethinkdb:
        second = node_on(tmp_path, "rethinkdb", keypair, rethinkdb)
        node_config.write_file(second.config, second.config_path)
        done = cli(second.config_path, "import", str(exported))
        assert done.returncode == 0, done.stderr
        second.start()
        try:
            assert reads(second, tx_ids, owner) == expected
        finally:
            second.stop()
        assert cli(second.config_path, "export", str(back)).returncode == 0
    assert back.read_bytes() == exported.read_bytes()
    third = node_on(tmp_path, "sqlite2", keypair)
    node_config.write_file(third.config, third.config_path)
    assert cli(third.config_path, "import", str(back)).returncode == 0
    third.start()
    try:
        assert reads(third, tx_ids, owner) == expected
    finally:
        third.stop()


@pytest.mark.parametrize("tamper, reason", [
    (lambda entry: entry["block"]["block"]["transactions"][0]["transaction"]["metadata"].update(id="x"),
     "does not match its contents"),
    (lambda entry: entry["votes"][0]["vote"].update(invalid_reason="rewritten"), "is not signed by its voter"),
    (lambda entry: entry["votes"].append(copy.deepcopy(entry["votes"][0]) | {"vote": {"voting_for_block": "b"}}),
     "is not a vote on block"),
])
def test_a_tampered_file_is_refused_naming_the_line_and_nothing_is_written(tmp_path, tamper, reason):
    keypair = generate_key_pair()
    source = node_on(tmp_path, "source", keypair).start()
    try:
        tx = create_tx(keypair, metadata={"m": 1})
        assert source.post(tx.to_dict()).status_code == 202
        source.wait_for_status(tx.id)
        wait_until(lambda: requests.get(f"{source.api}/blocks", params={"tx_id": tx.id}).json(), 10, "no block")
    finally:
        source.stop()
    exported = tmp_path / "ledger.jsonl"
    assert cli(source.config_path, "export", str(exported)).returncode == 0
    lines = exported.read_bytes().splitlines()
    entry = json.loads(lines[2])
    tamper(entry)
    lines[2] = json.dumps(entry).encode()
    exported.write_bytes(b"\n".join(lines) + b"\n")

    target = node_on(tmp_path, "target", keypair)
    node_config.write_file(target.config, target.config_path)
    done = cli(target.config_path, "import", str(exported))
    assert done.returncode == 1
    assert "line 3: " in done.stderr and reason in done.stderr, done.stderr
    assert not backend.connect(target.config["database"]).is_initialised()
