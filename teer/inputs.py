"""What ``teer.score`` accepts as its inputs, read and checked: each side as a
``SegmentTable`` (``as_table``), the UEM in ticks (``as_uem``) and a fixed speaker map
(``check_speaker_map``).

The checks the file readers (``teer.io``) make on a file are made here on what is
given in memory (a list of dicts, a DataFrame, pyannote Annotations, a mapping), so
that every way in meets the same rules. Nothing here scores.
"""
from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

import numpy as np

from . import messages, ticks
from .segments import MAX_TIME, InputError, SegmentTable, distinct, reference_problems

SegmentsLike = Union[str, os.PathLike, SegmentTable, Sequence[Mapping[str, Any]], Any]
UemLike = Union[str, os.PathLike, Mapping[str, Sequence[tuple[float, float]]], None]


def as_table(segments: SegmentsLike, role: str = "hypothesis") -> SegmentTable:
    """Anything ``score`` accepts as a side, as a validated ``SegmentTable``.

    Accepted: a path to a segment file in any of ``teer.io.FORMATS`` (``-``: standard
    input; ``.gz``: gzip), a ``SegmentTable``, a list of dicts with keys ``file, start,
    end, speaker, emotion`` or SegLST's (read as a SegLST JSON file is), a pandas
    ``DataFrame`` with either set of columns, a pyannote ``Annotation`` with
    ``(speaker, emotion)`` labels or a dict mapping file ids to such annotations, or
    a lhotse ``SupervisionSet``. Times may be numpy scalars (float32 by its shortest
    decimal, ``teer.io.values.to_ticks``).
    """
    from . import io

    if isinstance(segments, (bytes, bytearray)):
        raise TypeError(f"the {role} must be a path (str or os.PathLike), a SegmentTable, a list of dicts "
                        f"or pyannote Annotations, not {type(segments).__name__}")
    if isinstance(segments, (str, os.PathLike)):
        return io.load_reference(segments) if role == "reference" else io.load_hypothesis(segments)
    source = f"<{role}>"
    if isinstance(segments, SegmentTable):
        table = segments
    elif _is_annotation(segments) or (
            isinstance(segments, Mapping) and segments and all(_is_annotation(a) for a in segments.values())):
        from .io.annotation import from_annotations

        table = from_annotations(segments)
    elif _is_lhotse(segments) or (isinstance(segments, Sequence) and segments and _is_lhotse(segments[0])):
        from .io.supervisions import from_supervisions

        table = from_supervisions(segments, source)
    elif type(segments).__name__ == "DataFrame":
        from .io.dataframe import from_dataframe

        table = from_dataframe(segments, source)
    elif isinstance(segments, Sequence) and segments and isinstance(segments[0], Mapping) and (
            "session_id" in segments[0] or "start_time" in segments[0]):
        from .io.seglst import parse_doc

        table = parse_doc(list(segments), source)[0]  # the SegLST dicts a JSON file holds, read as it is
    elif isinstance(segments, Sequence):
        from .io.records import from_records

        table = from_records(segments, source=source)
    else:
        raise TypeError(f"cannot score a {type(segments).__name__} as the {role}: give a path (str or "
                        "os.PathLike), a SegmentTable, a list of dicts with keys file, start, end, speaker, "
                        "emotion (or SegLST's), a pandas DataFrame, pyannote Annotations or a lhotse "
                        "SupervisionSet")
    check_in_memory(table)
    if role == "reference":
        problems = reference_problems(table)
        if problems:
            raise problems[0]
    return table


def _is_lhotse(obj: Any) -> bool:
    """A lhotse ``SupervisionSet`` or ``SupervisionSegment`` (lhotse is not imported)."""
    return type(obj).__name__ in ("SupervisionSet", "SupervisionSegment") and type(obj).__module__.startswith("lhotse")


def _is_annotation(obj: Any) -> bool:
    return type(obj).__name__ == "Annotation" and hasattr(obj, "itertracks")


def check_in_memory(table: SegmentTable) -> None:
    """The time checks the file readers make, for segments given in memory."""
    from .io.values import check_times

    check_times(table.start, table.end, table.origin, is_duration=False, names=("start", "end"),
                source=table.source, locate=int)


def as_uem(uem: UemLike) -> Mapping[str, Sequence[tuple[int, int]]] | None:
    """A UEM path or ``{file: [(start, end), ...]}`` mapping (seconds), or None, as
    ``{file: [(start, end), ...]}`` in ticks (``teer.ticks``)."""
    if uem is None:
        return uem
    if isinstance(uem, Mapping):
        return check_uem_mapping(uem)
    if not isinstance(uem, (str, os.PathLike)):
        raise TypeError(f"uem must be a path or a {{file id: [(start, end), ...]}} mapping, not {uem!r}")
    from .io.uem import read_uem_ticks

    return read_uem_ticks(uem)


def check_uem_mapping(uem: Mapping[str, Sequence[tuple[float, float]]]) -> dict[str, list[tuple[int, int]]]:
    """The checks ``teer.io.read_uem`` makes on a file, for a UEM given as a mapping; the
    mapping in ticks.

    Intervals are (start, end) pairs of numbers (booleans are not numbers), finite,
    with 0 <= start <= end <= MAX_TIME, and the intervals of one file must not
    overlap (the sweep would count the overlapped time twice).
    """
    out = {}
    for name, spans in uem.items():
        if not isinstance(name, str):
            raise TypeError(f"uem: file ids must be strings, found {name!r}")
        if isinstance(spans, (str, bytes)) or not isinstance(spans, Iterable):
            raise TypeError(f"uem[{name!r}]: expected a list of (start, end) pairs, found {spans!r}")
        checked = []
        source = f"uem[{name!r}]"
        for i, span in enumerate(spans):
            where = f"interval [{i}]"
            try:
                start, end = span
            except (TypeError, ValueError):
                raise InputError(source, where, f"expected a (start, end) pair of numbers, found {span!r}") from None
            for value in (start, end):
                if isinstance(value, bool) or not isinstance(value, numbers.Real):
                    raise TypeError(f"{source}[{i}]: times must be numbers (not booleans or strings), "
                                    f"found {value!r}")
            try:
                start, end = ticks.of_value(start), ticks.of_value(end)
            except ticks.NotFinite:
                raise InputError(source, where, f"interval {span!r} is not made of finite times") from None
            if start < 0 or end < start:
                raise InputError(source, where, f"interval {span!r} has a negative start or ends before it starts")
            if end > ticks.MAX_TICKS:
                raise InputError(source, where, f"interval {span!r} ends beyond the largest time teer accepts "
                                 f"({MAX_TIME:.0f} s)")
            checked.append((start, end, i))
        checked.sort()
        for (_, prev_end, prev), (start, _, i) in zip(checked, checked[1:]):
            if start < prev_end:
                raise InputError(source, f"interval [{i}]", f"overlaps interval [{prev}] of the same file")
        out[name] = [(start, end) for start, end, _ in sorted(checked, key=lambda x: x[2])]
    return out


def _speakers_by_file(table: SegmentTable) -> dict[str, set[str]]:
    n = max(len(table.speakers), 1)
    out: dict[str, set[str]] = {}
    for code in distinct(table.file.astype(np.int64) * n + table.speaker).tolist():
        f, k = divmod(code, n)
        out.setdefault(table.files[f], set()).add(table.speakers[k])
    return out


def check_speaker_map(speaker_map: Any, ref: SegmentTable, hyp: SegmentTable) -> list[str]:
    """A fixed mapping must be one-to-one and name speakers that occur in its files.

    Entries for files in neither input change nothing and give a warning; an entry
    naming a speaker that does not occur in its file (names swapped, a typo) is an
    error, since it would silently leave speakers unmapped.
    """
    from .io.speaker_map import SpeakerMap

    if not isinstance(speaker_map, Mapping):
        raise TypeError("speaker_map must be a mapping {(file, hyp speaker): ref speaker}, not "
                        f"{type(speaker_map).__name__}")
    source = getattr(speaker_map, "source", "speaker_map")

    def where(key):
        return speaker_map.where(key) if isinstance(speaker_map, SpeakerMap) else f"entry {key!r}"

    in_ref, in_hyp = _speakers_by_file(ref), _speakers_by_file(hyp)
    targets: dict[tuple[str, str], str] = {}
    elsewhere: list[str] = []
    for key, target in speaker_map.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(x, str) for x in key)
                and isinstance(target, str)):
            raise TypeError("speaker_map entries must be (file, hyp speaker): ref speaker, all strings; "
                            f"found {key!r}: {target!r}")
        file, speaker = key
        if file not in in_ref and file not in in_hyp:
            elsewhere.append(file)
            continue
        if speaker not in in_hyp.get(file, ()):
            raise InputError(source, where(key), f"hypothesis speaker {speaker!r} does not occur in file "
                             f"{file!r} of the hypothesis")
        if target not in in_ref.get(file, ()):
            raise InputError(source, where(key), f"reference speaker {target!r} does not occur in file "
                             f"{file!r} of the reference")
        if (file, target) in targets:
            raise InputError(source, where(key), f"reference speaker {target!r} of {file!r} is mapped twice "
                             f"({targets[(file, target)]!r} and {speaker!r}): the mapping must be one-to-one")
        targets[(file, target)] = speaker
    if not elsewhere:
        return []
    return [messages.speaker_map_files_elsewhere(source, len(elsewhere), sorted(set(elsewhere)))]
