"""The conventions of SpeechBrain's Emotion Diarization Error Rate (the ``eder`` preset).

``speechbrain.utils.EDER.EDER`` scores one utterance of one speaker: the
reference is the annotated emotion event with neutral (``n``) before and after
it, up to the utterance's duration; the system output is frame labels, merged
and split into segments (``teer.framewise``); and

    EDER = 1 − (time where the output's label equals the reference's) / duration,

where a reference label is compared by its first letter. SpeechBrain's recipe
reports the mean of the utterances' EDERs.

teer gets the same number from its own sweep: with one speaker on each side and
a reference that covers the whole utterance, a file's MS + CONF_emo is the time
the output does not get right and TOTAL is the duration, so the file's TEER is
its EDER (FA is 0: there is no time without reference speech). The functions
here turn any reference and hypothesis into that form.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .segments import NO_EMOTION, SegmentTable, concat_vocab, encode, remap

Uem = Mapping[str, Sequence[tuple[float, float]]]

#: the one speaker of every file
SPEAKER = "utterance"

#: what the eder preset reports, and the notes that say why the rest is left out
COLUMNS = ("EDER", "EERa", "MS", "FA", "CONF_emo", "AGREE", "TOTAL")
NOTES = (
    "EDER per file is its TEER under these conventions; the figure is the mean over files "
    "(SpeechBrain's recipe)",
    "FA is 0 by construction: the reference covers the whole utterance, so no system output "
    "is false alarm (silence of the system is MS)",
    "sTEER, sEERa, DER, CONF_spk and CONF_emo_spk are left out: with one speaker per utterance "
    "sTEER = EDER, DER = MS / TOTAL and the speaker confusions are 0",
)


def utterances(ref: SegmentTable, uem: Uem | None) -> tuple[dict, str]:
    """The scored time of each file and how it was chosen.

    A UEM if given; else the duration the reference gives (ZED: ``[0, duration]``);
    else ``[0, end of the last reference segment]``.
    """
    if uem is not None:
        return dict(uem), "given"
    spans: dict[str, list[tuple[int, int]]] = {}  # ticks
    if len(ref):
        last = np.full(len(ref.files), -1, np.int64)
        np.maximum.at(last, ref.file, ref.end)
        spans = {ref.files[i]: [(0, int(last[i]))] for i in np.unique(ref.file).tolist()
                 if last[i] > 0}
    if ref.durations:
        spans.update({name: [(0, int(d))] for name, d in ref.durations.items()})
        return spans, "utterance [0, duration]"
    return spans, "utterance [0, end of the last reference segment]"


def fill_neutral(ref: SegmentTable, scored: Uem, neutral: str) -> SegmentTable:
    """The reference with ``neutral`` segments wherever a scored span has no reference segment."""
    order = np.lexsort((ref.start, ref.file))
    by_file: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if len(ref):
        file = ref.file[order]
        cuts = np.flatnonzero(np.diff(file)) + 1
        for part in np.split(np.arange(len(order)), cuts):
            rows = order[part]
            by_file[ref.files[int(ref.file[rows[0]])]] = (ref.start[rows], ref.end[rows])
    files, starts, ends = [], [], []
    for name, spans in scored.items():
        seg_start, seg_end = by_file.get(name, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
        # the gaps between the running maximum end of the segments and the next start
        reach = np.maximum.accumulate(seg_end) if len(seg_end) else seg_end
        gap_start = np.concatenate([[np.iinfo(np.int64).min], reach])
        gap_end = np.concatenate([seg_start, [np.iinfo(np.int64).max]])
        for lo, hi in spans:
            s = np.maximum(gap_start, lo)
            e = np.minimum(gap_end, hi)
            keep = e > s
            files += [name] * int(keep.sum())
            starts.append(s[keep])
            ends.append(e[keep])
    if not files:
        return ref
    filler = SegmentTable.from_columns(files, np.concatenate(starts), np.concatenate(ends),
                                       [SPEAKER] * len(files), [neutral] * len(files),
                                       source=ref.source, in_ticks=True)
    return _concat(ref, filler)


def _concat(a: SegmentTable, b: SegmentTable) -> SegmentTable:
    files, (fa, fb) = concat_vocab([a, b], "files")
    speakers, (sa, sb) = concat_vocab([a, b], "speakers")
    emotions, (ea, eb) = concat_vocab([a, b], "emotions")
    return SegmentTable(
        files, speakers, emotions,
        np.concatenate([remap(a.file, fa), remap(b.file, fb)]),
        np.concatenate([a.start, b.start]), np.concatenate([a.end, b.end]),
        np.concatenate([remap(a.speaker, sa), remap(b.speaker, sb)]),
        np.concatenate([remap(a.emotion, ea), remap(b.emotion, eb)]),
        np.concatenate([a.origin, np.full(len(b), -1, np.int64)]), a.source, list(a.warnings), a.durations)


def one_speaker(table: SegmentTable) -> tuple[SegmentTable, list[str]]:
    """Every segment given to one speaker per file; the files that had several."""
    several: list[str] = []
    if len(table):
        pairs = np.unique(np.stack([table.file, table.speaker]), axis=1)
        counts = np.bincount(pairs[0], minlength=len(table.files))
        several = sorted(table.files[i] for i in np.flatnonzero(counts > 1))
    merged = SegmentTable(table.files, [SPEAKER], table.emotions, table.file, table.start, table.end,
                          np.zeros(len(table), np.int32), table.emotion, table.origin, table.source,
                          list(table.warnings), table.durations)
    return merged, several


def first_letters(tables: Sequence[SegmentTable]) -> tuple[list[SegmentTable], list[tuple[str, ...]]]:
    """Each table with its emotion labels cut to their first letter; the groups of
    distinct labels that thereby become one."""
    groups: dict[str, set[str]] = {}
    out = []
    for table in tables:
        letters = [label[:1] for label in table.emotions]
        used = np.unique(table.emotion[table.emotion != NO_EMOTION])
        for code in used.tolist():
            groups.setdefault(letters[code], set()).add(table.emotions[code])
        vocab, index = encode(letters)
        emotion = np.where(table.emotion == NO_EMOTION, NO_EMOTION,
                           index[np.maximum(table.emotion, 0)] if len(index) else NO_EMOTION)
        out.append(table.relabel_emotions(vocab, emotion))
    # a single-letter label and longer labels with that letter are the convention, not a clash
    clashes = [tuple(sorted(g)) for g in groups.values() if len([x for x in g if len(x) > 1]) > 1]
    return out, sorted(clashes)
