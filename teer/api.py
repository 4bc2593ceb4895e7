"""The Python API: ``teer.score(reference, hypothesis, ...)``."""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from . import engine
from .components import Components, Report
from .segments import NO_EMOTION, InputError, SegmentTable

SegmentsLike = Union[str, os.PathLike, SegmentTable, Sequence[Mapping[str, Any]], Any]
UemLike = Union[str, os.PathLike, Mapping[str, Sequence[tuple[float, float]]], None]

DEFAULT_COLLAR = 0.25

CONVENTIONS = {
    "emotion_matching": "literal labels",
    "speaker_mapping": "optimal one-to-one (Hungarian) on overlap within the UEM, before collars",
    "same_speaker_overlap": "counted once",
}


def as_table(segments: SegmentsLike, role: str = "hypothesis") -> SegmentTable:
    """Anything ``score`` accepts as a side, as a validated ``SegmentTable``.

    Accepted: a path to an RTTM or JSON file, a ``SegmentTable``, a list of
    dicts with keys ``file, start, end, speaker, emotion``, a pyannote
    ``Annotation`` with ``(speaker, emotion)`` labels, or a dict mapping file
    ids to such annotations.
    """
    from . import io

    if isinstance(segments, (str, os.PathLike)):
        return io.load_reference(segments) if role == "reference" else io.load_hypothesis(segments)
    if isinstance(segments, SegmentTable):
        table = segments
    elif _is_annotation(segments) or (
            isinstance(segments, Mapping) and segments and all(_is_annotation(a) for a in segments.values())):
        from .io.annotation import from_annotations

        table = from_annotations(segments)
    elif isinstance(segments, Sequence):
        table = SegmentTable.from_records(segments, source=f"<{role}>")
    else:
        raise TypeError(f"cannot score a {type(segments).__name__} as the {role}")
    _check_in_memory(table, role)
    return table


def _is_annotation(obj: Any) -> bool:
    return type(obj).__name__ == "Annotation" and hasattr(obj, "itertracks")


def _check_in_memory(table: SegmentTable, role: str) -> None:
    bad = np.flatnonzero(~np.isfinite(table.start) | ~np.isfinite(table.end) | (table.end < table.start))
    if len(bad):
        raise InputError(table.source, int(table.origin[bad[0]]), "segment end before start or not a finite time")
    if role != "reference":
        return
    if len(table) == 0:
        raise InputError(table.source, None, "the reference has no segments")
    missing = table.emotion == NO_EMOTION
    if missing.any() and not missing.all():
        raise InputError(table.source, int(table.origin[np.flatnonzero(missing)[0]]),
                         "segment has no emotion label, but others do")


def as_uem(uem: UemLike) -> Mapping[str, Sequence[tuple[float, float]]] | None:
    """A UEM path or ``{file: [(start, end), ...]}`` mapping, or None."""
    if uem is None or isinstance(uem, Mapping):
        return uem
    from . import io

    return io.read_uem(uem)


@dataclass
class Scoring:
    """One scoring run: the validated inputs, the sweep over them, and its report.

    Analyses that need more than the totals (confusion matrices, breakdowns)
    start from here instead of scoring again.
    """

    ref: SegmentTable
    hyp: SegmentTable
    sweep: engine.Sweep
    report: Report


def score(
    reference: SegmentsLike,
    hypothesis: SegmentsLike,
    *,
    uem: UemLike = None,
    collar: float = DEFAULT_COLLAR,
    regions: str = "all",
    uem_default: str = "reference",
    speaker_map: Mapping[tuple[str, str], str] | None = None,
    noscore: SegmentTable | None = None,
) -> Report:
    """Score a hypothesis against a reference: TEER, sTEER, EERa, sEERa and DER.

    ``collar`` is removed on each side of every reference boundary (md-eval's
    meaning). Without ``uem``, each file is scored over the reference extent
    (``uem_default="reference"``) or the reference and hypothesis extent
    (``"union"``). ``regions`` is one of all, single, overlap, nonoverlap.
    ``speaker_map`` fixes the mapping as ``{(file, hyp speaker): ref speaker}``.
    ``noscore`` is a table of extra no-score zones (like collars).
    Returns a ``Report`` whose ``total`` and ``files`` are ``Components``.
    """
    return run(reference, hypothesis, uem=uem, collar=collar, regions=regions, uem_default=uem_default,
               speaker_map=speaker_map, noscore=noscore).report


def run(
    reference: SegmentsLike,
    hypothesis: SegmentsLike,
    *,
    uem: UemLike = None,
    collar: float = DEFAULT_COLLAR,
    regions: str = "all",
    uem_default: str = "reference",
    speaker_map: Mapping[tuple[str, str], str] | None = None,
    noscore: SegmentTable | None = None,
) -> Scoring:
    """Like ``score``, but keep the inputs and the sweep along with the report."""
    ref = as_table(reference, "reference")
    hyp = as_table(hypothesis, "hypothesis")
    uem_map = as_uem(uem)
    sweep, warnings = engine.build(
        ref, hyp, uem_map, collar=collar, regions=regions, uem_default=uem_default,
        noscore=noscore, speaker_map=speaker_map)
    has_emotions = bool(len(ref)) and bool((ref.emotion != NO_EMOTION).any())
    sums = sweep.components()
    scored_files = _scored_files(sweep, ref, uem_map)
    files = {
        sweep.files[i]: Components(**{k: float(v[i]) for k, v in sums.items()}, emotions=has_emotions)
        for i in scored_files
    }
    total = sum(files.values(), Components(emotions=has_emotions))
    notes = [] if has_emotions else [
        "emotion rates not available: the reference has no emotion labels (DER only)"]
    settings = {
        "collar": collar,
        "uem": _uem_setting(uem, uem_default),
        "regions": regions,
        **CONVENTIONS,
    }
    if speaker_map is not None:
        settings["speaker_mapping"] = "fixed (given)"
    report = Report(settings, total, files, ref.warnings + hyp.warnings + warnings, notes)
    return Scoring(ref, hyp, sweep, report)


def _scored_files(sweep: engine.Sweep, ref: SegmentTable, uem) -> list[int]:
    ref_names = ref.file_names()
    if uem is None:
        return [i for i, name in enumerate(sweep.files) if name in ref_names]
    return [i for i, name in enumerate(sweep.files) if name in uem]


def _uem_setting(uem: UemLike, uem_default: str) -> str:
    if uem is None:
        return "reference extent" if uem_default == "reference" else "reference and hypothesis extent"
    if isinstance(uem, Mapping):
        return "given"
    return os.fspath(uem)
