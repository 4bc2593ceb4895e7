"""Every second of reference speech accounted for: what was scored, and what removed it.

The sweep sums the reference speech of each file by the step that removes it
(``engine.scoring.Sweep.accounting``): before anything is removed (``SPEECH``), the UEM,
no-score zones, the region filter and collars, in that order, each counting what
the steps before it left, so that SPEECH minus the four is TOTAL. Reference
speech deleted by ``--non-target drop`` is not in the sweep; it is added here to
the no-score zones' share (and to SPEECH), as removed before everything else.

This module also finds, for warnings (worded in ``teer.messages``), when a step
removes most of the reference, and which reference labels the emotion set leaves out.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from . import messages
from .components import Components
from .intervals import merge
from .segments import NO_EMOTION, SegmentTable
from .ticks import TICKS_PER_SECOND

#: a step that removes more than this share of the reference speech gets a warning
MOST = 0.5
#: the steps that a user chooses and that can swallow the reference (the UEM is a given)
STEPS = ("REMOVED_COLLAR", "REMOVED_NOSCORE", "REMOVED_REGIONS")


def speech(table: SegmentTable, files: Sequence[str], same_speaker_overlap: str) -> np.ndarray:
    """Per file of ``files``, the speaker time of ``table`` (a speaker overlapping itself counted
    once, or each segment under ``same_speaker_overlap="each"``): its SPEECH, as the sweep sums it."""
    from . import engine

    result = engine.score(table, SegmentTable.empty(), None, scored_files=list(files),
                          same_speaker_overlap=same_speaker_overlap)
    return result.components["SPEECH"]


def add_dropped(sums: Mapping[str, np.ndarray], given: SegmentTable, kept: SegmentTable, files: Sequence[str],
                same_speaker_overlap: str) -> None:
    """Add to ``sums`` (per file of ``files``) the reference speech that ``kept`` lacks of
    ``given`` (non-target speech dropped): to SPEECH and to REMOVED_NOSCORE. ``sums``'s
    SPEECH must be ``kept``'s; files where nothing was dropped get exactly 0."""
    dropped_from = _with_fewer_segments(given, kept)
    if not dropped_from:
        return
    touched = np.fromiter((name in dropped_from for name in files), bool, len(files))
    before = speech(given, files, same_speaker_overlap)
    dropped = np.where(touched, np.maximum(before - sums["SPEECH"], 0), 0)
    sums["SPEECH"][:] = np.where(touched, before, sums["SPEECH"])
    sums["REMOVED_NOSCORE"][:] += dropped


def skipped_files(table: SegmentTable, names: Sequence[str], same_speaker_overlap: str, emotions: bool
                  ) -> dict[str, Components]:
    """The accounting of each skipped file of ``names``: its speaker time in ``table`` (as
    ``speech`` counts it), all of it REMOVED_SKIPPED."""
    present = set(table.file_names())
    with_speech = [name for name in names if name in present]
    ticks = dict(zip(with_speech, speech(table, with_speech, same_speaker_overlap).tolist())) if with_speech else {}
    return {name: Components.from_ticks(SPEECH=int(ticks.get(name, 0)), REMOVED_SKIPPED=int(ticks.get(name, 0)),
                                        emotions=emotions) for name in names}


def _with_fewer_segments(given: SegmentTable, kept: SegmentTable) -> set[str]:
    """The files where ``kept`` has fewer segments than ``given``."""
    def per_file(table: SegmentTable) -> dict[str, int]:
        counts = np.bincount(table.file, minlength=len(table.files)).tolist()
        return {name: c for name, c in zip(table.files, counts) if c}

    before, after = per_file(given), per_file(kept)
    return {name for name, c in before.items() if after.get(name, 0) < c}


def removal_warnings(total: Components, collar: float) -> list[str]:
    """A warning for each of collars, no-score zones and the region filter that removes more
    than half of the reference speech, with what ``--collar 0`` would keep."""
    if not total.SPEECH > 0:
        return []
    without_collar = total.TOTAL + total.REMOVED_COLLAR if collar > 0 else None
    return [messages.step_removes_most(key, total[key], total.SPEECH, total.TOTAL, without_collar)
            for key in STEPS if total[key] > MOST * total.SPEECH]


def left_out_labels(ref: SegmentTable, emotions: Sequence[str] | None) -> list[str]:
    """The reference's labels outside the scored set ``emotions`` (none where there is no set)."""
    if emotions is None:
        return []
    wanted = set(emotions)
    used = np.unique(ref.emotion[ref.emotion != NO_EMOTION]).tolist()
    return sorted(ref.emotions[i] for i in used if ref.emotions[i] not in wanted)


def labels_seconds(table: SegmentTable, labels: Sequence[str], same_speaker_overlap: str = "once"
                   ) -> dict[str, float]:
    """Seconds of the speech of ``table`` with each of ``labels`` (those it has), as SPEECH
    counts it: each speaker's time with the label, its overlapping segments with it once
    (or every segment under ``same_speaker_overlap="each"``)."""
    index = {name: i for i, name in enumerate(table.emotions)}
    codes = [index[label] for label in labels if label in index]
    if not codes:
        return {}
    wanted = np.zeros(len(index), bool)
    wanted[codes] = True
    has = np.flatnonzero((table.emotion != NO_EMOTION) & (table.end > table.start))
    has = has[wanted[table.emotion[has]]]
    emotion, start, end = table.emotion[has].astype(np.int64), table.start[has], table.end[has]
    if same_speaker_overlap == "once":
        # the union of each (file, speaker, label)'s segments, on the ranks of their times
        # (``merge`` wants small integers)
        group = ((table.file[has].astype(np.int64) * max(len(table.speakers), 1) + table.speaker[has])
                 * len(index) + emotion)
        points, at = np.unique(np.concatenate([start, end]), return_inverse=True)
        merged, _ = merge(group, at[:len(has)], at[len(has):])
        emotion, start, end = merged.group % len(index), points[merged.i0], points[merged.i1]
    ticks = np.zeros(len(index), np.int64)
    np.add.at(ticks, emotion, end - start)
    return {table.emotions[c]: float(ticks[c]) / TICKS_PER_SECOND for c in codes}  # (for a warning)


def left_out_warning(seconds: Mapping[str, float], non_target: str) -> list[str]:
    """The labels of the reference outside the scored set, with their seconds (``seconds``)."""
    return [messages.labels_left_out(seconds, non_target)] if seconds else []
