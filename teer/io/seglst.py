"""JSON segment files, in two shapes told apart by content.

* SegLST (meeteval, CHiME): a list of objects with ``session_id``,
  ``start_time``, ``end_time``, ``speaker`` and ``emotion``; other keys are
  ignored.
* A mapping ``{"<file id>": [{"start", "end", "speaker", "emotion"}, ...]}``.

Times may be numbers or numeric strings. Every segment has an ``emotion``:
``"<NA>"`` means none (as in RTTM); a missing or null ``emotion`` is an error.
``origin`` is the segment's index in the list (for the mapping, a running
index over all files in order).
"""
from __future__ import annotations

import json
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import IO, Callable

import numpy as np

from ..segments import NO_EMOTION, InputError, SegmentTable
from .formats import JSON_SHAPES
from .table import build_table, encode_column, rows_table
from .text import check_text, read_bytes
from ..ticks import Seconds, dumps
from .values import JsonNumber, Locate, check_label, check_times, grouped_locate, json_type, to_ticks
from .writing import write_text


def read_seglst(path: str | os.PathLike) -> SegmentTable:
    """Read a JSON segment file in either shape."""
    data, source = read_bytes(path)
    return parse_json(data, source)[0]


def parse_json(data: bytes, source: str) -> tuple[SegmentTable, Locate]:
    """Parse JSON content; also returns how to turn an ``origin`` into a location."""
    return parse_doc(decode_json(data, source), source)


def decode_json(data: bytes, source: str) -> object:
    """The decoded JSON document; ``InputError`` with the line if it is not valid JSON."""
    text = check_text(data, source)
    try:
        doc = json.loads(text, object_pairs_hook=_object, parse_int=_integer, parse_float=JsonNumber)
    except json.JSONDecodeError as err:
        if err.pos >= len(text.rstrip()):
            problem = "truncated JSON (unexpected end of file)"
        else:
            problem = f"not valid JSON: {err.msg} (column {err.colno})"
        raise InputError(source, err.lineno, problem) from None
    except RecursionError:
        raise InputError(source, None, "not valid JSON: nested too deeply") from None
    if type(doc) is _Duplicates:
        raise InputError(source, None, f"file id {doc.duplicate!r} appears twice in the mapping (each file "
                         "must be one key; merge its segment lists)")
    return doc


class _Duplicates(dict):
    """A JSON object in which a key appears twice (json keeps only the last value)."""

    duplicate: str = ""


def _object(pairs: list) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _Duplicates(obj)
    seen: set = set()
    marked.duplicate = next(k for k, _ in pairs if k in seen or seen.add(k))
    return marked


def _integer(digits: str) -> int | float:
    # Python refuses to convert integers of over 4300 digits (a ValueError with no
    # place); such a number is no time anyway, and as a float it is reported as infinite.
    return int(digits) if len(digits) <= 4000 else float(digits)


def parse_doc(doc: object, source: str) -> tuple[SegmentTable, Locate]:
    """A decoded document in either segment shape as a table, and how to locate a segment."""
    declared: list[str] = []
    if isinstance(doc, list):
        locate: Locate = _locate_in_list
        rows = _rows(doc, source, locate, start_key="start_time", end_key="end_time",
                     file_key="session_id")
    elif isinstance(doc, dict):
        if "session_id" in doc or "start_time" in doc:
            raise InputError(source, None, "expected a list of segments, found a single "
                             "segment object (wrap it in [ ])")
        rows, locate = _mapping_rows(doc, source)
        declared = list(doc)
    else:
        raise InputError(source, None, f"found {json_type(doc)}, not one of the JSON shapes teer "
                         "reads: " + "; ".join(JSON_SHAPES))
    files, starts, ends, speakers, emotions, floats = rows
    table = build_table(
        source, locate, np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64),
        np.arange(len(starts), dtype=np.int64), is_duration=False,
        names=("start time", "end time"), files=encode_column(files), speakers=encode_column(speakers),
        emotions=encode_column(emotions), no_emotion=lambda label: label is None,
        seconds=np.array(floats, dtype=np.float64).reshape(-1, 2).T)
    # a file given with no segments (or only zero-length ones) is still a file of this
    # side: the ser-align preset scores it (all missed) where it skips an absent file
    known = set(table.files)
    table.files += [name for name in declared if name not in known]
    return table, locate


NO_EMOTION_HINT = 'give every segment an emotion label, or "<NA>" for none'


def _locate_in_list(index: int) -> str:
    return f"segment [{index}]"


def _mapping_rows(doc: dict, source: str):
    columns: tuple[list, ...] = ([], [], [], [], [], [])
    offsets: list[int] = []  # running index of each file's first segment
    names: list[str] = []
    for file_id, segments in doc.items():
        if not isinstance(segments, list):
            raise InputError(source, f"file {file_id!r}",
                             f"expected a list of segments, found {json_type(segments)}")
        base = len(columns[0])
        offsets.append(base)
        names.append(file_id)
        part = _rows(segments, source, lambda i, f=file_id: f"segment {f}[{i}]",
                     start_key="start", end_key="end", file_id=file_id)
        for out, col in zip(columns, part):
            out.extend(col)

    return columns, grouped_locate(offsets, names, lambda name, i: f"segment {name}[{i}]")


def _rows(segments: list, source: str, where: Callable[[int], str], *, start_key: str,
          end_key: str, file_key: str | None = None, file_id: str | None = None):
    """Columns (file, start, end, speaker, emotion, (start, end) as floats) of one list of
    segment objects (times in ticks, and as the floats the JSON numbers are: the ser-align
    preset compares those as pyannote's ``Segment`` does).

    The file id is each segment's ``file_key`` (SegLST) or the given ``file_id``.
    """
    files, starts, ends, speakers, emotions, floats = [], [], [], [], [], []
    required = ((file_key,) if file_key else ()) + (start_key, end_key, "speaker")
    for i, seg in enumerate(segments):
        if not isinstance(seg, dict):
            raise InputError(source, where(i),
                             f"segment is not an object (found {json_type(seg)})")
        if type(seg) is _Duplicates:
            raise InputError(source, where(i), f"key {seg.duplicate!r} appears twice")
        for key in required:
            if key not in seg:
                raise InputError(source, where(i), f"missing key {key!r}")
            if seg[key] is None:
                raise InputError(source, where(i), f"key {key!r} is null")
        files.append(_label(seg, file_key, source, where(i)) if file_key
                     else check_label(file_id, source, where(i), "file id"))
        starts.append(to_ticks(seg[start_key], source, where(i), start_key))
        ends.append(to_ticks(seg[end_key], source, where(i), end_key))
        floats.append((float(seg[start_key]), float(seg[end_key])))
        speakers.append(_label(seg, "speaker", source, where(i)))
        emotions.append(_emotion(seg, source, where(i)))
    return files, starts, ends, speakers, emotions, floats


def _emotion(seg: dict, source: str, location: str) -> str | None:
    """The segment's emotion label; None for ``"<NA>"`` (any case), as in RTTM.

    A missing or null ``emotion`` is an error: read as "no emotion", a file
    without the key would score as 100 % wrong without a word.
    """
    if "emotion" not in seg:
        raise InputError(source, location, f"missing key 'emotion' ({NO_EMOTION_HINT})")
    if seg["emotion"] is None:
        raise InputError(source, location, f"key 'emotion' is null ({NO_EMOTION_HINT})")
    label = _label(seg, "emotion", source, location)
    return None if label.lower() == "<na>" else label


def _label(seg: dict, key: str, source: str, location: str) -> str:
    value = seg[key]
    if isinstance(value, str):
        return check_label(value, source, location, "file id" if key == "session_id" else key)
    # Integer speaker ids are common in tool output; they mean their decimal string
    # (numpy integers too, from a DataFrame).
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return str(int(value))
    raise InputError(source, location, f"key {key!r} must be a string, found {json_type(value)}")


#: the keys ``format_seglst`` writes for every segment
KEYS = ("session_id", "start_time", "end_time", "speaker", "emotion")


def format_seglst(table: SegmentTable, extra: Mapping[str, Sequence] | None = None) -> str:
    """The table as SegLST JSON, one segment per line (``"emotion": "<NA>"`` where none).

    ``extra`` adds keys of its own to each segment (``{"words": [...]}``, one JSON
    value per segment, written after teer's keys); teer's readers ignore them.
    """
    extra = dict(extra or {})
    for key, values in extra.items():
        if key in KEYS:
            raise ValueError(f"extra key {key!r} is one teer writes itself ({', '.join(KEYS)})")
        if len(values) != len(table):
            raise ValueError(f"extra key {key!r} has {len(values)} values for {len(table)} segments")
    items = []
    for i, (f, s, e, k, m) in enumerate(zip(table.file.tolist(), table.start.tolist(), table.end.tolist(),
                                            table.speaker.tolist(), table.emotion.tolist())):
        # times as the exact decimals of their ticks: they read back as the same ticks
        item = {"session_id": table.files[f], "start_time": Seconds(s), "end_time": Seconds(e),
                "speaker": table.speakers[k]}
        item["emotion"] = "<NA>" if m == NO_EMOTION else table.emotions[m]
        for key, values in extra.items():
            item[key] = values[i]
        items.append(dumps(item, ensure_ascii=False, allow_nan=False))
    return "[\n" + ",\n".join(items) + "\n]\n" if items else "[]\n"


def write_seglst(table: SegmentTable, path_or_file: str | os.PathLike | IO[str],
                 extra: Mapping[str, Sequence] | None = None) -> None:
    """Write the table as a SegLST JSON list to a path (atomically) or an open text file.

    ``extra``: keys of the caller's own per segment, as for ``format_seglst``.
    """
    write_text(path_or_file, format_seglst(table, extra))


def problems_of_doc(doc: object, source: str) -> tuple[SegmentTable, Locate, list[str]]:
    """Every bad segment of a decoded document in either shape, one message each, and
    the table of the good ones."""
    if isinstance(doc, list):
        groups = [(None, doc, "session_id", "start_time", "end_time", _locate_in_list)]
    elif isinstance(doc, dict) and not ("session_id" in doc or "start_time" in doc):
        groups = [(name, segs, None, "start", "end", lambda i, f=name: f"segment {f}[{i}]")
                  for name, segs in doc.items()]
    else:
        parse_doc(doc, source)  # raises the reader's message for the wrong shape
        raise InputError(source, None, "not a segment file")
    columns: tuple[list, ...] = ([], [], [], [], [], [])
    problems = []
    where_of: list[str] = []
    for file_id, segments, file_key, start_key, end_key, where in groups:
        if not isinstance(segments, list):
            problems.append(str(InputError(source, f"file {file_id!r}",
                                           f"expected a list of segments, found {json_type(segments)}")))
            continue
        for i, seg in enumerate(segments):
            try:
                row = _rows([seg], source, lambda _, i=i: where(i), start_key=start_key,
                                   end_key=end_key, file_key=file_key, file_id=file_id)
                f, s, e, k, m, _ = (col[0] for col in row)
                check_times(np.array([s]), np.array([e]), np.array([0]), is_duration=False,
                            names=("start time", "end time"), source=source, locate=lambda _, i=i: where(i))
            except InputError as err:
                problems.append(str(err))
                continue
            for out, value in zip(columns, (f, s, e - s, k, m, len(where_of))):
                out.append(value)
            where_of.append(where(i))
    files, starts, durs, speakers, emotions, origins = columns
    table = rows_table(files, starts, durs, speakers, emotions, origins, source)
    return table, where_of.__getitem__, problems
