"""Sides: each side's (reference, hypothesis) speakers and their speech on the grid.

A speaker is a (file, name) pair; its speech is merged (``same_speaker_overlap="once"``)
or kept segment by segment (``"each"``), and so is each (speaker, emotion) item's. The
per-region count of active speakers is counted on the coarser regions that collars split
(``Coarse``), where the same speakers speak. ``agrees`` is the rule by which two speakers'
emotions agree. A bottom module: the speaker mapping (``teer.matcher``) reads ``Side`` too.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..intervals import Intervals, coverage, merge
from ..segments import NO_EMOTION, SegmentTable, remap, unique_inverse


@dataclass(frozen=True)
class Side:
    """One side (reference or hypothesis) placed on the grid.

    Speakers are numbered globally, file by file: speaker ``s`` is speaker
    ``speaker_name[s]`` of the table in file ``speaker_file[s]``.
    """

    file: np.ndarray  # per segment, file index
    speaker: np.ndarray  # per segment, global (file, speaker) index
    emotion: np.ndarray  # per segment, merged emotion index or NO_EMOTION
    i0: np.ndarray  # per segment, grid index of its start
    i1: np.ndarray  # ... and of its end
    speaker_file: np.ndarray  # per global speaker, its file
    speaker_name: np.ndarray  # per global speaker, index into the table's speakers
    speaker_local: np.ndarray  # per global speaker, its rank among its file's speakers
    #: each speaker's speech (merged, or every segment under same_speaker_overlap="each")
    by_speaker: Intervals
    #: each (speaker, emotion) pair's speech; group = speaker * n_emotions + emotion
    by_speaker_emotion: Intervals
    #: per segment that overlaps an earlier one of its speaker, that speaker
    overlap_speaker: np.ndarray
    #: per region, the number of active speakers
    count: np.ndarray
    #: every segment has an emotion: a speaker is active where one of its items is
    labelled: bool

    @property
    def self_overlaps(self) -> int:
        return len(self.overlap_speaker)


@dataclass(frozen=True)
class Coarse:
    """The grid's points that segments and the UEM put there, without those only collars
    and no-score zones add: who speaks, and so all of ``Together``, changes only at them.
    Coarse region ``c`` is made of the grid's regions ``point[c] .. point[c + 1] - 1``."""

    point: np.ndarray
    #: per grid point, the coarse region that starts there or holds it
    rank: np.ndarray
    #: per coarse region, how many grid regions it holds
    size: np.ndarray

    @classmethod
    def of(cls, n: int, boundaries: Sequence[np.ndarray]) -> "Coarse | None":
        """The coarse points among ``n`` (``boundaries``: grid indices), or None where they are all."""
        is_point = np.zeros(n, bool)
        for at in boundaries:
            is_point[at] = True
        if is_point.all():
            return None
        point = np.flatnonzero(is_point)
        rank = np.cumsum(is_point, dtype=np.intp)
        rank -= 1
        return cls(point, rank, np.diff(point, append=n))

    def side(self, side: Side) -> Side:
        """``side`` with its speech and counts on the coarse regions."""
        def coarse(iv: Intervals) -> Intervals:
            return Intervals(iv.group, self.rank[iv.i0], self.rank[iv.i1])

        return dataclasses.replace(side, by_speaker=coarse(side.by_speaker),
                                   by_speaker_emotion=coarse(side.by_speaker_emotion), count=side.count[self.point])


def side_of(table: SegmentTable, keep: np.ndarray, file: np.ndarray, i0: np.ndarray, i1: np.ndarray,
          emo_map: np.ndarray, n_emotions: int, once: bool, n: int, coarse: Coarse | None = None) -> Side:
    """The segments ``keep`` of ``table`` (in files ``file``, at grid indices ``i0, i1``) as a side
    (its counts found on the ``coarse`` regions, where given: the same, from fewer regions)."""
    # speakers are keyed by (file, name): the same name in two files is two speakers
    n_names = max(len(table.speakers), 1)
    key = file.astype(np.int64) * n_names + table.speaker[keep].astype(np.int64)
    uniq, speaker = unique_inverse(key)
    emotion = remap(table.emotion[keep], emo_map).astype(np.int64)
    speaker_file = uniq // n_names
    has = emotion != NO_EMOTION
    labelled = bool(has.all())
    if labelled:  # (no copies)
        joint, labelled_i0, labelled_i1 = speaker * max(n_emotions, 1) + emotion, i0, i1
    else:
        joint, labelled_i0, labelled_i1 = speaker[has] * max(n_emotions, 1) + emotion[has], i0[has], i1[has]
    if once:
        by_speaker, overlap_speaker = merge(speaker, i0, i1)
        by_speaker_emotion, _ = merge(joint, labelled_i0, labelled_i1)
    else:  # every segment is an item of its own: no two emotions on one item
        by_speaker = Intervals(speaker, i0, i1)
        by_speaker_emotion = Intervals(joint, labelled_i0, labelled_i1)
        overlap_speaker = np.zeros(0, np.int64)
    return Side(file=file.astype(np.int64), speaker=speaker, emotion=emotion, i0=i0, i1=i1, labelled=labelled,
                speaker_file=speaker_file, speaker_name=uniq % n_names,
                speaker_local=np.arange(len(uniq)) - np.searchsorted(speaker_file, speaker_file),
                by_speaker=by_speaker, by_speaker_emotion=by_speaker_emotion, overlap_speaker=overlap_speaker,
                count=_count(by_speaker, n, coarse))


def _count(speech: Intervals, n: int, coarse: Coarse | None) -> np.ndarray:
    """Per grid region, the number of active speakers of ``speech``: counted on the
    ``coarse`` regions (who speaks changes only between them) and repeated in their grid regions."""
    if coarse is None:
        return coverage(speech.i0, speech.i1, n)
    return coverage(coarse.rank[speech.i0], coarse.rank[speech.i1], len(coarse.point))[coarse.rank]


def several_emotions_spans(side: Side, n_emotions: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The spans ``[start, end)`` of grid regions in which a speaker of ``side`` has two or
    more emotions at once (its merged (speaker, emotion) items overlap), one per speaker."""
    items = side.by_speaker_emotion
    if not side.self_overlaps or len(items) == 0:  # otherwise nobody has two emotions at once
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    speaker = items.group // max(n_emotions, 1)
    # only a speaker whose segments overlap can have two emotions at once
    overlapping = np.zeros(len(side.speaker_file), bool)
    overlapping[side.overlap_speaker] = True
    mine = np.flatnonzero(overlapping[speaker])
    speaker, i0, i1 = speaker[mine].astype(np.int64), items.i0[mine], items.i1[mine]
    # each speaker's number of active emotions changes at its items' ends: a running sum
    # of +1 and -1 over the (speaker, grid point) keys, read where each key's run ends
    key = np.concatenate([speaker * (n + 1) + i0, speaker * (n + 1) + i1])
    order = np.argsort(key, kind="stable")
    key = key[order]
    count = np.cumsum(np.concatenate([np.ones(len(mine), np.int64), -np.ones(len(mine), np.int64)])[order])
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else np.zeros(0, np.int64)
    # from each key to the next of the same speaker, the speaker has count[last] emotions
    several = np.flatnonzero(count[last][:-1] >= 2)
    return key[last][several] % (n + 1), key[last][several + 1] % (n + 1)


def agrees(ref_emotions, hyp_emotions):
    """Whether a hypothesis speaker active with the emotions ``hyp_emotions`` agrees with a
    reference speaker active with ``ref_emotions`` (both as the bits of masks, numpy
    arrays or ints; the hypothesis' not empty): where **every** emotion of the hypothesis
    speaker is one of the reference speaker's (H ⊆ R).

    The reference may give a speaker several emotions at once (annotators label its
    overlapping segments differently): any of them is right. A hypothesis that gives one
    speaker several emotions at once is right only if all of them are, so that hedging
    (several labels for the same speech) never scores better than one label.
    """
    return hyp_emotions & ~ref_emotions == 0
