"""A double as the reference wrote it in the JSON it hashed.

BigchainDB 0.8 serialised transactions with python-rapidjson 0.0.x, which
writes a double the way RapidJSON does: the digits come from Grisu2 (Florian
Loitsch, "Printing Floating-Point Numbers Quickly and Accurately with
Integers", PLDI 2010), which always reads back as the same double but is not
always the shortest such text, and the digits are laid out in RapidJSON's own
notation.  An id is the hash of that text, so ``reference_text`` rebuilds it
exactly.  tests/data/vectors/floats/floats.jsonl holds the reference's text
of 4,000 doubles; the choices below are those the reference made:

* Numbers are handled as "DIY floating point" values ``f * 2**e`` with a
  64-bit ``f``.  A product keeps the upper 64 bits of the 128-bit product,
  rounded half up.
* The neighbours' midpoints bound the interval of texts that read back as
  the value; the lower one is closer when the significand is a power of two.
  Both are scaled by a cached power of ten ``10**k`` (one every 8 decimal
  exponents, from 10**-348 to 10**340, significands rounded to nearest)
  chosen so that the scaled upper bound has a binary exponent in [-60, -32];
  the scaled interval is narrowed by one unit at each end for the errors of
  the approximation.
* Digits are those of the scaled upper bound, produced until what is left of
  it fits in the interval; then the last digit is lowered while that brings
  the number closer to the scaled value and stays in the interval.
* Layout, with ``n`` digits and the decimal point after ``p`` of them
  (``10**(p-1) <= |v| < 10**p``): ``p`` up to 21 and no fraction writes the
  integer with ``.0`` (``100000000000000000000.0``); ``0 < p <= 21`` puts the
  point among the digits (``12.5``); ``-6 < p <= 0`` writes ``0.`` and
  ``-p`` zeros first (``0.000001``); otherwise one digit, a point and the
  rest if there is more than one, then ``e`` and the exponent without a plus
  sign or leading zeros (``1e-7``, ``1.7976931348623157e308``).  Zeros are
  ``0.0`` and ``-0.0``.

The digit generation is a little costly in Python (a few microseconds), and
the same values come back again and again (a transaction is serialised for
its id and again for every signature), so texts are remembered.
"""

import math
import struct
from functools import lru_cache

_MASK64 = (1 << 64) - 1
_HIDDEN_BIT = 1 << 52
_POW10 = [10**i for i in range(20)]

_FIRST_CACHED_EXPONENT = -348
_CACHED_STEP = 8


def _cached_powers():
    """``(f, e)`` with ``f * 2**e`` nearest 10**d and ``2**63 <= f < 2**64``, for d = -348, -340, ..., 340."""
    powers = []
    for decimal in range(_FIRST_CACHED_EXPONENT, 341, _CACHED_STEP):
        if decimal >= 0:
            numerator, denominator = 10**decimal, 1
        else:
            numerator, denominator = 1, 10**-decimal
        # binary exponent e with 2**63 <= value / 2**e < 2**64
        exponent = numerator.bit_length() - denominator.bit_length() - 64
        while True:
            if exponent >= 0:
                scaled_num, scaled_den = numerator, denominator << exponent
            else:
                scaled_num, scaled_den = numerator << -exponent, denominator
            significand, remainder = divmod(scaled_num, scaled_den)
            if significand >= 1 << 64:
                exponent += 1
            elif significand < 1 << 63:
                exponent -= 1
            else:
                break
        if 2 * remainder >= scaled_den:
            significand += 1
            if significand == 1 << 64:
                significand, exponent = 1 << 63, exponent + 1
        powers.append((significand, exponent))
    return powers


_CACHED_POWERS = _cached_powers()


def _cached_power(exponent):
    """``(f, e, K)``: the cached power 10**-K that brings a binary exponent ``exponent`` into range.

    The index is found as the reference found it: a ceiling of the exponent
    times log10(2), computed in double precision.
    """
    estimate = (-61 - exponent) * 0.30102999566398114 + 347
    k = int(estimate)
    if estimate - k > 0.0:
        k += 1
    index = (k >> 3) + 1
    significand, binary_exponent = _CACHED_POWERS[index]
    return significand, binary_exponent, -(_FIRST_CACHED_EXPONENT + index * _CACHED_STEP)


# The upper boundary of a double, normalised, has a binary exponent in
# [-1137, 960]: for each, the cached power, its K and the number of fraction
# bits of the scaled boundary, worked out once.
_LOWEST_EXPONENT = -1137
_POWER_FOR = []
for _exponent in range(_LOWEST_EXPONENT, 961):
    _power, _power_exponent, _k = _cached_power(_exponent)
    _POWER_FOR.append((_power, _k, -(_exponent + _power_exponent + 64)))
del _exponent, _power, _power_exponent, _k

_HALF = 1 << 63
_DOUBLE = struct.Struct("<d")


def _grisu2(value):
    """``(digits, K)`` with the positive finite ``value`` read as ``int(digits) * 10**K``.

    Products of 64-bit numbers keep their upper 64 bits, rounded half up.
    """
    bits = int.from_bytes(_DOUBLE.pack(value), "little")
    biased_exponent = bits >> 52
    significand = bits & (_HIDDEN_BIT - 1)
    if biased_exponent:
        # a normal double: 53 significant bits, so the shifts are known
        significand += _HIDDEN_BIT
        exponent = biased_exponent - 1075
        upper = ((significand << 1) + 1) << 10
        upper_exponent = exponent - 11
        normalised = significand << 11
    else:
        exponent = -1074
        upper = (significand << 1) + 1
        shift = 64 - upper.bit_length()
        upper <<= shift
        upper_exponent = exponent - 1 - shift
        normalised = significand << (64 - significand.bit_length())
    # the lower boundary m-, on the exponent of m+: closer when the significand is a power of two
    if significand == _HIDDEN_BIT:
        lower = ((significand << 2) - 1) << (exponent - 2 - upper_exponent)
    else:
        lower = ((significand << 1) - 1) << (exponent - 1 - upper_exponent)

    power, k, one_shift = _POWER_FOR[upper_exponent - _LOWEST_EXPONENT]
    scaled = (normalised * power + _HALF) >> 64
    upper = ((upper * power + _HALF) >> 64) - 1
    delta = upper - (((lower * power + _HALF) >> 64) + 1)

    # The digits of the scaled upper bound (``one_shift`` fraction bits) up
    # to the first that leaves a remainder within ``delta``, then rounded
    # towards ``scaled``.  The remainder only shrinks as digits are added, so
    # instead of trying one digit after the other this starts where it
    # surely fits (a digit's weight no more than ``delta``) and backs off
    # while fewer digits still fit.  Up to the units digit "fits" means at
    # most ``delta``; past it, less than.
    one = 1 << one_shift
    above_value = upper - scaled
    integral = upper >> one_shift
    fraction = upper & (one - 1)
    if fraction <= delta:
        whole = delta >> one_shift
        kappa = len(str(whole)) - 1 if whole else 0
        top = len(str(integral)) - 1
        while kappa < top and (integral % _POW10[kappa + 1] << one_shift) + fraction <= delta:
            kappa += 1
        digits, rest = divmod(integral, _POW10[kappa])
        return _round_down(str(digits), delta, (rest << one_shift) + fraction, _POW10[kappa] << one_shift,
                           above_value), k + kappa
    j = max(int((one_shift - delta.bit_length()) * 0.30102999566398114), 1)
    while delta * _POW10[j] < one:
        j += 1
    while j > 1 and ((fraction * _POW10[j - 1]) & (one - 1)) < delta * _POW10[j - 1]:
        j -= 1
    shifted = upper * _POW10[j]
    factor = _POW10[j] if j < 9 else 0
    return _round_down(str(shifted >> one_shift), delta * _POW10[j], shifted & (one - 1), one,
                       (above_value * factor) & _MASK64), k - j


def _round_down(digits, delta, rest, unit, above_value):
    """Lower the last digit while that stays in the interval and comes closer to the value.

    ``rest`` is how far ``digits`` lies below the upper bound, ``unit`` the
    weight of the last digit, ``above_value`` the distance from the value to
    the upper bound.
    """
    steps = 0
    while (rest < above_value and delta - rest >= unit
           and (rest + unit < above_value or above_value - rest > rest + unit - above_value)):
        steps += 1
        rest += unit
    if steps:
        digits = digits[:-1] + chr(ord(digits[-1]) - steps)
    return digits


def _layout(digits, k):
    """RapidJSON's notation for ``int(digits) * 10**k`` (see the module docstring)."""
    length = len(digits)
    point = length + k
    if 0 <= k and point <= 21:
        return digits + "0" * k + ".0"
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    if length == 1:
        return f"{digits}e{point - 1}"
    return f"{digits[0]}.{digits[1:]}e{point - 1}"


@lru_cache(maxsize=65536)
def _positive_text(value):
    return _layout(*_grisu2(value))


def reference_text(value):
    """The reference's JSON text of the float ``value``; ValueError for NaN and infinities,
    which JSON cannot hold."""
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if value != value or value in (math.inf, -math.inf):
        raise ValueError(f"{value!r} is not a finite number")
    if value < 0:
        return "-" + _positive_text(-value)
    return _positive_text(value)


def forget():
    """Drop the remembered texts, so that the next ones are worked out afresh
    (benchmarks/validate_tx.py times that)."""
    _positive_text.cache_clear()
