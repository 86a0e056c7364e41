"""Keys, hashes and signatures: Ed25519 keys as base58, SHA3-256 (or Keccak-256) hashes.

Every id (of a transaction, a block, a stored vote) is ``hash_data`` of
canonical bytes.  The hash is FIPS-202 SHA3-256 unless the process chose
the original Keccak-256 with ``use_hash("keccak_256")``: the very first
BigchainDB 0.8.0 installs hashed with it (through pysha3 0.3, before the
FIPS padding was settled), so a federation of such installs can keep its
ledger.  The choice is one per process, like the library those installs
had: a node makes it at start from its ``hash`` setting, and a client of
such a node makes it before building transactions.  Keccak-256 comes from
pycryptodome, a maintained library with wheels for every platform (pysha3
no longer builds on current Python, and hashlib has only the FIPS variant).
"""

import functools
import hashlib
from collections import namedtuple

import base58
import nacl.exceptions
import nacl.signing

from bigchaindb.common.exceptions import ConfigurationError

CryptoKeypair = namedtuple("CryptoKeypair", ("private_key", "public_key"))


def _sha3_256(data):
    return hashlib.sha3_256(data).hexdigest()


def _keccak_256(data):
    # imported when first used: pycryptodome takes tens of milliseconds to
    # load, which every process of a sha3_256 node would pay for nothing
    from Crypto.Hash import keccak
    return keccak.new(digest_bits=256, data=data).hexdigest()


HASHES = {"sha3_256": _sha3_256, "keccak_256": _keccak_256}
"""The ``hash`` setting's choices; the first is the default."""
DEFAULT_HASH = "sha3_256"

KEYS_CACHED = 64
"""Private keys whose decoded form ``signing_key`` and ``public_key_of`` keep."""

_hash_name = DEFAULT_HASH
_hash = _sha3_256


def use_hash(name):
    """Hash every id of this process with ``name`` (a key of ``HASHES``); returns the previous name."""
    global _hash_name, _hash
    if name not in HASHES:
        raise ConfigurationError(f"unknown hash {name!r}; choose one of {', '.join(HASHES)}")
    previous = _hash_name
    _hash_name, _hash = name, HASHES[name]
    return previous


def hash_in_use():
    """The name of the hash ids are made with (see ``use_hash``)."""
    return _hash_name


def hash_data(data):
    """The hash in use (SHA3-256 by default) of ``data`` (bytes or str), as lowercase hex."""
    if isinstance(data, str):
        data = data.encode()
    return _hash(data)


def generate_key_pair():
    """A new Ed25519 keypair, both halves base58 encoded."""
    signing_key = nacl.signing.SigningKey.generate()
    return CryptoKeypair(
        base58.b58encode(bytes(signing_key)),
        base58.b58encode(bytes(signing_key.verify_key)),
    )


@functools.lru_cache(maxsize=KEYS_CACHED)
def public_key_of(private_key):
    """The base58 public key belonging to a base58 private key."""
    return base58.b58encode(bytes(signing_key(private_key).verify_key))


@functools.lru_cache(maxsize=KEYS_CACHED)
def signing_key(private_key):
    """The PyNaCl signing key for a base58 private key (a 32-byte seed); the
    latest few are kept, as decoding one costs more than signing with it."""
    return nacl.signing.SigningKey(base58.b58decode(private_key))


def sign(private_key, message):
    """Base58 Ed25519 signature of ``message`` bytes."""
    return base58.b58encode(signing_key(private_key).sign(message).signature)


def verify(public_key, signature, message):
    """True when base58 ``signature`` is ``public_key``'s over ``message``."""
    try:
        key = nacl.signing.VerifyKey(base58.b58decode(public_key))
        key.verify(message, base58.b58decode(signature))
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        return False
    return True
