"""Twenty different TRANSFERs of one output, posted at once: one wins, ever."""

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bigchaindb.common.crypto import generate_key_pair
from bigchaindb.common.transaction import Asset, Transaction

COMPETITORS = 20


def test_parallel_transfers_of_one_output(node):
    alice = generate_key_pair()
    create = Transaction.create([alice.public_key], [([alice.public_key], 1)], Asset({"n": 1}))
    create.sign([alice.private_key])
    assert node.post(create.to_dict()).status_code == 202
    node.wait_for_status(create.id, "valid")

    recipients = [generate_key_pair() for _ in range(COMPETITORS)]
    transfers = [
        Transaction.transfer(create.to_inputs([0]), [([r.public_key], 1)], create.asset.id)
        .sign([alice.private_key]).to_dict()
        for r in recipients
    ]
    with ThreadPoolExecutor(COMPETITORS) as pool:
        responses = list(pool.map(node.post, transfers))

    codes = [r.status_code for r in responses]
    assert set(codes) <= {202, 400}, codes
    assert codes.count(202) >= 1
    for response in responses:
        if response.status_code == 400:
            assert "spent" in response.json()["message"]

    winners = [tx["id"] for tx, r in zip(transfers, responses) if r.status_code == 202]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        statuses = [node.status(tx_id) for tx_id in winners]
        if "valid" in statuses and all(s in ("valid", "invalid", None) for s in statuses):
            break
        time.sleep(0.2)
    time.sleep(2)  # let any late block be voted on: a second valid one must never appear
    statuses = [node.status(tx["id"]) for tx in transfers]
    assert statuses.count("valid") == 1, statuses

    # the output is spent once: only the winner's recipient holds an unspent output
    holders = []
    for recipient in recipients:
        owned = requests.get(f"{node.api}/transactions",
                             params={"fulfilled": "false", "owners_after": recipient.public_key}).json()
        holders.extend(tx["id"] for tx in owned)
    assert len(holders) == 1 and node.status(holders[0]) == "valid"
    spent_by_alice = requests.get(f"{node.api}/transactions",
                                  params={"fulfilled": "false", "owners_after": alice.public_key}).json()
    assert spent_by_alice == []
