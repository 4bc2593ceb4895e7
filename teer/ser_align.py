"""The conventions of SER-Align's evaluation script that are about its input, not its metric.

The script (``teer_calculate.py`` in M4RC034/SER-Align) loops over the
hypothesis files, builds ``pyannote.core.Annotation`` objects with
``annotation[Segment(start, end)] = label`` and skips a file with no
reference segment of a target emotion. Two consequences, reproduced here:

* **Which files are scored**: only files that have a hypothesis *and* a
  reference segment with a target emotion; every other file is skipped
  entirely (its hypothesis speech is not false alarm, its reference speech is
  not missed).
* **One track per segment**: ``Annotation.__setitem__`` keys tracks by
  ``Segment``, so a second segment with the same start and end replaces the
  first (the last one in input order wins), and an empty ``Segment`` (length
  at most ``SEGMENT_PRECISION``, 1 µs) is not added at all. ``Segment`` is a
  frozen dataclass: two segments are equal when their float start and end
  are equal (pyannote.core does not round unless ``Segment.set_precision``
  is called, which the script does not do). Both tests are made here on the
  float times the script reads (the ticks as the nearest double: ``float()`` of
  the decimal, wherever that has at most 9 digits after the point), not on
  the ticks: times given as floats are compared as given (two floats closer
  than a tick are one tick but two ``Segment``s), and a segment of about 1 µs
  is empty or not as its float difference says.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

from . import messages, ticks
from .segments import SegmentTable

#: pyannote.core's ``SEGMENT_PRECISION``: a ``Segment`` no longer than this is empty
SEGMENT_PRECISION = 1e-6

NOT_IN_HYPOTHESIS = "not in the hypothesis"
NOT_IN_REFERENCE = "not in the reference"
NO_TARGET_EMOTION = "no reference segment with a target emotion"
NOT_IN_UEM = "not in the UEM"


def as_annotation_tracks(table: SegmentTable) -> SegmentTable:
    """The segments an ``Annotation`` built with ``annotation[Segment(s, e)] = label``,
    one file at a time in table order, would hold: empty segments left out, and of
    segments with equal (start, end) in one file only the last."""
    n = len(table)
    if n == 0:
        return table
    # the script's float times (those given, else the ticks' nearest doubles), and the same
    # float expression as Segment.__bool__
    start, end = table.seconds or (ticks.to_seconds(table.start), ticks.to_seconds(table.end))
    kept = np.flatnonzero((end - start) > SEGMENT_PRECISION)
    # within a group of equal (file, start, end) (Segment's float equality), the latest row comes first
    order = kept[np.lexsort((-kept, end[kept], start[kept], table.file[kept]))]
    first = np.ones(len(order), bool)
    first[1:] = ((table.file[order[1:]] != table.file[order[:-1]])
                 | (start[order[1:]] != start[order[:-1]])
                 | (end[order[1:]] != end[order[:-1]]))
    if len(order) == n and first.all():
        return table
    mask = np.zeros(n, bool)
    mask[order[first]] = True
    return table.select(mask)


def skipped_files(reference_files: Iterable[str], target_files: Iterable[str],
                  hypothesis_files: Iterable[str], uem: Mapping | None) -> dict[str, str]:
    """The files the script does not score, each with the reason.

    ``reference_files`` are the files of the reference as given,
    ``target_files`` those left with a reference segment after the emotion set
    was applied, ``hypothesis_files`` those the hypothesis names.
    """
    reference, target, hypothesis = set(reference_files), set(target_files), set(hypothesis_files)
    skipped = {}
    for name in sorted(reference | hypothesis | set(uem or ())):
        if name not in hypothesis:
            skipped[name] = NOT_IN_HYPOTHESIS
        elif name not in reference:
            skipped[name] = NOT_IN_REFERENCE
        elif name not in target:
            skipped[name] = NO_TARGET_EMOTION
        elif uem is not None and name not in uem:
            skipped[name] = NOT_IN_UEM
    return skipped


def only_files(table: SegmentTable, names: Iterable[str]) -> SegmentTable:
    """The rows of ``table`` in the files ``names``."""
    wanted = set(names)
    in_files = np.fromiter((f in wanted for f in table.files), bool, len(table.files))
    if len(table) == 0 or in_files[table.file].all():
        return table
    return table.select(in_files[table.file])


def skipped_warning(skipped: Mapping[str, str]) -> str:
    """One line: how many files were skipped, why, and a few of each."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in skipped.items():
        by_reason.setdefault(reason, []).append(name)
    return messages.ser_align_skipped(len(skipped), by_reason)
