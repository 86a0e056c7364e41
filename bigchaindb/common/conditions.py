"""Crypto-conditions of owners, and checking a fulfillment against one.

The ``cryptoconditions`` package (0.5.x) defines the semantics: condition
URIs, details and threshold fulfillments are made and parsed by it.  Two
things are added around it:

* Limits.  The package sizes a threshold by trying every subset of its
  subconditions, so a threshold of n costs 2**n steps (20 keys take half a
  second, 30 about ten minutes).  A threshold may therefore hold at most
  ``MAX_THRESHOLD_SIZE`` subconditions, and a posted fulfillment is measured
  before the package is asked anything that costs more than parsing it.
  The package also cannot encode a nested group of more than two keys
  (its variable-length integers are one byte); such owners are refused
  rather than crashed on.
* Speed and canonical form.  Almost every fulfillment is a ``cf:4`` Ed25519
  one: public key and signature, nothing else.  It is checked directly (same
  condition URI, same Ed25519 verification as the package), which is several
  times faster.  So is a threshold fulfillment of owners (``thresholds``
  reads it; its condition is that of the owners it names), three times
  faster; any other form is left to the package.  Every fulfillment must be
  in the exact form the package writes, so that a fulfillment URI has one
  spelling only.
"""

import base64
import re
from functools import lru_cache

import base58
import cryptoconditions as cc
import nacl.exceptions
import nacl.signing

from bigchaindb.common import thresholds
from bigchaindb.common.exceptions import InvalidFulfillment, InvalidSignature, NotSupported, ValidationError
from bigchaindb.common.utils import deserialize, flatten, serialize

MAX_THRESHOLD_SIZE = 8

_ED25519_URI = re.compile(r"cf:4:[A-Za-z0-9_-]{128}")  # 96 bytes: no spare bits, one spelling
_FULFILLMENT_URI = re.compile(r"cf:[0-9a-f]{1,4}:[A-Za-z0-9_-]*")
_ED25519_KEY_LENGTH = 32


# -- conditions from owners ------------------------------------------------

def condition_for(owners, threshold=None):
    """The crypto-condition object a public key or a list of owners stands for.

    One key is an Ed25519 condition; several are an n-of-n threshold with
    weight 1 each, and a nested list nests a threshold.  ``threshold`` (1 to
    n) makes the outer list an m-of-n threshold instead.
    """
    if isinstance(owners, str):
        try:
            return cc.Ed25519Fulfillment(public_key=owners)
        except Exception:
            raise InvalidFulfillment(f"{owners!r} is not a valid Ed25519 public key") from None
    if not owners:
        raise InvalidFulfillment("a list of owners must not be empty")
    if len(owners) == 1:
        return condition_for(owners[0])
    if len(owners) > MAX_THRESHOLD_SIZE:
        raise NotSupported(f"a list of owners may hold at most {MAX_THRESHOLD_SIZE} keys or lists, "
                           f"not {len(owners)}; nest lists to have more signers")
    made = cc.ThresholdSha256Fulfillment(threshold=len(owners) if threshold is None else threshold)
    for owner in owners:
        made.add_subfulfillment(condition_for(owner))
    return made


def condition_uri_for(owners, threshold=None):
    """The condition URI of ``owners`` (cached: the same owners recur a lot)."""
    return _described(_freeze(owners), threshold)[0]


def describe(owners, threshold=None):
    """``(uri, details)`` of the condition of ``owners``; the details are the caller's to keep."""
    uri, details = _described(_freeze(owners), threshold)
    return uri, deserialize(details)


def stated_threshold(owners, details):
    """The m of an m-of-n output of several ``owners`` whose ``details`` state a
    threshold 1 <= m < n (docs/protocol.md §3); None otherwise (n-of-n).

    The owners still name every key that may sign, so owner queries find
    everyone who can spend the output; only how many must sign is read from
    the details.  Anything else a threshold could state is left to the
    comparison of the details with those of the owners, which refuses it.
    """
    if isinstance(owners, str) or len(owners) < 2 or not isinstance(details, dict):
        return None
    threshold = details.get("threshold")
    return threshold if type(threshold) is int and 1 <= threshold < len(owners) else None


def details_describe_owners(details, owners, threshold=None):
    """True when ``details`` are exactly the condition details of ``owners`` (at ``threshold``).

    Compared as canonical JSON, not with ``==``, for which ``true == 1`` and
    ``1.0 == 1``: the id hashes the bytes, so the bytes must be the ones meant.
    Details never hold floats, so none are looked for: a float written any
    way differs from the details of every condition all the same.
    """
    try:
        return serialize(details, floats=False) == _described(_freeze(owners), threshold)[1]
    except TypeError:  # not writable as canonical JSON, so certainly not those details
        return False


@lru_cache(maxsize=65536)
def _described(frozen_owners, threshold=None):
    """(uri, canonical JSON of the details) of frozen owners: small to keep, and immutable."""
    condition = condition_for(frozen_owners, threshold)
    try:
        return condition.condition_uri, serialize(condition.to_dict(), floats=False)
    except ValueError:
        # The package writes variable-length integers of at most one byte, so
        # a nested group whose fulfillment may exceed 255 bytes (more than
        # two keys, or a group within a group) cannot be encoded at all.
        raise NotSupported("these owners cannot be encoded by cryptoconditions 0.5: "
                           "a nested list of owners may hold only two keys") from None


def _freeze(owners):
    return owners if isinstance(owners, str) else tuple(_freeze(o) for o in owners)


# -- checking fulfillments -------------------------------------------------

def check_fulfillment(uri, expected_uri, message, name):
    """Raise unless fulfillment ``uri`` meets condition ``expected_uri`` for ``message``.

    ``name`` ("fulfillment 0") starts every error message.  Raises
    InvalidFulfillment when the URI is malformed, InvalidSignature when it is
    well-formed but does not meet the condition or does not validate.
    """
    if uri.startswith("cf:4:"):
        _check_ed25519(uri, expected_uri, message, name)
        return
    _check_size(uri, expected_uri, name)
    if uri.startswith("cf:2:") and _checked_as_owners_threshold(uri, expected_uri, message, name):
        return
    parsed = parse_fulfillment(uri, name)
    if _condition_uri(parsed, name) != expected_uri:
        raise InvalidSignature(f"{name} does not meet the condition it spends ({expected_uri})")
    try:
        valid = parsed.validate(message)
    except Exception:
        valid = False
    if not valid:
        raise InvalidSignature(f"{name} does not validate")


def check_form(uri, name):
    """Refuse, cheaply, a fulfillment URI that cannot be one: before the condition it spends is known.

    An Ed25519 fulfillment is checked whole.  Any other is checked for its
    shape only: its contents are parsed by ``check_fulfillment``, once the
    condition it spends bounds how large they may be.
    """
    if uri.startswith("cf:4:"):
        if not _ED25519_URI.fullmatch(uri):
            raise InvalidFulfillment(f"{name} is not a valid cf:4 (Ed25519) URI")
    elif not _FULFILLMENT_URI.fullmatch(uri):
        raise InvalidFulfillment(f"{name} is not a valid cf: URI")


def parse_fulfillment(uri, name):
    """The package's object for fulfillment ``uri``, refused unless canonical and small enough."""
    try:
        parsed = cc.Fulfillment.from_uri(uri)
    except Exception:
        raise InvalidFulfillment(f"{name} is not a valid cf: URI") from None
    _check_threshold_sizes(parsed, name)
    try:
        canonical = parsed.serialize_uri()
    except Exception:
        raise InvalidFulfillment(f"{name} is not a valid cf: URI") from None
    if canonical != uri:
        raise InvalidFulfillment(f"{name} is not in canonical form (expected {canonical})")
    return parsed


def _check_ed25519(uri, expected_uri, message, name):
    """The package's Ed25519 semantics, without building its objects."""
    if not _ED25519_URI.fullmatch(uri):
        raise InvalidFulfillment(f"{name} is not a valid cf:4 (Ed25519) URI")
    payload = base64.urlsafe_b64decode(uri[5:])
    public_key, signature = payload[:_ED25519_KEY_LENGTH], payload[_ED25519_KEY_LENGTH:]
    fingerprint = base64.urlsafe_b64encode(public_key).rstrip(b"=").decode()
    if f"cc:4:20:{fingerprint}:96" != expected_uri:
        raise InvalidSignature(f"{name} does not meet the condition it spends ({expected_uri})")
    try:
        nacl.signing.VerifyKey(public_key).verify(message, signature)
    except (ValueError, TypeError, nacl.exceptions.CryptoError):
        raise InvalidSignature(f"{name} does not validate") from None


def _checked_as_owners_threshold(uri, expected_uri, message, name):
    """Check a threshold fulfillment of owners directly (see ``thresholds``): True when it
    meets ``expected_uri`` and validates, InvalidSignature when it does not; False when it
    is not of that form, for the package to judge."""
    encoded = uri[5:]
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except ValueError:
        return False
    tree = thresholds.read(payload)
    if tree is None or base64.urlsafe_b64encode(payload).rstrip(b"=").decode() != encoded:
        return False
    try:
        owners_uri = condition_uri_for(_owners_of(tree))
    except ValidationError:
        return False  # owners this node does not make: not a condition it can spend
    if owners_uri != expected_uri:
        raise InvalidSignature(f"{name} does not meet the condition it spends ({expected_uri})")
    for public_key, signature in flatten(tree):
        try:
            nacl.signing.VerifyKey(public_key).verify(message, signature)
        except (ValueError, TypeError, nacl.exceptions.CryptoError):
            raise InvalidSignature(f"{name} does not validate") from None
    return True


def _owners_of(tree):
    """The owners list (base58 keys, nested lists) a threshold tree of ``thresholds`` stands for."""
    return [_owners_of(node) if isinstance(node, list) else base58.b58encode(node[0]) for node in tree]


def _check_size(uri, expected_uri, name):
    """Refuse a fulfillment far longer than the condition it spends allows.

    The last field of a condition URI is meant to be the longest fulfillment
    payload that can meet it.  The package's figure runs a few bytes per
    subcondition short (a 2-of-2 Ed25519 payload is 210 bytes, its condition
    says 206), so twice that figure is allowed: enough for every genuine
    fulfillment, and it keeps the package from parsing and sizing
    arbitrarily large structures.
    """
    try:
        max_length = int(expected_uri.rsplit(":", 1)[1])
    except (ValueError, IndexError):
        raise InvalidSignature(f"{name} spends a malformed condition ({expected_uri})") from None
    payload_length = len(uri.split(":", 2)[-1]) * 3 // 4
    if payload_length > 2 * max_length:
        raise InvalidSignature(f"{name} is far longer than the condition it spends allows ({max_length} bytes)")


def _check_threshold_sizes(parsed, name):
    """Refuse thresholds too large to size (see MAX_THRESHOLD_SIZE), at any depth."""
    stack = [parsed]
    while stack:
        node = stack.pop()
        subconditions = getattr(node, "subconditions", None)
        if subconditions is None:
            continue
        if len(subconditions) > MAX_THRESHOLD_SIZE:
            raise NotSupported(f"{name} has a threshold of {len(subconditions)} subconditions; "
                               f"at most {MAX_THRESHOLD_SIZE} are supported")
        stack.extend(sub["body"] for sub in subconditions)


def _condition_uri(parsed, name):
    try:
        return parsed.condition_uri
    except Exception:
        raise InvalidFulfillment(f"{name} is not a valid crypto-condition fulfillment") from None
