"""Keys, hashes and signatures: Ed25519 keys as base58, SHA3-256 hashes."""

import hashlib
from collections import namedtuple

import base58
import nacl.exceptions
import nacl.signing

CryptoKeypair = namedtuple("CryptoKeypair", ("private_key", "public_key"))


def hash_data(data):
    """SHA3-256 (FIPS-202) of ``data`` (bytes or str) as lowercase hex."""
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha3_256(data).hexdigest()


def generate_key_pair():
    """A new Ed25519 keypair, both halves base58 encoded."""
    signing_key = nacl.signing.SigningKey.generate()
    return CryptoKeypair(
        base58.b58encode(bytes(signing_key)),
        base58.b58encode(bytes(signing_key.verify_key)),
    )


def public_key_of(private_key):
    """The base58 public key belonging to a base58 private key."""
    return base58.b58encode(bytes(signing_key(private_key).verify_key))


def signing_key(private_key):
    """The PyNaCl signing key for a base58 private key (a 32-byte seed)."""
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
