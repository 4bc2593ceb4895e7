"""Segments given as Python records: dicts with keys ``file``, ``start``, ``end``,
``speaker`` and an optional ``emotion``, the shape ``teer.score`` takes in Python.

Times are numbers or numeric strings (``values.to_ticks``: booleans are not numbers);
labels are strings (integers mean their decimal string). A missing or None
``emotion`` is none. A record's ``origin`` is its index, shown as ``record [i]``.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from ..segments import InputError, SegmentTable
from .values import check_labels, check_times, json_type, to_ticks

#: the keys every record has (``emotion`` is optional): a DataFrame's columns too (``dataframe``)
RECORD_COLUMNS = ("file", "start", "end", "speaker")


def from_records(records: Iterable[Mapping], source: str = "<memory>") -> SegmentTable:
    """A table of records (dicts with keys file, start, end, speaker and an optional emotion).

    Bad records raise ``InputError`` naming the record by its index.
    """
    columns: tuple[list, ...] = ([], [], [], [], [])
    for i, record in enumerate(records):
        where = f"record [{i}]"
        if not isinstance(record, Mapping):
            raise InputError(source, where, f"expected a mapping, found {type(record).__name__}")
        for key in RECORD_COLUMNS:
            if key not in record:
                raise InputError(source, where, f"missing key {key!r}")
        emotion = record.get("emotion")
        values = (_label(record["file"], "file", source, where),
                  to_ticks(record["start"], source, where, "start"),
                  to_ticks(record["end"], source, where, "end"),
                  _label(record["speaker"], "speaker", source, where),
                  None if emotion is None else _label(emotion, "emotion", source, where))
        for column, value in zip(columns, values):
            column.append(value)
    table = SegmentTable.from_columns(*columns, source=source, in_ticks=True)
    # the floats given too (``seconds``), where every time is a number (not a string)
    times = [(record["start"], record["end"]) for record in records] if isinstance(records, Sequence) else []
    if times and all(isinstance(t, float) for pair in times for t in pair):
        table.seconds = tuple(np.array(column, dtype=np.float64) for column in zip(*times))
    check_times(table.start, table.end, table.origin, is_duration=False, names=("start", "end"),
                source=source, locate=locate_record)
    for vocab, codes, what in ((table.files, table.file, "file id"), (table.speakers, table.speaker, "speaker"),
                               (table.emotions, table.emotion, "emotion")):
        check_labels(vocab, codes, table.origin, source, locate_record, what)
    return table


def locate_record(origin: int) -> str:
    """Where a record is, for messages: its index (``origin`` counts from 1)."""
    return f"record [{origin - 1}]"


def _label(value, key: str, source: str, where: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))  # integer ids mean their decimal string, as in JSON files
    raise InputError(source, where, f"{key} must be a string, found {json_type(value)}")
