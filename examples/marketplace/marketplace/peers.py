"""Server-to-server messages, authenticated by the sender's signature.

A message is a JSON object POSTed to another participant's server with two
headers: the sender's guid (its public key) and its Ed25519 signature of the
exact bytes of the body.  The body names its recipient, so a message cannot
be replayed to a third server.  What servers hand each other is a
transaction and the sender's signatures of it: never a private key.
"""

import json

import requests

from bigchaindb.common.crypto import sign, verify

GUID_HEADER = "X-OpenBazaar-Guid"
SIGNATURE_HEADER = "X-OpenBazaar-Signature"
TIMEOUT = 40
"""Seconds to wait for a peer, which may itself wait for the ledger."""


class PeerError(Exception):
    """A peer could not be reached, refused, or a message did not authenticate."""


def send(url, keypair, recipient, body):
    """POST ``body`` (a dict) to ``url`` as ``keypair``'s message to ``recipient``; its JSON answer.

    PeerError with the peer's reason when it answers ``success: false``.
    """
    raw = json.dumps(dict(body, recipient=recipient), sort_keys=True).encode()
    headers = {"Content-Type": "application/json", GUID_HEADER: keypair.public_key,
               SIGNATURE_HEADER: sign(keypair.private_key, raw)}
    try:
        response = requests.post(url, data=raw, headers=headers, timeout=TIMEOUT)
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise PeerError(f"the peer at {url} did not answer: {exc}") from None
    if not answer.get("success"):
        raise PeerError(f"the peer refused: {answer.get('reason')}")
    return answer


def received(request, me):
    """``(sender guid, body)`` of a message to ``me`` in a Flask ``request``; PeerError if it does not
    authenticate."""
    sender, signature = request.headers.get(GUID_HEADER), request.headers.get(SIGNATURE_HEADER)
    raw = request.get_data()
    if not sender or not signature or not verify(sender, signature, raw):
        raise PeerError(f"the message is not signed by the guid in {GUID_HEADER}")
    try:
        body = json.loads(raw)
    except ValueError:
        raise PeerError("the message is not JSON") from None
    if not isinstance(body, dict) or body.get("recipient") != me:
        raise PeerError("the message is addressed to another participant")
    return sender, body
