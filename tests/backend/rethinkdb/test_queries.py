"""What the RethinkDB engine asks its server for each request: which table
and index every query reads, and how many round trips a request takes.

Requests go through the node's real HTTP app (in this process) on a real
server; every query the engine runs is recorded on its way to the server
and its ReQL terms are inspected.  A table may only be read through its
primary key or a named secondary index (``get``, ``get_all``, ``between``),
or written (``insert``): a ``filter`` over a table would read all of it.
"""

import copy

import pytest

from bigchaindb import config as node_config
from bigchaindb.backend.rethinkdb.connection import RethinkDBConnection
from bigchaindb.commands.bigchaindb import initialise
from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.core import Bigchain
from bigchaindb.pipelines.block import BlockPipeline
from bigchaindb.pipelines.election import ElectionPipeline
from bigchaindb.pipelines.vote import VotePipeline
from bigchaindb.web.app import create_app
from tests.engines import fresh_store
from tests.helpers import create_tx, transfer_tx, write_block

INDEX_READS = {"Get", "GetAll", "Between", "OrderBy"}
"""How a query may read a table: by primary key or a named index (``order_by``
only with an index, and only where a ``limit`` follows: the latest entry)."""


def index_of(term):
    """The index a term names: its ``index`` option (in ``r.desc`` or not); the primary key without one."""
    index = term.optargs.get("index")
    if index is None:
        return None if type(term).__name__ == "OrderBy" else "id"
    return index.data if type(index).__name__ == "Datum" else index._args[0].data


def accesses(query):
    """``(table, how, index)`` for every table ``query`` touches; ``how`` is the
    term that takes the table (``GetAll``, ``Insert``, ...), ``index`` the
    index it names (None for a write)."""
    found = []

    def walk(term, parent):
        if type(term).__name__ == "Table":
            how = type(parent).__name__ if parent is not None else None
            found.append((term._args[-1].data, how, index_of(parent) if how in INDEX_READS else None))
        for child in list(getattr(term, "_args", [])) + list(getattr(term, "optargs", {}).values()):
            walk(child, term)
    walk(query, None)
    return found


@pytest.fixture
def recorded(monkeypatch):
    """The queries every RethinkDB connection runs from now on."""
    queries = []
    run_once = RethinkDBConnection._run_once

    def recording(self, query, options, *args, **kwargs):
        queries.append(query)
        return run_once(self, query, options, *args, **kwargs)
    monkeypatch.setattr(RethinkDBConnection, "_run_once", recording)
    return queries


@pytest.fixture
def node(request, tmp_path):
    """The HTTP app of a node on a fresh RethinkDB store, and the node's ledger
    (another connection) for writing blocks and votes as its pipelines would."""
    with fresh_store("rethinkdb", tmp_path, request) as database:
        config = copy.deepcopy(node_config.DEFAULTS)
        keypair = generate_key_pair()
        config["keypair"] = {"public": keypair.public_key, "private": keypair.private_key}
        config["database"].update(database)
        initialise(config)
        app = create_app(config)
        ledger = Bigchain.from_config(config, RethinkDBConnection(database["host"], database["port"],
                                                                  database["name"]))
        yield app.test_client(), ledger
        ledger.connection.close()
        app.extensions["bigchaindb"].get().connection.close()


def request(client, queries, method, path, **kwargs):
    """Make the request; ``(response, [accesses of each query it ran])``."""
    del queries[:]
    response = getattr(client, method)(f"/api/v1{path}", **kwargs)
    return response, [sorted(accesses(query)) for query in queries]


def test_every_request_reads_by_index_in_few_round_trips(node, recorded):
    client, ledger = node
    owner = generate_key_pair()
    create = create_tx(owner, amount=2, metadata={"note": "read by index"})
    client.get("/api/v1/statuses/" + "0" * 64)  # the app's connection is opened before counting
    seen = []

    response, queries = request(client, recorded, "post", "/transactions", json=create.to_dict())
    assert response.status_code == 202
    assert queries == [  # one read, one write
        [("backlog", "GetAll", "id"), ("transactions", "GetAll", "transaction_id")],
        [("backlog", "Insert", None)],
    ]
    seen += queries

    response, queries = request(client, recorded, "post", "/transactions", json=create.to_dict())
    assert response.status_code == 202  # posted again: found, not written twice
    assert len(queries) == 1
    seen += queries

    block = write_block(ledger, [create], valid=True)
    spend = transfer_tx(create, owner, generate_key_pair().public_key)
    request(client, recorded, "get", f"/transactions/{create.id}")  # the app learns the block is VALID
    response, queries = request(client, recorded, "post", "/transactions", json=spend.to_dict())
    assert response.status_code == 202
    assert queries == [
        # the transaction, its input's outputs in the blocks holding it, the spenders of the input,
        # the asset's CREATE
        [("backlog", "GetAll", "id"), ("backlog", "GetAll", "spent_inputs"),
         ("transactions", "Between", "ledger_order"), ("transactions", "GetAll", "spent_inputs"),
         ("transactions", "GetAll", "transaction_id"), ("transactions", "GetAll", "transaction_id")],
        [("claims", "Insert", None)],  # the claim on the output it spends
        [("backlog", "Insert", None)],
    ]
    seen += queries

    response, queries = request(client, recorded, "get", f"/transactions/{create.id}")
    assert response.status_code == 200 and response.get_json() == create.to_dict()
    # the block's status and header are known since the first GET: one read
    assert queries == [[("transactions", "GetAll", "transaction_id")]]
    seen += queries

    response, queries = request(client, recorded, "get", f"/statuses/{create.id}")
    assert response.status_code == 303
    assert queries == [[("backlog", "GetAll", "id"), ("transactions", "GetAll", "transaction_id")]]
    seen += queries

    for path in (f"/transactions?owners_after={owner.public_key}&fulfilled=false",
                 f"/transactions?asset_id={create.asset.id}&operation=CREATE",
                 f"/transactions?metadata_id={create.metadata.id}",
                 f"/blocks?tx_id={create.id}&status=VALID", f"/blocks/{block.id}", f"/votes?block_id={block.id}",
                 f"/transactions/{spend.id}/status"):
        response, queries = request(client, recorded, "get", path)
        assert response.status_code == 200, path
        seen += queries

    tables = {table for query in seen for table, _, _ in query}
    assert tables == {"backlog", "bigchain", "transactions", "votes", "claims"}
    assert_index_reads(seen)


def assert_index_reads(queries):
    """Every table in ``queries`` (their accesses) is read through an index it names, or written."""
    for query in queries:
        for table, how, index in query:
            assert how in INDEX_READS and index is not None or how == "Insert", (table, how, index)


def test_the_pipelines_read_the_ledger_once_per_transaction_or_block(node, recorded):
    _, ledger = node
    owner = generate_key_pair()
    assert ledger.genesis_id  # read once per process
    counts = {}
    for size in (3, 30):
        txs = [create_tx(owner) for _ in range(size)]
        for tx in txs:
            ledger.write_to_backlog(tx.to_dict())
        stage = BlockPipeline(ledger, max_wait=0)
        backlog = [tx for tx, _ in ledger.connection.backlog_assigned_to(ledger.me)]
        del recorded[:]
        for tx in backlog:
            stage.add(tx)
        stage.close_if_due()
        made = [accesses(query) for query in recorded]
        block_id = ledger.connection.blocks_with_transaction(txs[0].id)[0]
        del recorded[:]
        VotePipeline(ledger).vote_on(block_id)
        voted = [accesses(query) for query in recorded]
        vote, = ledger.connection.votes_for(block_id)
        del recorded[:]
        ElectionPipeline(ledger).on_vote(vote)
        counted = [accesses(query) for query in recorded]
        assert_index_reads(made + voted + counted)
        counts[size] = (len(made), len(voted), len(counted))
    assert counts[30][0] - counts[3][0] == 27  # the block stage: one read per transaction
    # the block stage reads the ledger, checks the transactions are still its own, writes the block
    # and takes them out of the backlog in one query;
    # the vote stage reads the block with the votes on it (whether it voted on the block already),
    # then the ledger, and writes its vote; the first vote of the process also reads its last vote;
    # the election reads the block's votes with its header
    assert counts[3] == (5, 4, 1)
    assert counts[30][1:] == (3, 1)  # as many for 30 transactions as for 3
