"""A real embedded store with a genesis block, and a node's Bigchain on it."""

import pytest

from bigchaindb.backend import connect
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.core import Bigchain


@pytest.fixture
def connection(tmp_path):
    conn = connect({"backend": "sqlite", "path": str(tmp_path / "store.sqlite")})
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
