"""JSON segment files: telling JSON from other content, and the shape of the document.

The shapes (``formats.JSON_SHAPES``) are told apart by content: SegLST and the
file-to-segments mapping (``seglst``), SpeechBrain's ZED annotation (``zed``)
and frame-wise labels (``frames``). The readers and the ``json`` module load on
first use, so that reading RTTM does not import them.
"""
from __future__ import annotations

import re

from ..segments import InputError, SegmentTable
from .values import Locate
from .formats import JSON_SHAPES, Format

_FIRST_CHAR = re.compile(rb"\S")
# how a JSON document other than a list or an object starts (an RTTM line starts with a letter or ;;)
_JSON_SCALAR_START = frozenset(bytes([c]) for c in b'-0123456789"tfn')


def may_be_json(head: bytes) -> bool:
    """Whether content that starts with ``head`` may be JSON (``is_json`` of the whole
    content can be true); False means it is not."""
    first = _FIRST_CHAR.search(head)
    if first is None:
        return True  # only white space so far: undecided
    char = head[first.start():first.start() + 1]
    return char in (b"[", b"{") or char in _JSON_SCALAR_START


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
    from .seglst import parse_doc

    doc = _decode(data, source)
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


def problems(data: bytes, source: str) -> tuple[SegmentTable, Locate, list[str]]:
    """Every bad segment (SegLST and the mapping), one message each; the ZED and frame
    shapes, and content that is not valid JSON, get their reader's own message."""
    from . import seglst

    doc = _decode(data, source)
    if isinstance(doc, dict) and doc and _special_shape(next(iter(doc.values()))):
        parse_json(data, source)  # ZED annotations and frame labels: the reader's own message
    return seglst.problems_of_doc(doc, source)


def _decode(data: bytes, source: str) -> object:
    from .jsondecode import decode_json

    return decode_json(data, source)  # not JSON, or a key twice: the reader's own message


def _special_shape(first: object) -> bool:
    from . import frames, zed

    return frames.looks_like(first) or zed.looks_like(first)


def _write(table: SegmentTable, path_or_file) -> None:
    from .seglst import write_seglst

    write_seglst(table, path_or_file)


FORMAT = Format("JSON", recognise=is_json, read=parse_json, problems=problems, write=_write,
                may_start=may_be_json)
