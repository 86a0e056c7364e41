"""A property-based fuzzer driven by the OpenAPI document, against a real node.

schemathesis reads the document the node serves and sends requests made
from it (boundary and off-schema values of every parameter, then random
ones), checking that no answer is a 5xx and that every answer's status,
headers, media type and body are as the document describes.  The ledger
holds a transaction in a VALID block, one in an UNDECIDED block, one in an
INVALID block and one in the backlog, and the generator draws ids, keys and
asset and metadata ids from those half of the time, so that requests reach
what the node serves and not only its 404s.

It runs as an operator would run it, with schemathesis's own command line,
deterministically (the same requests every run, so CI is stable), within a
bounded number of requests per operation.
"""

import json
import os
import subprocess
import sys

import pytest

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Metadata
from tests.helpers import WebNode, create_tx, transfer_tx, write_block

SCHEMATHESIS = os.path.join(os.path.dirname(sys.executable), "schemathesis")
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance")
EXAMPLES = 12  # per operation and phase
BODIES = 5  # of POST /transactions, drawn from the transaction schema


@pytest.fixture(scope="module")
def ledger_node(tmp_path_factory):
    """A node whose ledger holds a transaction of every status; the values to draw from."""
    directory = tmp_path_factory.mktemp("fuzzed")
    node = WebNode(str(directory)).start()
    ledger = node.ledger
    alice, bob = generate_key_pair(), generate_key_pair()
    created = create_tx(alice, data={"note": "fuzzed"}, metadata=Metadata({"note": "fuzzed"}))
    blocks = {"valid": write_block(ledger, [created], valid=True)}
    undecided, invalid = create_tx(bob), create_tx(bob)
    blocks["undecided"] = write_block(ledger, [undecided])
    blocks["invalid"] = write_block(ledger, [invalid], valid=False)
    backlog = transfer_tx(created, alice, bob.public_key)
    ledger.write_to_backlog(backlog.to_dict())
    values = {
        "ids": [created.id, undecided.id, invalid.id, backlog.id, *(block.id for block in blocks.values())],
        "keys": [alice.public_key, bob.public_key, ledger.me],
        "uuids": [created.asset.id, created.metadata.id],
        "words": ["fuzzed", "hello fuzzed"],
    }
    yield node, values
    node.stop()


def config(values):
    """schemathesis.toml: the checks, the phases, and where parameters draw real values from."""
    bindings = {"ids": ["path.tx_id", "path.block_id", "path.resource_id", "query.tx_id", "query.block_id"],
                "keys": ["query.owners_after", "query.voter", "query.public_key"],
                "uuids": ["query.asset_id", "query.metadata_id", "path.asset_id", "path.metadata_id"],
                "words": ["query.search"]}
    lines = ["[generation]", f"max-examples = {EXAMPLES}", "deterministic = true", "",
             "[checks]", "enabled = false", *[f"{check}.enabled = true" for check in CHECKS], "",
             "[phases]", "examples.enabled = true", "coverage.enabled = true", "fuzzing.enabled = true",
             "stateful.enabled = false", ""]
    for name, entries in values.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(entries)}", ""]
    lines.append("[parameters]")
    for name, keys in bindings.items():
        lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key in keys]
    # Bodies drawn from the transaction schema (nested, recursive owners, if/then/else)
    # take about a second each to generate, and none is a transaction (its id and
    # signatures hash the rest): the POST gets a few, valid and invalid, from the
    # fuzzing phase only (the coverage phase draws hundreds).  Mangled transactions,
    # the bodies that reach the node's rules, are tests/web/test_post_fuzz.py's.
    lines += ["", "[[operations]]", 'include-method = "POST"', "phases.coverage.enabled = false",
              f"generation.max-examples = {BODIES}", "generation.deterministic = true"]
    # a node without its stages (tests.helpers.WebNode) is rightly not healthy: 503, as documented
    lines += ["", "[[operations]]", 'include-path = "/health"', "checks.not_a_server_error.enabled = false"]
    # served by the streams server, which this node (tests.helpers.WebNode) does not run
    lines += ["", "[[operations]]", 'include-path = "/api/v1/streams/{stream}"', "enabled = false"]
    return "\n".join(lines) + "\n"


def test_the_node_answers_every_fuzzed_request_as_the_document_says(ledger_node, tmp_path):
    node, values = ledger_node
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(values))
    command = [SCHEMATHESIS, "--no-color", "--config-file", str(config_file), "run", f"{node.api}/openapi.json",
               "--workers", "1", "--max-failures", "10"]
    # in tmp_path: schemathesis keeps a cache of crashes in its working directory
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert "No issues found" in done.stdout or "passed" in done.stdout, done.stdout[-5000:]
