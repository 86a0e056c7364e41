"""A real store of each engine with a genesis block, and a node's Bigchain on it."""

import pytest

from bigchaindb.backend import connect
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain
from tests.engines import ENGINES, fresh_store


@pytest.fixture(params=ENGINES)
def store_config(request, tmp_path):
    with fresh_store(request.param, tmp_path, request) as database:
        yield database


@pytest.fixture
def connection(store_config):
    conn = connect(store_config)
    conn.init()
    yield conn
    conn.close()


@pytest.fixture
def bigchain(connection):
    me = generate_key_pair()
    chain = Bigchain(connection, me.public_key, me.private_key, [])
    chain.create_genesis_block()
    return chain


@pytest.fixture
def alice():
    return generate_key_pair()


@pytest.fixture
def make_create(alice):
    def make(data=None, amount=1, divisible=False):
        asset = Asset(data or {}, divisible=divisible)
        return Transaction.create([alice.public_key], [([alice.public_key], amount)], asset).sign([alice.private_key])
    return make
