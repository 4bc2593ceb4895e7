"""Time as integers: every time is read once into nanosecond ticks, and every duration,
overlap, collar, region and sum after that is integer arithmetic.

Why 1 ns: every decimal with up to 9 digits after the point is exact (RTTM's
milliseconds, pyannote's sliding-window frames such as 0.016875 s and their centres
such as 0.03096875 s, SpeechBrain's 0.02 s frames, the microseconds of ASR tools),
and the largest time teer accepts, 2**32 s (about 136 years), is 4.3e18 ticks: an
onset plus a duration, or a boundary plus a collar, stays below 2**63 in int64.
Sums of a whole corpus are Python integers (no overflow at any size).

How values become ticks:

- text (RTTM, UEM, numeric strings in JSON, JSON numbers): the decimal exactly, rounded
  to the nearest tick (ties to even) where it has more than 9 digits after the point;
- a float (the Python API, pyannote ``Segment`` times): the nearest tick to the double,
  which is the decimal it was written as wherever that has at most 9 digits after the
  point and is below 2**22 s (48 days);
- an integer: that many seconds.
"""
from __future__ import annotations

import decimal
import fractions
import re

import numpy as np

#: ticks per second (1 ns)
TICKS_PER_SECOND = 10 ** 9
DIGITS = 9
#: the largest time teer accepts (2**32 s), in ticks
MAX_TICKS = 2 ** 32 * TICKS_PER_SECOND

_DECIMAL = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?\Z")
#: seconds just beyond the largest time: values further out are clipped to it (and refused)
_BEYOND = 2 ** 32 + 1
#: beyond this exponent a non-zero decimal is far past MAX_TICKS (and 10 ** it is not worth computing)
_HUGE = 40


class NotFinite(ValueError):
    """A time that is not a finite number (inf, nan)."""


def parse(text: str | bytes) -> int:
    """An ASCII decimal (``12.345``, ``.5``, ``1e3``) as ticks, exactly (ties to even beyond
    9 digits after the point). A value far beyond ``MAX_TICKS`` comes back as a value just
    beyond it (the caller's range check names it). ``ValueError`` if not a decimal;
    ``NotFinite`` for inf and nan."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    match = _DECIMAL.match(text)
    if match is None or not (match.group(2) or match.group(3)):
        if text.strip("+-").lower() in ("inf", "infinity", "nan"):
            raise NotFinite(text)
        raise ValueError(text)
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    mantissa = int(whole + fraction or "0")
    if mantissa == 0:
        return 0
    shift = DIGITS - len(fraction) + (int(exponent) if exponent else 0)
    if shift > _HUGE:
        value = _BEYOND * TICKS_PER_SECOND
    elif shift >= 0:
        value = min(mantissa * 10 ** shift, _BEYOND * TICKS_PER_SECOND)
    elif -shift > len(str(mantissa)) + 1:
        value = 0
    else:
        value = _round_half_even(mantissa, 10 ** -shift)
    return -value if sign == "-" else value


def _round_half_even(numerator: int, denominator: int) -> int:
    q, r = divmod(numerator, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2):
        q += 1
    return q


def of_value(value) -> int:
    """Ticks of one number: an int (seconds), a float (nearest tick), a ``Decimal`` or
    ``Fraction`` (exactly, ties to even), or a decimal string. ``NotFinite`` for inf and nan."""
    if isinstance(value, (int, np.integer)):
        value = int(value)
        return max(min(value, _BEYOND), -_BEYOND) * TICKS_PER_SECOND
    if isinstance(value, (str, bytes)):
        return parse(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise NotFinite(str(value))
        return parse(str(value))
    if isinstance(value, fractions.Fraction):
        scaled = value * TICKS_PER_SECOND
        sign = -1 if scaled < 0 else 1
        return sign * _round_half_even(abs(scaled.numerator), scaled.denominator)
    return int(of_seconds(np.asarray([float(value)]))[0])


def of_seconds(seconds: np.ndarray) -> np.ndarray:
    """Float seconds as int64 ticks: the nearest tick to each double (``NotFinite`` where
    one is not finite; magnitudes are clipped just beyond ``MAX_TICKS``, for the range
    checks to name).

    The whole seconds are exact in a double and so is the rest ``x - floor(x)``; the
    rest times 10**9 is within 10**-7 of a tick of its exact value, so rounding it gives
    the nearest tick except within 10**-7 of a half tick.
    """
    seconds = np.asarray(seconds, dtype=np.float64)
    if len(seconds) == 0:
        return np.zeros(0, np.int64)
    if not np.isfinite(seconds).all():
        raise NotFinite(repr(float(seconds[~np.isfinite(seconds)][0])))
    limit = float(_BEYOND)
    clipped = np.clip(seconds, -limit, limit)
    whole = np.floor(clipped)
    rest = np.rint((clipped - whole) * TICKS_PER_SECOND).astype(np.int64)
    return whole.astype(np.int64) * TICKS_PER_SECOND + rest


def to_seconds(ticks) -> np.ndarray | float:
    """Ticks as float seconds (the double nearest to the exact value below 2**53 ticks, 104
    days: the same double as ``float()`` of the decimal)."""
    if isinstance(ticks, (int, np.integer)):
        return int(ticks) / TICKS_PER_SECOND  # (Python's int division rounds correctly at any size)
    return np.asarray(ticks, dtype=np.int64) / TICKS_PER_SECOND


def text(ticks: int) -> str:
    """Ticks as the exact decimal of seconds, without trailing zeros but one (``12.5``,
    ``3.0``, ``-0.25``): what ``repr`` of the float prints wherever that is exact."""
    ticks = int(ticks)
    sign = "-" if ticks < 0 else ""
    whole, rest = divmod(abs(ticks), TICKS_PER_SECOND)
    if rest == 0:
        return f"{sign}{whole}.0"
    return f"{sign}{whole}.{rest:09d}".rstrip("0")


class Seconds(float):
    """A number of seconds known exactly: a float (for arithmetic, comparisons, formats
    such as ``{:.2f}``) that keeps its ticks. ``repr`` and ``dumps`` write the exact decimal
    (``text``), whatever its number of digits."""

    def __new__(cls, ticks: int) -> "Seconds":
        ticks = int(ticks)
        number = float.__new__(cls, ticks / TICKS_PER_SECOND)
        number.ticks = ticks
        return number

    def __repr__(self) -> str:
        return text(self.ticks)

    __str__ = __repr__

    def __reduce__(self):
        return Seconds, (self.ticks,)


def ticks_of(value) -> int:
    """The ticks of a number of seconds: a ``Seconds``'s own, else ``of_value``."""
    return value.ticks if isinstance(value, Seconds) else of_value(value)


_EXACT_REPR = 10 ** 15


def dumps(data, **options) -> str:
    """``json.dumps`` that writes every ``Seconds`` inside ``data`` as its exact decimal
    (``json`` writes any float subclass as the float's ``repr``)."""
    import json

    exact: list[str] = []

    def marked(value):
        # below 10**15 ticks (1e6 s) a decimal of 9 digits after the point has at most 15
        # significant digits: the float's shortest repr, which json writes, is that decimal
        if isinstance(value, Seconds) and not -_EXACT_REPR < value.ticks < _EXACT_REPR:
            exact.append(text(value.ticks))
            return f"\x00{len(exact) - 1}"
        if isinstance(value, dict):
            return {k: marked(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [marked(v) for v in value]
        return value

    encoded = json.dumps(marked(data), **options)
    if not exact:
        return encoded
    # labels cannot hold control characters (teer.io.values.check_label): "\u0000" followed by
    # digits in a string of its own is one of the marks
    return re.sub(r'"\\u0000([0-9]+)"', lambda m: exact[int(m.group(1))], encoded)


def exact_sum(values: np.ndarray) -> int:
    """The sum of int64 ticks as a Python integer, exactly: numpy's where no partial sum can
    pass 2**63, else Python's."""
    if len(values) == 0:
        return 0
    bound = int(np.abs(values).max()) * len(values)
    return int(values.sum()) if bound < 2 ** 63 else sum(values.tolist())
