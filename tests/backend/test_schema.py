"""Creating and dropping a store."""

import pytest

from bigchaindb import backend
from bigchaindb.backend.base import INITIALISED, MISSING, UNINITIALISED
from bigchaindb.backend.exceptions import DatabaseAlreadyExists, DatabaseDoesNotExist

from .documents import block_of, create


def test_init_makes_a_new_store_initialised(fresh_connection):
    assert not fresh_connection.is_initialised()
    fresh_connection.init()
    assert fresh_connection.is_initialised()


def test_state_tells_a_missing_store_from_an_initialised_one(fresh_connection):
    assert fresh_connection.state() == MISSING
    fresh_connection.init()
    assert fresh_connection.state() == INITIALISED
    fresh_connection.drop()
    # the file stays (and is no ledger); a RethinkDB database goes with its tables
    assert fresh_connection.state() in (MISSING, UNINITIALISED)
    assert not fresh_connection.is_initialised()


def test_init_writes_no_genesis_block(connection):
    assert connection.get_genesis_block() is None


def test_init_twice_raises(connection, store_config):
    with pytest.raises(DatabaseAlreadyExists):
        connection.init()
    other = backend.connect(store_config)
    try:
        with pytest.raises(DatabaseAlreadyExists):
            other.init()
    finally:
        other.close()


def test_drop_removes_everything(connection):
    tx, _ = create()
    block = block_of([tx])
    connection.write_block(block)
    connection.write_backlog(create()[0], "node", 1)
    connection.drop()
    assert not connection.is_initialised()
    connection.init()
    assert connection.get_block(block["id"]) is None
    assert connection.backlog_assigned_to("node") == []


def test_drop_of_a_store_never_initialised_raises(fresh_connection):
    with pytest.raises(DatabaseDoesNotExist):
        fresh_connection.drop()


def test_drop_twice_raises(connection):
    connection.drop()
    with pytest.raises(DatabaseDoesNotExist):
        connection.drop()


def test_init_records_the_hash_in_use(fresh_connection):
    assert fresh_connection.stored_hash() is None
    fresh_connection.init()
    assert fresh_connection.stored_hash() == "sha3_256"


def test_init_under_keccak_records_keccak(fresh_connection, store_config, keccak):
    fresh_connection.init()
    other = backend.connect(store_config)
    try:
        assert other.stored_hash() == "keccak_256"
    finally:
        other.close()


def test_drop_forgets_the_hash(connection):
    connection.drop()
    assert connection.stored_hash() is None
