"""Threshold fulfillments of owners, read without the cryptoconditions package.

Several owners ``[a, b, ...]`` stand for an n-of-n threshold of weight-1
subconditions, a nested list for a nested threshold (docs/protocol.md §3).  A
fulfillment of one holds every subfulfillment, so it has one form only.
Checking it through the package costs about 0.3 ms of Python per signature,
most of it spent sizing and re-serialising the structure; a POST of 1 MiB of
such fulfillments cost 1.7 s of CPU to refuse.

``read`` decodes a ``cf:2`` payload of exactly that form: every
subcondition a fulfillment of weight 1, each an Ed25519 one (type 4) or such
a threshold (type 2), the threshold equal to their number.  It answers only
when ``write`` gives back the very same bytes, which it writes the way the
package does (subconditions sorted by length, then bytes; lengths in one
byte, as the package's writer can only write): so what it reads is the
package's canonical form.  Anything else is None, for the package to judge.
"""

ED25519_TYPE, THRESHOLD_TYPE = 4, 2
ED25519_PAYLOAD_LENGTH = 96  # public key, then signature


def read(payload):
    """The tree of a threshold ``payload`` (a leaf is ``(public key, signature)``
    bytes, a threshold a list of trees), or None when it is not of the form above."""
    try:
        tree = _Reader(payload).threshold()
    except _NotThisForm:
        return None
    return tree if write(tree) == payload else None


def write(tree):
    """The payload of the threshold ``tree`` (a list), as the package writes it."""
    entries = sorted((_var_uint(1) + _var_octets(_fulfillment(child)) + _var_octets(b"") for child in tree),
                     key=lambda entry: (len(entry), entry))
    return _var_uint(len(tree)) + _var_uint(len(tree)) + b"".join(entries)




def _fulfillment(node):
    if isinstance(node, list):
        return THRESHOLD_TYPE.to_bytes(2, "big") + _var_octets(write(node))
    public_key, signature = node
    return ED25519_TYPE.to_bytes(2, "big") + _var_octets(public_key + signature)


def _var_uint(value):
    return _var_octets(bytes([value]))


def _var_octets(data):
    if len(data) > 255:
        raise _NotThisForm  # the package cannot write it
    return (bytes([len(data)]) if len(data) < 128 else bytes([0x81, len(data)])) + data


class _NotThisForm(Exception):
    pass


class _Reader:
    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, count):
        if self.at + count > len(self.data):
            raise _NotThisForm
        self.at += count
        return self.data[self.at - count:self.at]

    def var_octets(self):
        length = self.take(1)[0]
        if length == 0x81:
            length = self.take(1)[0]
        elif length > 127:
            raise _NotThisForm
        return self.take(length)

    def var_uint(self):
        value = self.var_octets()
        if len(value) != 1:
            raise _NotThisForm
        return value[0]

    def threshold(self):
        threshold, count = self.var_uint(), self.var_uint()
        if count < 2 or threshold != count:
            raise _NotThisForm
        children = [self.child() for _ in range(count)]
        if self.at != len(self.data):
            raise _NotThisForm
        return children

    def child(self):
        if self.var_uint() != 1:
            raise _NotThisForm
        fulfillment = _Reader(self.var_octets())
        if self.var_octets():
            raise _NotThisForm  # a condition in place of a fulfillment
        kind = int.from_bytes(fulfillment.take(2), "big")
        body = fulfillment.var_octets()
        if fulfillment.at != len(fulfillment.data):
            raise _NotThisForm
        if kind == THRESHOLD_TYPE:
            return _Reader(body).threshold()
        if kind == ED25519_TYPE and len(body) == ED25519_PAYLOAD_LENGTH:
            return body[:32], body[32:]
        raise _NotThisForm
