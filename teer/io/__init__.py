"""Reading and writing segment files: RTTM, JSON and UEM.

JSON comes in the shapes of ``JSON_SHAPES``, told apart by content: SegLST and
the file-to-segments mapping (``seglst``), SpeechBrain's ZED annotation
(``zed``) and frame-wise labels (``frames``). ``load`` tells RTTM from JSON by content. ``load_reference`` and
``load_hypothesis`` add the checks that depend on the file's role.
"""
from __future__ import annotations

import os
import re
from typing import Any

from ..segments import InputError, SegmentTable, reference_problems
from ._common import Locate, atomic_write_text, read_bytes
from .rttm import parse_rttm, read_rttm, write_rttm

__all__ = [
    "load", "load_reference", "load_hypothesis", "read_rttm", "write_rttm", "read_seglst",
    "write_seglst", "read_uem", "atomic_write_text", "InputError", "parse_json", "JSON_SHAPES",
]

#: the JSON shapes teer reads, for messages and documentation
JSON_SHAPES = (
    'SegLST [{"session_id", "start_time", "end_time", "speaker", "emotion"}, ...]',
    '{"<file id>": [{"start", "end", "speaker", "emotion"}, ...]}',
    'ZED annotation {"<utterance id>": {"duration", "emotion": [{"emo", "start", "end"}]}}',
    'frame labels {"<file id>": {"window", "stride", "labels": [...]}}',
)

# The JSON and UEM readers load on first use: an RTTM run does not import them.
_LAZY = {"read_seglst": "seglst", "write_seglst": "seglst", "read_uem": "uem"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{_LAZY[name]}", __name__), name)


_FIRST_CHAR = re.compile(rb"\S")
# how a JSON document other than a list or an object starts (an RTTM line starts with a letter or ;;)
_JSON_SCALAR_START = frozenset(bytes([c]) for c in b'-0123456789"tfn')


def is_json(data: bytes) -> bool:
    """Whether content is JSON (to be read as a segment file) rather than RTTM.

    A file starting with ``[`` or ``{`` is JSON. So is any other valid JSON
    document (``42``, ``"text"``, ``null``): the JSON reader then names the
    shapes it reads, instead of the RTTM reader finding no segments.
    """
    first = _FIRST_CHAR.search(data)
    if first is None:
        return False
    char = data[first.start():first.start() + 1]
    if char in (b"[", b"{"):
        return True
    if char not in _JSON_SCALAR_START:
        return False
    import json

    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def parse_json(data: bytes, source: str) -> tuple[SegmentTable, Locate]:
    """JSON content in any of ``JSON_SHAPES``, and how to turn an ``origin`` into a location."""
    from . import frames, zed
    from .seglst import decode_json, parse_doc

    doc = decode_json(data, source)
    if isinstance(doc, dict) and doc:
        file_id, first = next(iter(doc.items()))
        if frames.looks_like(first):
            return frames.parse_frames(doc, source)
        if zed.looks_like(first):
            return zed.parse_zed(doc, source)
        if isinstance(first, dict) and not ("session_id" in doc or "start_time" in doc):
            raise InputError(source, f"file {file_id!r}", "expected a list of segments, found an object "
                             "(the JSON shapes teer reads: " + "; ".join(JSON_SHAPES) + ")")
    return parse_doc(doc, source)


def _load(path: str | os.PathLike) -> tuple[SegmentTable, Locate]:
    data, source = read_bytes(path)
    if is_json(data):
        return parse_json(data, source)
    return parse_rttm(data, source), int


def load(path: str | os.PathLike) -> SegmentTable:
    """Read a segment file: JSON if it is JSON (see ``is_json``), RTTM otherwise."""
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
