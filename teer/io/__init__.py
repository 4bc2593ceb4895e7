"""Reading and writing segment files: RTTM, JSON, JSON Lines, Lhotse supervisions and UEM.

Each format is a module that declares its ``FORMAT`` (``teer.io.formats``):
how to recognise it, read it, write it and list all its problems. ``FORMATS``
lists them in the order they are tried and ``load`` reads a file in whichever
one it is. JSON (``jsonfile``) comes in the shapes of ``JSON_SHAPES``, told
apart by content: SegLST and the file-to-segments mapping (``seglst``),
SpeechBrain's ZED annotation (``zed``) and frame-wise labels (``frames``).
JSON Lines (``jsonl``) and Lhotse supervision manifests (``supervisions``) are
told by their first line. Any input whose name ends in ``.gz`` is gzip, and
``-`` is standard input (``teer.io.text.read_bytes``).
``load_reference`` and ``load_hypothesis`` add the checks that depend on the
file's role.
"""
from __future__ import annotations

import os
from typing import Any

from ..segments import InputError, SegmentTable, reference_problems
from . import jsonfile, jsonl, rttm, supervisions
from .text import read_bytes
from .values import Locate
from .writing import atomic_write_text
from .formats import JSON_SHAPES, Format
from .jsonfile import is_json, parse_json
from .rttm import parse_rttm, read_rttm, write_rttm

__all__ = [
    "load", "load_reference", "load_hypothesis", "read_rttm", "write_rttm", "read_seglst",
    "write_seglst", "read_uem", "atomic_write_text", "InputError", "parse_json", "JSON_SHAPES", "FORMATS",
    "detect", "other_format", "Format", "from_records",
]

# The JSON, UEM and record readers load on first use: an RTTM run does not import them.
_LAZY = {"read_seglst": "seglst", "write_seglst": "seglst", "read_uem": "uem", "from_records": "records"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


#: the segment-file formats, in the order they are tried (``teer.io.formats``)
FORMATS: tuple[Format, ...] = (supervisions.FORMAT, jsonl.FORMAT, jsonfile.FORMAT, rttm.FORMAT)


def other_format(head: bytes) -> bool:
    """Whether content that starts with ``head`` may be in one of ``FORMATS`` other than RTTM
    (the last, which takes whatever nothing else recognises): where none may claim it, a
    regular file is read as RTTM in pieces."""
    return any(form.may_claim(head) for form in FORMATS if form is not rttm.FORMAT)


def detect(data: bytes) -> Format:
    """The format of some content: the first of ``FORMATS`` that recognises it."""
    return next(form for form in FORMATS if form.recognise(data))


def _load(path: str | os.PathLike) -> tuple[SegmentTable, Locate]:
    # A regular RTTM file (the usual input, and the large one) is read in pieces; it is
    # what detect() would choose, since no other format may claim its first piece.
    table = rttm.read_streamed(path, other_format)
    if table is not None:
        return table, int
    data, source = read_bytes(path)
    return detect(data).read(data, source)


def load(path: str | os.PathLike) -> SegmentTable:
    """Read a segment file in whichever of ``FORMATS`` it is (JSON if it is JSON, RTTM otherwise)."""
    return _load(path)[0]


def load_reference(path: str | os.PathLike) -> SegmentTable:
    """Read a reference: it must have segments, and emotion labels on all or none of them.

    A reference without any emotion labels is valid (only DER can be scored).
    """
    table, locate = _load(path)
    problems = reference_problems(table, locate)
    if problems:
        raise problems[0]
    return table


def load_hypothesis(path: str | os.PathLike) -> SegmentTable:
    """Read a system output: may be empty, and may label only some segments."""
    return _load(path)[0]
