"""A float stays a float, on every engine, through every read that hands back a transaction.

A transaction's id is the hash of its floats written as floats (``1.0``,
not ``1``), so a store that gave back ``1.0`` as the integer ``1``, or
``-0.0`` as ``0``, would hand out transactions whose ids no longer match.
RethinkDB keeps every number as a double and hands integral ones back as
integers: the values below include those and the extremes.
"""

from bigchaindb.common.crypto import generate_key_pair, hash_data
from bigchaindb.common.transaction import Asset, Transaction
from bigchaindb.common.utils import serialize
from tests.helpers import same_values

from .documents import NODE, block_of
from .feeds import next_item

FLOATS = {"one": 1.0, "minus_zero": -0.0, "zero": 0.0, "big": 1e16, "bigger": 1e22, "tiny": 5e-324,
          "max": 1.7976931348623157e308, "price": 12.5, "now": 1795997816.9628924, "count": 1}


def float_pair():
    """A CREATE whose asset data holds FLOATS and a TRANSFER of it with floats in its metadata."""
    private, public = generate_key_pair()
    create = Transaction.create([public], [([public], 1)], asset=Asset(dict(FLOATS, nested=[FLOATS])),
                                metadata={"reading": -3.0}).sign([private])
    spend = Transaction.transfer(create.to_inputs(), [([public], 1)], create.asset.id,
                                 metadata=dict(FLOATS)).sign([private])
    return create.to_dict(), spend.to_dict()


def assert_exact(read, written):
    """``read`` is ``written`` with every number of the same type and sign, and so the same id."""
    assert same_values(read, written), (read, written)
    assert Transaction.from_dict(read).id == written["id"]


def test_the_backlog_keeps_floats(connection):
    create, spend = float_pair()
    feed = connection.backlog_feed("node")
    for timestamp, tx in enumerate((create, spend), start=1):
        assert connection.write_backlog(tx, "node", timestamp) is None
        assert_exact(connection.get_backlog_transaction(tx["id"]), tx)
    fed = {entry["id"]: entry for entry, _ in (next_item(feed), next_item(feed))}
    for tx in (create, spend):
        assert_exact(fed[tx["id"]], tx)
    assigned = connection.backlog_assigned_to("node")
    for (entry, _), tx in zip(assigned, (create, spend), strict=True):
        assert_exact(entry, tx)


def test_blocks_keep_floats(connection):
    create, spend = float_pair()
    plain = Transaction.create([NODE], [([NODE], 1)], asset=Asset({"n": 1})).to_dict()
    block = block_of([plain, create])
    later = block_of([spend], timestamp="1480000001")
    connection.write_block(block)
    connection.write_block(later)
    read = connection.get_block(block["id"])
    assert same_values(read, block)
    assert hash_data(serialize(read["block"])) == block["id"]
    assert all(same_values(read, written) for (_, read), written in
               zip(connection.blocks_after(None, 10), [block, later], strict=True))
    for tx, holder in ((create, block), (spend, later)):
        assert_exact(connection.get_transaction_in_block(tx["id"], holder["id"]), tx)
    asset_id = create["transaction"]["asset"]["id"]
    found = connection.transactions_by_asset(asset_id)
    assert [block_id for _, block_id in found] == [block["id"], later["id"]]
    for (tx, _), written in zip(found, (create, spend), strict=True):
        assert_exact(tx, written)
    (_, tx, block_id), = connection.metadata_page(spend["transaction"]["metadata"]["id"], None, 10)
    assert block_id == later["id"]
    assert_exact(tx, spend)
