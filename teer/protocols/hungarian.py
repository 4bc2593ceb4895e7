"""SER-Align's evaluation script (the ``ser-align`` preset; its input conventions in ``teer.ser_align``).

The script runs pyannote.metrics' ``DiarizationErrorRate`` three times per file:
on the speakers (MS, FA, TOTAL, CONF_spk), on emotion labels as speakers (whose
confusion, after the per-file Hungarian mapping of the labels, is CONF_emo) and on
``emotion_speaker`` labels (CONF_emo_spk). It scores only files with a hypothesis
and a reference segment of a target emotion, keeps one track per distinct segment,
and without a UEM scores each file over the extent of its reference and hypothesis.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .. import accounting, ser_align
from ..components import Components
from ..segments import NO_EMOTION, SegmentTable
from .base import Prepared, Protocol, Tables, extents

if TYPE_CHECKING:
    from ..options import ScoringOptions

#: label given, in the relabelled runs, to hypothesis speech without an emotion
NO_EMOTION_LABEL = "<NA>"
#: the relabelled runs, each with the component of the report its CONF_spk gives
RELABELLED = (("emotion", "CONF_emo"), ("emotion_speaker", "CONF_emo_spk"))


class Hungarian(Protocol):
    name: ClassVar[str] = "hungarian"
    skips_files = True
    maps_emotions = True

    def prepare(self, tables: Tables, options: ScoringOptions) -> Prepared:
        """The tables, UEM and skipped files as SER-Align's script sees them, and its three runs."""
        given = tables.given_ref
        ref = ser_align.as_annotation_tracks(tables.ref)
        hyp = ser_align.as_annotation_tracks(tables.hyp)
        skipped = ser_align.skipped_files(given.file_names(), ref.file_names(), tables.hypothesis_files,
                                          tables.uem)
        scored = sorted((given.file_names() | set(tables.hypothesis_files) | set(tables.uem or ()))
                        - set(skipped))
        ref = ser_align.only_files(ref, scored)
        hyp = ser_align.only_files(hyp, scored)
        if tables.uem is None:
            uem = extents(given, (ref, hyp))
        else:
            uem = {name: tables.uem[name] for name in scored}
        runs = {"speaker": (ref, hyp)}
        if given.has_emotions():
            runs["emotion"] = (relabel(ref, False), relabel(hyp, False))
            runs["emotion_speaker"] = (relabel(ref, True), relabel(hyp, True))
        warnings = [ser_align.skipped_warning(skipped)] if skipped else []
        return Prepared(runs, uem, tables.given_files(skipped), skipped, last_warnings=warnings)

    def dropped(self, mapped_ref: SegmentTable, scored, options: ScoringOptions) -> SegmentTable:
        # the reference speech the script never sees: outside the emotion set, or a track replaced
        return _as_the_script_reads(mapped_ref, scored)

    def skipped_accounts(self, mapped_ref: SegmentTable, skipped, options: ScoringOptions,
                         emotions: bool) -> dict[str, Components]:
        if not skipped:
            return {}
        return accounting.skipped_files(_as_the_script_reads(mapped_ref, skipped), sorted(skipped),
                                        options.same_speaker_overlap, emotions)

    def combine(self, sums_of: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        # the relabelled runs share files, grid and counts; only the mapping differs
        sums = sums_of["speaker"]
        for name, key in RELABELLED:
            if name in sums_of:
                sums[key] = sums_of[name]["CONF_spk"]
        return sums


def _as_the_script_reads(table: SegmentTable, files) -> SegmentTable:
    """The tracks of ``table`` in ``files`` that the script's annotations hold."""
    return ser_align.only_files(ser_align.as_annotation_tracks(table), files)


def relabel(table: SegmentTable, joint: bool) -> SegmentTable:
    """Speaker := emotion (or ``f"{emotion}_{speaker}"``), emotion removed."""
    emotion_names = np.asarray(list(table.emotions) + [NO_EMOTION_LABEL], dtype=object)
    emotion = np.where(table.emotion == NO_EMOTION, len(table.emotions), table.emotion)
    if joint:
        n = max(len(table.speakers), 1)
        code = emotion.astype(np.int64) * n + table.speaker
        uniq, inverse = np.unique(code, return_inverse=True)
        names = [f"{emotion_names[c // n]}_{table.speakers[c % n]}" for c in uniq.tolist()]
    else:
        uniq, inverse = np.unique(emotion, return_inverse=True)
        names = [emotion_names[c] for c in uniq.tolist()]
    # the labels are strings, as in the script: two pairs that spell the same label are one label
    index: dict[str, int] = {}
    where = np.fromiter((index.setdefault(x, len(index)) for x in names), dtype=np.int32, count=len(names))
    vocab = list(index)
    speaker = where[inverse.reshape(-1)] if len(inverse) else np.zeros(0, np.int32)
    return SegmentTable(table.files, vocab, [], table.file, table.start, table.end,
                        speaker.astype(np.int32), np.full(len(table), NO_EMOTION, np.int32),
                        table.origin, table.source)
