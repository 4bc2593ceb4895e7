"""Reading and writing segment files: RTTM, JSON (SegLST or mapping) and UEM.

``load`` tells RTTM from JSON by content. ``load_reference`` and
``load_hypothesis`` add the checks that depend on the file's role.
"""
from __future__ import annotations

import os
import re

import numpy as np

from ..segments import NO_EMOTION, InputError, SegmentTable
from ._common import Locate, atomic_write_text, read_bytes
from .rttm import parse_rttm, read_rttm, write_rttm
from .seglst import parse_json, read_seglst, write_seglst
from .uem import read_uem

__all__ = [
    "load", "load_reference", "load_hypothesis", "read_rttm", "write_rttm", "read_seglst",
    "write_seglst", "read_uem", "atomic_write_text", "InputError",
]

_FIRST_CHAR = re.compile(rb"\S")


def _load(path: str | os.PathLike) -> tuple[SegmentTable, Locate]:
    data, source = read_bytes(path)
    first = _FIRST_CHAR.search(data)
    if first is not None and data[first.start():first.start() + 1] in (b"[", b"{"):
        return parse_json(data, source)
    return parse_rttm(data, source), int


def load(path: str | os.PathLike) -> SegmentTable:
    """Read a segment file: JSON if it starts with ``[`` or ``{``, RTTM otherwise."""
    return _load(path)[0]


def load_reference(path: str | os.PathLike) -> SegmentTable:
    """Read a reference: it must have segments, and emotion labels on all or none of them.

    A reference without any emotion labels is valid (only DER can be scored).
    """
    table, locate = _load(path)
    if len(table) == 0:
        raise InputError(table.source, None, "reference has no segments")
    missing = table.emotion == NO_EMOTION
    if missing.any() and not missing.all():
        first = int(table.origin[np.argmax(missing)])
        raise InputError(table.source, locate(first),
                         "segment has no emotion label, but others do")
    return table


def load_hypothesis(path: str | os.PathLike) -> SegmentTable:
    """Read a system output: may be empty, and may label only some segments."""
    return _load(path)[0]
