"""pandas DataFrames as segment tables (the Python API), without importing pandas.

A frame has teer's record columns (``file``, ``start``, ``end``, ``speaker`` and an
optional ``emotion``, read as ``records.from_records`` reads dicts: a missing
emotion is none) or SegLST's (``session_id``, ``start_time``, ``end_time``,
``speaker``, ``emotion``, read as a SegLST JSON file is: every row an emotion,
``"<NA>"`` for none). Other columns are ignored. Each value keeps its column's
type: a float32 column gives numpy float32 times, read by their shortest decimal
(``teer.io.values.to_ticks``), not widened to a float64 that was never meant. Rows
are named by position in messages (``record [3]`` / ``segment [3]``).
"""
from __future__ import annotations

from typing import Any

from ..segments import InputError, SegmentTable
from .records import RECORD_COLUMNS, from_records
from .seglst import SEGLST_KEYS, parse_doc


def is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "columns") and hasattr(obj, "to_numpy")


def from_dataframe(frame: Any, source: str) -> SegmentTable:
    columns = [c for c in frame.columns]
    seglst = "session_id" in columns or "start_time" in columns
    wanted = SEGLST_KEYS if seglst else RECORD_COLUMNS
    missing = [c for c in wanted if c not in columns]
    if missing:
        raise InputError(source, None, f"the DataFrame has no column {missing[0]!r} (teer reads the columns "
                         f"{', '.join(RECORD_COLUMNS)} and an optional emotion, or SegLST's "
                         f"{', '.join(SEGLST_KEYS)})")
    used = [c for c in columns if c in wanted or c == "emotion"]
    values = {c: frame[c].to_numpy() for c in used}
    rows = [{c: _missing_as_none(values[c][i]) if c == "emotion" else values[c][i] for c in used}
            for i in range(len(frame))]
    if seglst:
        return parse_doc(rows, source)[0]
    return from_records(rows, source=source)


def _missing_as_none(value: Any) -> Any:
    """pandas' missing values (None, NaN, pd.NA) in the emotion column: no emotion."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return None if type(value).__name__ == "NAType" else value
