"""JSON Lines segment files (``.jsonl``): one segment object per line.

Each line is a SegLST record (``session_id``, ``start_time``, ``end_time``,
``speaker``, ``emotion``) or a teer record (``file``, ``start``, ``end``,
``speaker``, ``emotion``), the shape ``teer.score`` takes in Python; lines of
both kinds may be mixed. The values follow the JSON rules (``teer.io.seglst``):
times are numbers or numeric strings, every segment has an ``emotion``
(``"<NA>"``: none), other keys are ignored. Blank lines are skipped. A
segment's ``origin`` is its line number, so that messages read ``FILE:LINE``.

The content is told by its first line: a whole JSON object followed by more
lines (a JSON document that is one object spread over lines starts with a line
that is no whole object; a file of one line is JSON, whose reader says that a
single segment object must be wrapped in ``[ ]``).
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np

from ..segments import InputError, SegmentTable
from .formats import Format
from .table import as_columns, labelled_table, rows_table
from .text import check_text
from .values import Locate, check_times, json_type

#: the keys that place a line's segment in each of the two record shapes: (file, start, end)
SEGLST_PLACE_KEYS = ("session_id", "start_time", "end_time")
RECORD_PLACE_KEYS = ("file", "start", "end")
_NAMES = ("start time", "end time")
#: the keys that make a line a Lhotse supervision: such a file is read by
#: ``teer.io.supervisions``, not as JSON Lines of segments
SUPERVISION_KEYS = ("recording_id", "start", "duration")


def first_object(data: bytes) -> tuple[dict | None, bool]:
    """The first non-blank line decoded, if it is a JSON object (else None), and whether
    more non-blank content follows it."""
    at = 0
    while at < len(data):
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        line = data[at:end].strip()
        if line.startswith(b"\xef\xbb\xbf"):
            line = line[3:].strip()
        if line:
            if not line.startswith(b"{"):
                return None, False
            import json  # here: an RTTM run does not load it

            try:
                obj = json.loads(line)
            except (ValueError, RecursionError):
                return None, False
            return (obj if isinstance(obj, dict) else None), bool(data[end:].strip())
        at = end + 1
    return None, False


def recognise(data: bytes) -> bool:
    # one line alone is JSON: a single segment object there is the JSON reader's error
    obj, more = first_object(data)
    return obj is not None and more and not is_supervision(obj)


def is_supervision(obj: object) -> bool:
    """Whether a decoded line is meant as a Lhotse supervision."""
    return isinstance(obj, dict) and all(key in obj for key in SUPERVISION_KEYS)


def _shape(obj: dict) -> tuple[str, str, str] | None:
    if "session_id" in obj or "start_time" in obj:
        return SEGLST_PLACE_KEYS
    if "file" in obj or ("start" in obj and "end" in obj):
        return RECORD_PLACE_KEYS
    return None


def json_lines(data: bytes, source: str) -> Iterator[tuple[int, object]]:
    """``(line number, decoded value)`` of each non-blank line; ``InputError`` naming the
    line for one that is not valid JSON or has a key twice."""
    for number, value in _values(data, source, detail=True):
        if isinstance(value, InputError):
            raise value
        yield number, value


def _values(data: bytes, source: str, *, detail: bool) -> Iterator[tuple[int, object]]:
    """``(line number, decoded value)`` of each non-blank line; the value is an ``InputError``
    for a line that is not valid JSON (``detail``: with the column and what a line holds)
    or has a key twice."""
    from .jsondecode import DecodeError, check_unique_keys, loads

    for number, line in enumerate(check_text(data, source).splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = loads(line)
            check_unique_keys(value, source, number)
        except DecodeError as err:
            more = f" (column {err.colno}); a JSON Lines file holds one JSON object per line" if detail else ""
            value = InputError(source, number, f"not valid JSON: {err.msg}{more}")
        except RecursionError:
            value = InputError(source, number, "not valid JSON: nested too deeply")
        except InputError as err:
            value = err
        yield number, value


def _row(number: int, value: object, source: str) -> tuple:
    """(file, start, end, speaker, emotion) of one line."""
    from .seglst import segment_rows

    if not isinstance(value, dict):
        raise InputError(source, number, f"expected a segment object, found {json_type(value)}")
    keys = _shape(value) or SEGLST_PLACE_KEYS
    columns = segment_rows([value], source, lambda _: number, file_key=keys[0], start_key=keys[1], end_key=keys[2])
    return tuple(column[0] for column in columns[:5])  # (not the floats: times are read exactly)


def parse_jsonl(data: bytes, source: str) -> tuple[SegmentTable, Locate]:
    """The segments of JSON Lines content; a segment's origin is its line number."""
    rows = [_row(number, value, source) + (number,) for number, value in json_lines(data, source)]
    return labelled_table(source, int, *as_columns(rows, 6), is_duration=False, names=_NAMES), int


def line_problems(data: bytes, source: str, row: Callable[[int, object, str], tuple], *,
                  is_duration: bool, names: tuple[str, str]) -> tuple[SegmentTable, Locate, list[str]]:
    """Every bad line of a JSON Lines file, one message each, and the table of the good
    ones; ``row(number, value, source)`` gives a line's (file, start, end or duration,
    speaker, emotion). A line that is not JSON is a problem of its own."""
    columns: tuple[list, ...] = ([], [], [], [], [], [])
    problems = []
    for number, value in _values(data, source, detail=False):
        try:
            if isinstance(value, InputError):
                raise value
            f, s, x, k, m = row(number, value, source)
            check_times(np.array([s]), np.array([x]), np.array([number]), is_duration=is_duration, names=names,
                        source=source, locate=int)
        except InputError as err:
            problems.append(str(err))
            continue
        for column, v in zip(columns, (f, s, x if is_duration else x - s, k, m, number)):
            column.append(v)
    return rows_table(*columns, source), int, problems


def problems(data: bytes, source: str) -> tuple[SegmentTable, Locate, list[str]]:
    return line_problems(data, source, _row, is_duration=False, names=_NAMES)


def write_jsonl(table: SegmentTable, path_or_file) -> None:
    """The table as JSON Lines, one SegLST record per line (``"emotion": "<NA>"`` where none)."""
    from .seglst import format_seglst
    from .writing import write_text

    listed = format_seglst(table)
    lines = [line.rstrip(",") for line in listed.splitlines()[1:-1]] if len(table) else []
    write_text(path_or_file, "".join(f"{line}\n" for line in lines))


FORMAT = Format("JSON Lines", recognise=recognise, read=parse_jsonl, problems=problems, write=write_jsonl)
