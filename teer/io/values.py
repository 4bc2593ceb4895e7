"""The values inside records: numbers (ASCII decimals), labels, JSON types, times."""
from __future__ import annotations

import bisect
import numbers
import re
from typing import Callable, Sequence

import numpy as np

from .. import ticks
from ..segments import MAX_TIME, InputError

#: Maps a segment's origin to where it is, for messages: a line number (RTTM, UEM)
#: or a string such as "segment [3]" (JSON).
Locate = Callable[[int], "int | str"]


_NUMBER = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))"
_NUMBER_STR = re.compile(_NUMBER + r"\Z")
_NUMBER_BYTES = re.compile(_NUMBER.encode() + rb"\Z")


def is_number(token: str | bytes) -> bool:
    """Whether ``token`` is a number as teer reads them (ASCII decimal, see ``_NUMBER``)."""
    return (_NUMBER_BYTES if isinstance(token, bytes) else _NUMBER_STR).match(token) is not None


#: the coarsest spacing of a float32 (or float16) time that teer reads: 1 ms. A float32 holds
#: times up to 8192 s to under a millisecond; from 16384 s its neighbours are 2 ms apart or more
NARROW_FLOAT_SPACING = 1e-3


def _numpy_number(value: np.generic, source: str, location: int | str, name: str) -> str | int | None:
    """A numpy scalar as the value teer reads: an integer as itself, a float64 as the float,
    a narrower float (float32, float16) as the shortest decimal that is that value in its own
    type (``str(np.float32(0.1))`` is ``0.1``, what was typed, where ``float()`` would give
    0.10000000149011612), refused where that type holds times only coarser than a
    millisecond. None for anything else (not a number)."""
    if isinstance(value, np.bool_):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        if value.dtype == np.float64:
            return None  # a float subclass: read as a float
        if value.dtype.itemsize < 8 and np.isfinite(value) and np.spacing(abs(value)) > NARROW_FLOAT_SPACING:
            raise InputError(source, location, f"{name} {str(value)} is a {value.dtype} value: at this time a "
                             f"{value.dtype} holds only steps of {float(np.spacing(abs(value))):g} s; give times "
                             "as float64 (or decimal strings)")
        return str(value)
    return None


def to_ticks(value: object, source: str, location: int | str, name: str) -> int:
    """One time value from a token or a JSON value, as ticks (``teer.ticks``): a decimal
    string or a JSON number exactly, a Python float to the nearest tick. A non-finite
    value, or one beyond the largest time, is an error here; ``check_times`` checks the rest.

    numpy scalars are numbers too (``_numpy_number``: float32 by its shortest decimal)."""
    if isinstance(value, np.generic):
        converted = _numpy_number(value, source, location, name)
        if converted is not None:
            value = converted
    # bool is an int subclass, but true/false as a time is surely a mistake.
    if isinstance(value, (str, bytes)):
        if not is_number(value):
            shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            raise InputError(source, location, f"{name} {_short(shown)!r} is not a number"
                             + (" (ASCII decimal digits only)" if _python_float(shown) else ""))
        text = value
    elif isinstance(value, JsonNumber):
        text = value.text
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        text = None
    else:
        raise InputError(source, location, f"{name} must be a number, found {json_type(value)}")
    try:
        result = ticks.parse(text) if text is not None else ticks.of_value(value)
    except ticks.NotFinite:
        shown = value if text is None else text
        shown = shown.decode("utf-8", "replace") if isinstance(shown, bytes) else shown
        raise InputError(source, location, f"{name} {_short(str(shown))} is not a finite number") from None
    if abs(result) > ticks.MAX_TICKS:
        shown = str(value) if text is None else (text.decode("utf-8", "replace") if isinstance(text, bytes) else text)
        raise InputError(source, location, f"{name} {_short(shown)} is beyond the largest time teer accepts "
                         f"({MAX_TIME:.0f} s)")
    return result


class JsonNumber(float):
    """A JSON number with a fraction or exponent as ``json`` gives it (``parse_float``): a
    float, that also keeps its text, so that a time is read exactly (``to_ticks``)."""

    def __new__(cls, text: str) -> "JsonNumber":
        number = float.__new__(cls, text)
        number.text = text
        return number


# A label is printed in tables and messages and written as UTF-8: no control
# characters (a newline would break a line-oriented output) and no lone surrogates
# (from JSON "\ud800" escapes; they cannot be encoded).
_BAD_LABEL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_label(label: str, source: str, location: int | str | None, what: str) -> str:
    """``label`` if it has no control character nor lone surrogate, else ``InputError``."""
    if _BAD_LABEL.search(label):
        check_labels([label], np.zeros(1, np.int32), np.zeros(1, np.int64), source, lambda _: location, what)
    return label


def json_label(value: object, key: str, source: str, location: int | str, what: str | None = None) -> str:
    """The label a JSON key holds: a string (``check_label``, named ``what``, by default the
    key) or an integer, which means its decimal string (integer speaker ids are common in
    tool output; numpy integers too, from a DataFrame)."""
    if isinstance(value, str):
        return check_label(value, source, location, what or key)
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    raise InputError(source, location, f"key {key!r} must be a string, found {json_type(value)}")


def check_labels(labels: Sequence[str], codes: np.ndarray, origin: np.ndarray, source: str,
                 locate: Locate, what: str) -> None:
    """Raise for the first label with a control character or a lone surrogate, naming
    the first segment that carries it."""
    for code, label in enumerate(labels):
        bad = _BAD_LABEL.search(label)
        if bad is None:
            continue
        rows = np.flatnonzero(codes == code)
        where = locate(int(origin[rows[0]])) if len(rows) else None
        kind = "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "a control character"
        raise InputError(source, where, f"{what} {_short(label)!r} contains {kind} ({bad.group()!r})")


def _python_float(text: str) -> bool:
    """Whether Python's float() reads ``text`` (as "1_0" or "١٠", which teer does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _short(text: str, limit: int = 40) -> str:
    """A value cut for a message (a 5000-digit number is not worth printing)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def json_type(value: object) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def expect_object(entry: object, keys: Sequence[str], source: str, where: str) -> None:
    """A JSON value that must be an object (with ``keys``): an error naming it otherwise."""
    if not isinstance(entry, dict):
        raise InputError(source, where, f"expected an object with keys {', '.join(keys)}, found {json_type(entry)}")


def require_keys(entry: dict, keys: Sequence[str], source: str, where: int | str) -> None:
    """An error naming the first of ``keys`` that a JSON object lacks or holds null for."""
    for key in keys:
        if entry.get(key) is None:
            raise InputError(source, where, f"missing key {key!r}" if key not in entry else f"key {key!r} is null")


def grouped_locate(offsets: list[int], names: list[str], where: Callable[[str, int], str]) -> Locate:
    """Locate a running index over groups (files) given each group's first index and name:
    ``where(name, index within the group)``."""
    def locate(origin: int) -> str:
        k = bisect.bisect_right(offsets, origin) - 1
        return where(names[k], origin - offsets[k])

    return locate


def describe(location: int | str) -> str:
    """A location as words inside a sentence: ``line 12`` or ``segment [3]``."""
    return f"line {location}" if isinstance(location, int) else location


def check_times(start: np.ndarray, second: np.ndarray, origin: np.ndarray, *,
                is_duration: bool, names: tuple[str, str], source: str,
                locate: Locate) -> np.ndarray:
    """Validate start times and durations (RTTM) or end times (JSON, UEM), in ticks
    (int64, each within +-``ticks.MAX_TICKS``: ``to_ticks`` checked that).

    Raises for the first bad row in file order; returns the mask of rows with
    zero length, which each format treats in its own way.
    """
    start = np.asarray(start, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    length = second if is_duration else second - start
    end = start + second if is_duration else second
    negative_start = start < 0
    negative_length = length < 0
    too_late = (end > ticks.MAX_TICKS) | (start > ticks.MAX_TICKS)
    bad = negative_start | negative_length | too_late
    if bad.any():
        i = int(np.argmax(bad))
        where = locate(int(origin[i]))
        s, x = ticks.text(start[i]), ticks.text(second[i])
        if negative_start[i]:
            problem = f"negative {names[0]} {s}"
        elif negative_length[i] and is_duration:
            problem = f"negative {names[1]} {x}"
        elif negative_length[i]:
            problem = f"{names[1]} {x} is before {names[0]} {s}"
        else:
            what = f"{names[0]} + {names[1]}" if is_duration else names[1]
            problem = f"{what} {ticks.text(end[i])} is beyond the largest time teer accepts ({MAX_TIME:.0f} s)"
        raise InputError(source, where, problem)
    return length == 0
