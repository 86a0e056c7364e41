"""What an operator gets wrong, done as an operator does it: `bigchaindb start`
(a real process) with a config file holding the mistake, on a real store.

Each refusal must come within seconds, exit 1, name what is wrong and what is
allowed, start no stage (no "API:" line, no store touched), and print no
traceback.
"""

import json
import os
import random
import subprocess
import time

import pytest
import requests

from bigchaindb import config as node_config
from bigchaindb.backend import connect
from bigchaindb.commands.bigchaindb import where_data_lives
from bigchaindb.common.crypto import generate_key_pair
from tests.helpers import create_tx, init_store, node_config as a_node_config, node_environment, write_block
from tests.integration.node import BIGCHAINDB, Node

REFUSED_WITHIN = 10.0
"""Seconds a refusal may take, start-up of the Python process included: about
0.3 s on an idle machine, 2-3 s on one loaded 10 times over its cores; a
node that does not refuse never exits."""


def start(config_path, env=None, timeout=30):
    """Run `bigchaindb -c CONFIG start` to its end: (exit code, seconds taken, stdout, stderr)."""
    began = time.monotonic()
    result = subprocess.run([BIGCHAINDB, "-c", str(config_path), "start"], env=node_environment(**(env or {})),
                            capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return result.returncode, time.monotonic() - began, result.stdout, result.stderr


def assert_refused(outcome, *expected):
    code, seconds, stdout, stderr = outcome
    assert code == 1, (stdout, stderr)
    assert seconds < REFUSED_WITHIN
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    for text in expected:
        assert text in stderr
    assert "Traceback" not in stderr
    assert "API:" not in stdout  # refused before any stage started
    return stderr


def config_file(tmp_path, data):
    path = tmp_path / "node.json"
    path.write_text(json.dumps(data))
    return path


def sound_config(tmp_path):
    """A complete, valid config as `bigchaindb configure` would write it, store in ``tmp_path``."""
    return a_node_config(str(tmp_path))


# -- settings ------------------------------------------------------------------

KEYS, OTHER = generate_key_pair(), generate_key_pair()


@pytest.mark.parametrize("mistake, expected", [
    ({"log": {"level": "bogus"}},
     ['Error: log.level: "bogus" (in {path})', "allowed: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"]),
    ({"server": {"bind": 9984}},
     ["Error: server.bind: 9984 (in {path})", 'allowed: "HOST:PORT" text, e.g. "localhost:9984"']),
    ({"sever": {"bind": "localhost:9984"}},
     ["Error: sever (in {path}): not a setting; did you mean server?"]),
    ({"database": {"pth": "/tmp/x.sqlite"}},
     ["Error: database.pth (in {path}): not a setting; did you mean database.path?"]),
    ({"keypair": {"public": KEYS.public_key, "private": "0" + KEYS.private_key[1:]}},
     ["Error: keypair.private: (hidden) (in {path}): not base58", "allowed: the base58 text of a 32-byte"]),
    ({"keypair": {"public": KEYS.public_key[:20], "private": KEYS.private_key}},
     [f'Error: keypair.public: "{KEYS.public_key[:20]}" (in {{path}}): decodes to ']),
    ({"keypair": {"public": KEYS.public_key, "private": OTHER.private_key}},
     [f'Error: keypair.public: "{KEYS.public_key}": not the public key of keypair.private']),
])
def test_start_refuses_a_wrong_setting_naming_it(tmp_path, mistake, expected):
    config = node_config.merge(sound_config(tmp_path), mistake)
    path = config_file(tmp_path, config)
    message = assert_refused(start(path), *(text.format(path=path) for text in expected))
    assert OTHER.private_key not in message and KEYS.private_key not in message
    assert os.listdir(tmp_path) == ["node.json"]  # no store made


def test_start_refuses_a_misspelt_environment_variable(tmp_path):
    path = config_file(tmp_path, sound_config(tmp_path))
    assert_refused(start(path, {"BIGCHAINDB_SERVER_BINDS": "0.0.0.0:9984"}),
                   "Error: BIGCHAINDB_SERVER_BINDS (in the environment): not a setting; "
                   "did you mean BIGCHAINDB_SERVER_BIND?")


# -- a port in use ---------------------------------------------------------------

def test_a_second_start_on_a_port_in_use_exits_at_once_naming_the_address(node):
    address = f"127.0.0.1:{node.port}"
    # the same config file again: same port, same store
    message = assert_refused(start(node.config_path), f'Error: server.bind: "{address}": cannot listen there',
                             "in use")
    assert "another node or program listens there" in message
    # the node that was there is unharmed, and no stage of the second one ran beside it
    assert requests.get(node.url, timeout=5).status_code == 200
    assert "died" not in node.log()
    tx = create_tx(generate_key_pair())
    assert node.post(tx.to_dict()).status_code == 202
    node.wait_for_status(tx.id, "valid")


# -- a damaged store -------------------------------------------------------------

@pytest.fixture
def ledger_file(tmp_path):
    """A config file and a closed store of 30 blocks of 10 real transactions: (config path, store path)."""
    config = sound_config(tmp_path)
    ledger = init_store(config)
    owner = generate_key_pair()
    for number in range(30):
        write_block(ledger, [create_tx(owner, data={"n": number, "i": i}) for i in range(10)], valid=True)
    ledger.connection.close()
    return config_file(tmp_path, config), config["database"]["path"]


def flip_bytes(path, count, seed):
    """XOR ``count`` random bytes of the file with random non-zero values, as a failing disk might."""
    data = bytearray(open(path, "rb").read())
    chance = random.Random(seed)
    for _ in range(count):
        data[chance.randrange(len(data))] ^= chance.randrange(1, 256)
    open(path, "wb").write(data)


def truncate(path, size):
    with open(path, "r+b") as handle:
        handle.truncate(size)


def overwrite_header(path):
    with open(path, "r+b") as handle:
        handle.write(b"SQLite format 2\x00")


DAMAGE = {
    # where 200 random flips land decides which of SQLite's checks fails first
    "200 flipped bytes": (lambda path: flip_bytes(path, 200, seed=9), ("fails SQLite's quick_check", "cannot be read",
                                                                      "has a damaged schema")),
    "header overwritten": (overwrite_header, ("cannot be read as an SQLite database: file is not a database",)),
    "truncated to half": (lambda path: truncate(path, os.path.getsize(path) // 2),
                          ("database disk image is malformed",)),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_start_refuses_a_damaged_store_and_leaves_it_as_it_was(ledger_file, damage):
    config_path, store = ledger_file
    damage_it, expected = DAMAGE[damage]
    damage_it(store)
    before = open(store, "rb").read()
    message = assert_refused(start(config_path), f"Error: the store {store} ", "A node must not run on a damaged store",
                             "restore it from a backup", "bigchaindb init")
    assert any(text in message for text in expected), message
    assert open(store, "rb").read() == before


def make_empty_store(database):
    """A store with no ledger in it: a zero-length file (as a failed copy or a full disk leaves
    it), or a RethinkDB database without tables."""
    if database["backend"] == "sqlite":
        os.makedirs(os.path.dirname(database["path"]), exist_ok=True)
        open(database["path"], "wb").close()
    else:
        from rethinkdb import r

        from bigchaindb.backend.rethinkdb import driver
        admin = driver.connect_once(database["host"], database["port"])
        r.db_create(database["name"]).run(admin)
        admin.close()


def test_start_refuses_a_store_that_holds_no_ledger_and_init_makes_one(tmp_path, store):
    node = Node(str(tmp_path), "node", store)
    node_config.write_file(node.config, node.config_path)
    make_empty_store(store)
    where = where_data_lives(node.config)
    hint = "database.backend and database.path" if store["backend"] == "sqlite" else \
        "database.backend, .host, .port and .name"
    assert_refused(start(node.config_path), f"Error: the store {where} exists but holds no ledger",
                   f"Check that {hint} name your store", "`bigchaindb init` makes a new ledger in this one")
    if store["backend"] == "sqlite":
        assert os.path.getsize(store["path"]) == 0  # looked at, not changed

    made = subprocess.run([BIGCHAINDB, "-c", node.config_path, "init"], capture_output=True, text=True,
                          timeout=60, env=node_environment())
    assert made.returncode == 0, made.stderr
    node.start()
    try:
        assert requests.get(node.url, timeout=5).json()["public_key"] == node.public_key
    finally:
        node.stop()


def test_start_refuses_a_store_whose_init_did_not_finish(tmp_path, store):
    node = Node(str(tmp_path), "node", store)
    node_config.write_file(node.config, node.config_path)
    connection = connect(store)
    connection.init()  # tables and indexes, but no genesis block
    connection.close()
    assert_refused(start(node.config_path), f"Error: the store {where_data_lives(node.config)} has its tables "
                   "but no genesis block", "`bigchaindb drop` then `bigchaindb init`")


def test_start_refuses_a_file_that_is_not_a_store(tmp_path):
    config = sound_config(tmp_path)
    config["database"]["path"] = str(tmp_path / "node.json")  # the config file itself, by mistake
    path = config_file(tmp_path, config)
    before = path.read_bytes()
    assert_refused(start(path), f"Error: the store {path} cannot be read as an SQLite database")
    assert path.read_bytes() == before
