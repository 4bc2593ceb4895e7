"""JSON text decoded as teer's JSON readers need it (``seglst``, ``jsonl``,
``supervisions``): a number with a fraction or exponent keeps its text
(``values.JsonNumber``, so that a time is read exactly), an integer too long to
convert is a float (reported as not finite), and an object with a key twice is
marked (``json`` would keep only the last value).

Loaded by the JSON readers only: an RTTM run does not import ``json``.
"""
from __future__ import annotations

import json

from ..segments import InputError
from .text import check_text
from .values import JsonNumber

#: errors of ``loads`` for text that is not valid JSON (``RecursionError``: nested too deeply)
DecodeError = json.JSONDecodeError


class DuplicateKeys(dict):
    """A JSON object in which a key appears twice: ``duplicate`` is the first such key."""

    duplicate: str = ""


def loads(text: str) -> object:
    """The decoded JSON value of ``text``; raises ``DecodeError`` or ``RecursionError``."""
    return json.loads(text, object_pairs_hook=_object, parse_int=_integer, parse_float=JsonNumber)


def decode_json(data: bytes, source: str) -> object:
    """The decoded JSON document; ``InputError`` with the line if it is not valid JSON."""
    text = check_text(data, source)
    try:
        doc = loads(text)
    except DecodeError as err:
        if err.pos >= len(text.rstrip()):
            problem = "truncated JSON (unexpected end of file)"
        else:
            problem = f"not valid JSON: {err.msg} (column {err.colno})"
        raise InputError(source, err.lineno, problem) from None
    except RecursionError:
        raise InputError(source, None, "not valid JSON: nested too deeply") from None
    if type(doc) is DuplicateKeys:
        raise InputError(source, None, f"file id {doc.duplicate!r} appears twice in the mapping (each file "
                         "must be one key; merge its segment lists)")
    return doc


def check_unique_keys(value: object, source: str, where: int | str) -> None:
    """``InputError`` at ``where`` if ``value`` is an object with a key twice."""
    if type(value) is DuplicateKeys:
        raise InputError(source, where, f"key {value.duplicate!r} appears twice")


def _object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = DuplicateKeys(obj)
    seen: set = set()
    marked.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
    return marked


def _integer(digits: str) -> int | float:
    # Python refuses to convert integers of over 4300 digits (a ValueError with no
    # place); such a number is no time anyway, and as a float it is reported as infinite.
    return int(digits) if len(digits) <= 4000 else float(digits)
