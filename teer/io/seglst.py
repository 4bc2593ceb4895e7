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

import os
from collections.abc import Mapping, Sequence
from typing import IO, Callable

import numpy as np

from ..segments import NO_EMOTION, InputError, SegmentTable
from .formats import JSON_SHAPES
from .jsondecode import check_unique_keys, decode_json
from .table import labelled_table, rows_table
from .text import read_bytes
from ..ticks import Seconds, dumps
from .values import (Locate, check_label, check_times, grouped_locate, json_label, json_type, require_keys,
                     to_ticks)
from .writing import write_text


def read_seglst(path: str | os.PathLike) -> SegmentTable:
    """Read a JSON segment file in either shape."""
    data, source = read_bytes(path)
    return parse_doc(decode_json(data, source), source)[0]


def parse_doc(doc: object, source: str) -> tuple[SegmentTable, Locate]:
    """A decoded document in either segment shape as a table, and how to locate a segment."""
    declared: list[str] = []
    if isinstance(doc, list):
        locate: Locate = _locate_in_list
        rows = segment_rows(doc, source, locate, start_key="start_time", end_key="end_time",
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
    table = labelled_table(source, locate, files, starts, ends, speakers, emotions, is_duration=False,
                           names=("start time", "end time"),
                           floats=np.array(floats, dtype=np.float64).reshape(-1, 2).T)
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
        part = segment_rows(segments, source, lambda i, f=file_id: f"segment {f}[{i}]",
                     start_key="start", end_key="end", file_id=file_id)
        for out, col in zip(columns, part):
            out.extend(col)

    return columns, grouped_locate(offsets, names, lambda name, i: f"segment {name}[{i}]")


def segment_rows(segments: list, source: str, where: Callable[[int], str], *, start_key: str,
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
        check_unique_keys(seg, source, where(i))
        require_keys(seg, required, source, where(i))
        if file_key:
            files.append(json_label(seg[file_key], file_key, source, where(i),
                                    "file id" if file_key == "session_id" else None))
        else:
            files.append(check_label(file_id, source, where(i), "file id"))
        starts.append(to_ticks(seg[start_key], source, where(i), start_key))
        ends.append(to_ticks(seg[end_key], source, where(i), end_key))
        floats.append((float(seg[start_key]), float(seg[end_key])))
        speakers.append(json_label(seg["speaker"], "speaker", source, where(i)))
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
    label = json_label(seg["emotion"], "emotion", source, location)
    return None if label.lower() == "<na>" else label


#: the keys of a SegLST segment, which ``format_seglst`` writes for every segment
SEGLST_KEYS = ("session_id", "start_time", "end_time", "speaker", "emotion")


def format_seglst(table: SegmentTable, extra: Mapping[str, Sequence] | None = None) -> str:
    """The table as SegLST JSON, one segment per line (``"emotion": "<NA>"`` where none).

    ``extra`` adds keys of its own to each segment (``{"words": [...]}``, one JSON
    value per segment, written after teer's keys); teer's readers ignore them.
    """
    extra = dict(extra or {})
    for key, values in extra.items():
        if key in SEGLST_KEYS:
            raise ValueError(f"extra key {key!r} is one teer writes itself ({', '.join(SEGLST_KEYS)})")
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
                row = segment_rows([seg], source, lambda _, i=i: where(i), start_key=start_key,
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
