"""A federation on a RethinkDB cluster, for the fault tests in test_cluster.py.

``ClusterFederation`` starts ``Cluster(3)`` (three RethinkDB servers joined
with ``--join``) and three ``bigchaindb start`` processes, node *i* talking
to server *i* only, as on three machines; the database is made with the CLI
(``init``, ``set-shards``, ``set-replicas``).  ``Load`` posts transactions
the way a patient client does: at a steady rate, moving on to another node
when one does not answer.  ``Ledger`` reads what the cluster holds straight
from its tables and decides every block with the election rule, so that a
test can count what became valid, what was lost and what was doubled.
"""

import collections
import subprocess
import threading
import time

import requests
from rethinkdb import r
from rethinkdb.errors import ReqlAvailabilityError

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.consensus import STUCK, VALID, block_election_outcome, block_election_status
from tests.helpers import create_tx, node_environment, transfer_tx
from tests.integration.node import BIGCHAINDB, federation
from tests.rethinkdb_server import Cluster

DATABASE = "bigchain"
REPLICAS = 3


class ClusterFederation:
    """Three RethinkDB servers and three nodes, node *i* on server *i*."""

    def __init__(self, directory, size=3, shards=1, **settings):
        self.directory = directory
        self.shards = shards
        self.cluster = Cluster(size, directory)
        self.servers = self.cluster.servers
        self.nodes = federation(directory, size, {}, **settings)
        for node, server in zip(self.nodes, self.servers):
            node.config["database"].update(server.database_config, name=DATABASE)

    def start(self, nodes=True):
        """Start the servers, make the database with the CLI, then (with ``nodes``) start the nodes."""
        self.cluster.start()
        self.cli(self.nodes[0], "init")
        self.cli(self.nodes[0], "set-shards", str(self.shards))
        self.cli(self.nodes[0], "set-replicas", str(REPLICAS))
        if nodes:
            for node in self.nodes:
                node.start(timeout=60)
        return self

    def cli(self, node, *arguments):
        """Run ``bigchaindb -c <node's config> ARGUMENTS``; its output."""
        from bigchaindb import config as node_config
        node_config.write_file(node.config, node.config_path)
        result = subprocess.run([BIGCHAINDB, "-c", node.config_path, *arguments],
                                capture_output=True, text=True, timeout=120, env=node_environment())
        assert result.returncode == 0, (arguments, result.stdout, result.stderr)
        return result.stdout

    def stop(self):
        for node in self.nodes:
            node.stop()
        self.cluster.remove()

    def follower(self):
        """The index of a server that is the primary replica of neither the
        blocks' nor the votes' table (or at least not of the blocks').

        Killing one leaves every node's feeds running; killing a primary
        (``primary``) makes them all resume after the failover."""
        configs = self.table_configs()
        leading = [{shard["primary_replica"] for shard in configs[table]["shards"]} for table in ("bigchain", "votes")]
        names = [server.name for server in self.servers]
        for index, name in enumerate(names):
            if not any(name in primaries for primaries in leading):
                return index
        return next(index for index, name in enumerate(names) if name not in leading[0])

    def primary(self):
        """The index of the server that is the primary replica of the blocks'
        table (and of the votes', when one server leads both): the victim
        whose death makes every node's block and vote feeds resume."""
        configs = self.table_configs()
        leading = [[shard["primary_replica"] for shard in configs[table]["shards"]] for table in ("bigchain", "votes")]
        names = [server.name for server in self.servers]
        both = [name for name in leading[0] if name in leading[1]]
        return names.index((both or leading[0])[0])

    def query(self, term, server=None, patience=30):
        """Run the ReQL ``term`` on ``server`` (the first running one by default),
        again for up to ``patience`` seconds while a table is unavailable (the
        cluster reconfigures itself around a server that died or came back)."""
        server = server or next(s for s in self.servers if s.running)
        deadline = time.monotonic() + patience
        connection = r.connect("127.0.0.1", server.driver_port, timeout=10)
        try:
            while True:
                try:
                    return term.run(connection)
                except ReqlAvailabilityError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        finally:
            connection.close()

    def table_configs(self):
        return {config["name"]: config for config in self.query(r.db(DATABASE).table_list().map(
            lambda name: r.db(DATABASE).table(name).config()))}

    def all_replicas_ready(self, server=None):
        statuses = self.query(r.db(DATABASE).table_list().map(
            lambda name: r.db(DATABASE).table(name).status()), server)
        return all(status["status"]["all_replicas_ready"] for status in statuses)

    def ledger(self):
        return Ledger.read(self)

    def whereabouts(self, ledger, tx_ids):
        """Where each of ``tx_ids`` is: its backlog entry and the blocks holding it (for failure messages)."""
        names = {node.public_key: node.name for node in self.nodes}
        found = {}
        for tx_id in tx_ids:
            entry = self.query(r.db(DATABASE).table("backlog").get(tx_id))
            if entry is not None:
                entry = {"assignee": names.get(entry["assignee"]), "at": entry["assignment_timestamp"]}
            blocks = [(block_id[:8], names.get(creator), status, ledger.votes.get(block_id))
                      for block_id, (creator, ids, status, _) in ledger.blocks.items() if tx_id in ids]
            found[tx_id[:8]] = {"backlog": entry, "blocks": blocks}
        return found


class Ledger:
    """The blocks and votes in the cluster, each block decided by the election rule.

    ``blocks`` maps a block id to ``(creator, transaction ids, status,
    committed_at)``; ``status`` is the election's outcome (STUCK for a
    block UNDECIDED for good); ``committed_at`` is the server time of the
    vote that made the block VALID (None for a block not VALID).
    """

    def __init__(self, blocks, votes, spent):
        self.blocks = blocks
        self.votes = votes  # {block id: {voter: is_block_valid}}
        self.spent = spent  # Counter of (txid, cid) spent by transactions in VALID blocks

    @classmethod
    def read(cls, federation):
        rows = federation.query(r.db(DATABASE).table("bigchain").without({"block": {"transactions": {
            "transaction": {"asset": True, "metadata": True, "conditions": True}}}}).coerce_to("array"))
        votes = federation.query(r.db(DATABASE).table("votes").coerce_to("array"))
        by_block = collections.defaultdict(list)
        for vote in votes:
            by_block[vote["vote"]["voting_for_block"]].append(vote)
        blocks, spent = {}, collections.Counter()
        for row in rows:
            txs = row["block"]["transactions"]
            if any(tx["transaction"]["operation"] == "GENESIS" for tx in txs):
                continue
            block_votes = sorted(by_block[row["id"]], key=lambda vote: vote["written_at"])
            status = block_election_outcome(row["id"], row["block"]["voters"], block_votes)
            committed_at = None
            if status == VALID:  # the first moment the votes so far made it VALID
                committed_at = next(vote["written_at"] for index, vote in enumerate(block_votes) if
                                    block_election_status(row["id"], row["block"]["voters"],
                                                          block_votes[:index + 1]) == VALID)
                for tx in txs:
                    for fulfillment in tx["transaction"]["fulfillments"]:
                        if fulfillment["input"] is not None:
                            spent[(fulfillment["input"]["txid"], fulfillment["input"]["cid"])] += 1
            blocks[row["id"]] = (row["block"]["node_pubkey"], [tx["id"] for tx in txs], status, committed_at)
        cast = {block_id: {vote["node_pubkey"]: vote["vote"]["is_block_valid"] for vote in block_votes}
                for block_id, block_votes in by_block.items()}
        return cls(blocks, cast, spent)

    def valid_count(self):
        """How many VALID blocks hold each transaction."""
        return collections.Counter(tx_id for _, tx_ids, status, _ in self.blocks.values() if status == VALID
                                   for tx_id in tx_ids)

    def stuck(self):
        """The ids of the blocks UNDECIDED for good (every member voted, see ``consensus.STUCK``)."""
        return {block_id for block_id, (_, _, status, _) in self.blocks.items() if status == STUCK}

    def double_spends(self):
        return sum(1 for count in self.spent.values() if count > 1)

    def commit_times(self):
        return sorted(committed for *_, committed in self.blocks.values() if committed is not None)

    def longest_pause(self, start, end):
        """The longest time in [start, end] without a block becoming VALID, in seconds."""
        times = [start] + [t for t in self.commit_times() if start < t < end] + [end]
        return max(later - earlier for earlier, later in zip(times, times[1:]))


class Load:
    """Client threads posting new transactions at ``rate`` per second in all.

    Every few CREATEs, a client spends the oldest one it got accepted, once
    it is valid, twice: first through one node, then the conflicting twin
    through another, which must refuse it.  A POST that fails (no answer in ``timeout`` seconds, a
    refused connection, a 503) is tried on the next node, the same
    transaction, as a client that cannot tell whether it was stored must do.
    """

    def __init__(self, nodes, rate=15, clients=4, timeout=15, spend_every=5):
        self.nodes = nodes
        self.interval = clients / rate
        self.clients = clients
        self.timeout = timeout
        self.spend_every = spend_every
        self.posted = []        # tx ids, each once
        self.accepted = {}      # tx id -> time of the 202
        self.refused = {}       # tx id -> (code, message) of a 4xx
        self.unanswered = []    # tx ids no node accepted (every attempt failed)
        self.twins = {}         # tx id -> id of the conflicting transfer posted after it (both ways)
        self.retried = 0        # POSTs sent again after a failure
        self.errors = collections.Counter()  # what the failures were
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = []

    def start(self):
        for index in range(self.clients):
            thread = threading.Thread(target=self._client, args=(index,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        self._stopping.set()
        for thread in self._threads:
            thread.join()

    def _client(self, index):
        owner = generate_key_pair()
        mine, turn, count = [], index, 0
        while not self._stopping.is_set():
            began = time.monotonic()
            count += 1
            if count % self.spend_every == 0 and mine and self.is_valid(mine[0].id, turn):
                tx, turn = mine.pop(0), turn + 1
                recipients = generate_key_pair(), generate_key_pair()
                first, twin = (transfer_tx(tx, owner, recipient.public_key) for recipient in recipients)
                if self.post(first.to_dict(), turn):
                    with self._lock:
                        self.twins[first.id], self.twins[twin.id] = twin.id, first.id
                    self.post(twin.to_dict(), turn + 1)
            else:
                tx = create_tx(owner, data={"client": index, "n": count})
                if self.post(tx.to_dict(), turn):
                    mine.append(tx)
            turn += 1
            self._stopping.wait(max(0.0, self.interval - (time.monotonic() - began)))

    def is_valid(self, tx_id, turn):
        """Whether node ``turn`` says ``tx_id`` is valid (only then can it be spent)."""
        node = self.nodes[turn % len(self.nodes)]
        try:
            response = requests.get(f"{node.api}/statuses/{tx_id}", timeout=self.timeout, allow_redirects=False)
        except requests.RequestException:
            return False
        return response.status_code in (200, 303) and response.json().get("status") == "valid"

    def post(self, tx, turn):
        """POST ``tx``, starting at node ``turn``, moving on after a failure; True once accepted."""
        with self._lock:
            self.posted.append(tx["id"])
        for attempt in range(2 * len(self.nodes)):
            node = self.nodes[(turn + attempt) % len(self.nodes)]
            if attempt:
                with self._lock:
                    self.retried += 1
            try:
                response = requests.post(f"{node.api}/transactions", json=tx, timeout=self.timeout)
            except requests.RequestException as exc:
                self._failed(type(exc).__name__)
                continue
            if response.status_code == 202:
                with self._lock:
                    self.accepted[tx["id"]] = time.time()
                return True
            if response.status_code < 500:
                with self._lock:
                    self.refused[tx["id"]] = (response.status_code, response.json()["message"])
                return False
            self._failed(response.status_code)
        with self._lock:
            self.unanswered.append(tx["id"])
        return False

    def _failed(self, what):
        with self._lock:
            self.errors[what] += 1
        time.sleep(0.2)


def wait_for_all_valid(federation, tx_ids, timeout, twins=None):
    """Wait until every one of ``tx_ids`` (or its twin in ``twins``) is in a VALID block; the ledger then."""
    state = {}

    def all_valid():
        state["ledger"] = federation.ledger()
        valid = state["ledger"].valid_count()
        state["missing"] = [tx_id for tx_id in tx_ids if not (valid[tx_id] or valid[(twins or {}).get(tx_id)])]
        return not state["missing"]

    deadline = time.monotonic() + timeout
    while not all_valid():
        assert time.monotonic() < deadline, (
            f"{len(state['missing'])} of {len(tx_ids)} accepted transactions are not in a VALID block "
            f"after {timeout} s: {federation.whereabouts(state['ledger'], state['missing'][:5])}")
        time.sleep(1.0)
    return state["ledger"]


def counts(load, ledger):
    """The figures every fault test asserts on, as one dict.

    An accepted transaction not in a VALID block is ``superseded`` when its
    conflicting twin was accepted too and is the one in a VALID block (the
    race of two spenders that exact double-spend protection closes), else
    ``lost``."""
    valid = ledger.valid_count()
    accepted = set(load.accepted)
    missing = [tx_id for tx_id in accepted if not valid[tx_id]]
    superseded = sum(1 for tx_id in missing if valid[load.twins.get(tx_id)])
    return {
        "posted": len(load.posted),
        "accepted": len(accepted),
        "refused": len(load.refused),
        "unanswered": len(load.unanswered),
        "retried": load.retried,
        "valid": sum(1 for tx_id in accepted if valid[tx_id] == 1),
        "superseded": superseded,
        "lost": len(missing) - superseded,
        "doubled": sum(1 for count in valid.values() if count > 1),
        "double_spends": ledger.double_spends(),
        "blocks": len(ledger.blocks),
        "stuck": len(ledger.stuck()),
    }


def log_lines(node, text):
    """The lines of ``node``'s log that contain ``text``."""
    with open(node.log_path, encoding="utf-8", errors="replace") as handle:
        return [line for line in handle if text in line]

