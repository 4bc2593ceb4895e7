"""SpeechBrain's Emotion Diarization Error Rate (the ``eder`` preset; its conventions in ``teer.eder``).

Each file is one speaker's utterance, scored over all of it; reference time outside
the emotion events has the neutral label; labels are compared by their first
letter. One run; the report is the mean of the per-file rates (the preset's
``average="files"``), each file's TEER being its EDER.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .. import eder, messages
from ..segments import SegmentTable
from .base import Prepared, Protocol, Tables, Uem, uem_setting

if TYPE_CHECKING:
    from ..options import ScoringOptions


class FirstLetter(Protocol):
    name: ClassVar[str] = "first-letter"
    labels_hypothesis_itself = True
    columns = eder.COLUMNS
    notes = eder.NOTES

    def checked_time(self, given_ref: SegmentTable, uem: Uem | None) -> tuple[Uem | None, set[str]]:
        # the utterances, events or not, are scored whole
        return eder.utterances(given_ref, uem)[0], given_ref.file_names() | set(given_ref.durations or ())

    def prepare(self, tables: Tables, options: ScoringOptions) -> Prepared:
        given = tables.given_ref
        if not given.has_emotions():
            raise ValueError("the eder preset scores emotions: the reference has no emotion labels")
        uem, described = eder.utterances(given, tables.uem)
        if tables.uem_given is not None:
            described = uem_setting(tables.uem_given, options.uem_default)
        ref, several = eder.one_speaker(tables.ref)
        ref = eder.fill_neutral(ref, uem, options.neutral)
        hyp, _ = eder.one_speaker(tables.hyp)
        (ref, hyp), clashes = eder.first_letters([ref, hyp])
        warnings = [messages.eder_several_speakers(several)] if several else []
        warnings += [messages.eder_first_letters_clash(group) for group in clashes]
        given_files = sorted(set(tables.given_files()) | set(given.durations or ()))
        return Prepared({"speaker": (ref, hyp)}, uem, given_files, warnings=warnings, uem_described=described)
