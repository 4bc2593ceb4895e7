"""UEM: scored regions, lines ``file chnl start end``."""
from __future__ import annotations

import os

import numpy as np

from ..segments import InputError
from .text import check_text, read_bytes
from .. import ticks
from .values import check_times, to_ticks

_NAMES = ("start", "end")


def read_uem(path: str | os.PathLike) -> dict[str, list[tuple[float, float]]]:
    """Scored regions per file id, sorted by start time, in float seconds (``read_uem_ticks``
    in ticks, exactly: what teer scores with)."""
    return {name: [(ticks.to_seconds(s), ticks.to_seconds(e)) for s, e in spans]
            for name, spans in read_uem_ticks(path).items()}


def read_uem_ticks(path: str | os.PathLike) -> dict[str, list[tuple[int, int]]]:
    """Scored regions per file id, sorted by start time, in ticks (``teer.ticks``).

    Blank lines and ``;;`` or ``#`` comments are ignored. Intervals of one file
    must not overlap (touching is fine) and must have end > start.
    """
    data, source = read_bytes(path)
    text = check_text(data, source)
    files: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    lines: list[int] = []
    for number, line in enumerate(text.split("\n"), 1):
        fields = line.split()
        if not fields or fields[0].startswith((";;", "#")):
            continue
        if len(fields) != 4:
            raise InputError(source, number, "expected 4 fields (file channel start end), "
                             f"found {len(fields)}")
        files.append(fields[0])
        starts.append(to_ticks(fields[2], source, number, _NAMES[0]))
        ends.append(to_ticks(fields[3], source, number, _NAMES[1]))
        lines.append(number)
    start, end = np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)
    empty = check_times(start, end, np.array(lines, dtype=np.int64), is_duration=False,
                        names=_NAMES, source=source, locate=int)
    if empty.any():
        i = int(np.argmax(empty))
        raise InputError(source, lines[i], f"empty interval: end {ticks.text(ends[i])} equals start")

    by_file: dict[str, list[tuple[int, int, int]]] = {}
    for f, s, e, n in zip(files, starts, ends, lines):
        by_file.setdefault(f, []).append((s, e, n))
    result: dict[str, list[tuple[int, int]]] = {}
    for f, intervals in by_file.items():
        intervals.sort()
        for (_, prev_end, prev_line), (s, _, n) in zip(intervals, intervals[1:]):
            if s < prev_end:
                raise InputError(source, n, f"interval overlaps the one at line {prev_line} "
                                 f"for file {f!r}")
        result[f] = [(s, e) for s, e, _ in intervals]
    return result
