"""The Python API: ``teer.score(reference, hypothesis, ...)``."""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from . import checks, pipeline, presets, stream
from .components import Report
from .inputs import SegmentsLike, UemLike, as_table, as_uem, check_in_memory
from .io.text import STDIN, check_stdin, read_whole_only
from .options import ScoringOptions, of_call, with_options
from .parallel import pair, resolve_jobs
from .pipeline import Scoring
from .segments import SegmentTable, reference_problems

__all__ = ["Scoring", "analyze_batches", "as_table", "as_uem", "run", "score", "score_tables"]

DEFAULT_PRESET = presets.DEFAULT_PRESET


@with_options
def score(
    reference: SegmentsLike,
    hypothesis: SegmentsLike,
    *,
    preset: str = DEFAULT_PRESET,
    uem: UemLike = None,
    jobs: int = 1,
    options: ScoringOptions | None = None,
    **given: Any,
) -> Report:
    """Score a hypothesis against a reference: TEER, sTEER, EERa, sEERa and DER.

    ``preset`` names the protocol (``wu2023``, the default, ``ser-align`` or
    ``eder``; see ``teer.presets``); the options left as None take the preset's value.
    ``collar`` is removed on each side of every reference boundary (md-eval's
    meaning). Without ``uem``, each file is scored over the reference extent
    (``uem_default="reference"``) or the reference and hypothesis extent
    (``"union"``). ``regions`` is one of all, single, overlap, nonoverlap.
    ``speaker_map`` fixes the mapping as ``{(file, hyp speaker): ref speaker}``.
    ``noscore`` is a table of extra no-score zones (like collars).
    ``emotion_map`` (``{"exc": "hap"}``, ``"exc=hap,..."`` or a file path)
    renames emotions on both sides first; ``emotions`` (``["neu", "hap"]`` or
    ``"neu,hap"``) is the scored set: reference speech with another emotion is
    a no-score zone (``non_target="noscore"``) or deleted (``"drop"``).
    ``average="files"`` reports the mean of the per-file rates (``Report.mean()``)
    instead of the rates of the summed components (``"sums"``, the default but
    for ``eder``). ``neutral`` (``eder`` only, default ``"n"``) labels the
    reference time outside the annotated emotion events.
    ``jobs`` processes sweep the files (0: every core); the report is identical
    for any number, bit for bit.
    Returns a ``Report`` whose ``total`` and ``files`` are ``Components``.
    The options are declared once, on ``teer.options.resolve``; ``options``, what it
    returns, gives them all at once (checked once, by ``resolve``), in place of ``preset``
    and the options one by one.

    Raises ``teer.InputError`` (a ``ValueError`` with ``source`` and ``location``)
    for bad data in a file, a record (``record [3]``), a UEM or a speaker map;
    ``ValueError`` for an option value out of range (a negative or infinite
    ``collar``, an unknown ``preset``); ``TypeError`` for an argument of the wrong
    type (a path given as bytes, ``collar=True``: booleans are not numbers).
    """
    resolve_jobs(jobs)  # a bad value is refused before the files are read
    check_stdin(reference, hypothesis, uem)
    result = _read_and_score(reference, hypothesis, of_call("score", preset, options, given), uem, jobs)
    _warn(result.report, stacklevel=3)
    return result.report


@with_options
def analyze_batches(reference: SegmentsLike, hypothesis: SegmentsLike, inspect, *, preset: str = DEFAULT_PRESET,
                    uem: UemLike = None, options: ScoringOptions | None = None, **given: Any) -> Scoring:
    """Score as ``score`` does, batch by batch (large RTTM files read in batches too), and
    call ``inspect(sweep, (ref, hyp))`` on each batch's sweep of the speakers and emotions
    as scored: the analyses (``teer analyze``, ``teer plot``) keep what they need of each
    batch, so that their memory stays that of ``score``. Returns a ``Scoring`` without
    tables or sweeps, whose ``inspected`` lists what ``inspect`` returned, batch by batch."""
    check_stdin(reference, hypothesis, uem)
    result = _read_and_score(reference, hypothesis, of_call("analyze_batches", preset, options, given), uem, 1,
                             inspect)
    _warn(result.report, stacklevel=3)
    return result


def _read_and_score(reference: SegmentsLike, hypothesis: SegmentsLike, resolved: ScoringOptions, uem: UemLike,
                    jobs: int, inspect=None) -> Scoring:
    """Read both sides (large RTTM files in batches where the options allow) and score them
    a batch of files at a time, keeping no sweep."""
    sides = [(reference, "reference"), (hypothesis, "hypothesis")]
    # two files are read at once where there are cores for it (parallel.pair)
    files = all(isinstance(side, (str, os.PathLike)) for side, _ in sides)
    # standard input is read in this process (a forked worker's stdin is closed)
    reading_jobs = 1 if any(read_whole_only(side) and os.fspath(side) == STDIN for side, _ in sides) else jobs
    if files and stream.applies(resolved):
        # a large RTTM file grouped by file id is read a batch of files at a time
        ref, hyp = stream.read_sides(sides, reading_jobs)
        batches = stream.batched(ref, hyp)
        if batches is not None:
            ref, hyp = (side.skeleton for side in batches)
    else:
        ref, hyp = pair(lambda: _read_side(sides[0]), lambda: _read_side(sides[1]), reading_jobs if files else 1,
                        room=stream.table_room(hypothesis) if files else 0)
        batches = None
    # files are swept in batches and no sweep is kept: memory stays bounded
    try:
        return pipeline.score(ref, hyp, resolved, uem, keep_sweeps=False, jobs=jobs, batches=batches, inspect=inspect)
    finally:
        for side in batches or ():
            side.close()


def _read_side(side: tuple[SegmentsLike, str]) -> SegmentTable:
    return as_table(*side)


@with_options
def run(reference: SegmentsLike, hypothesis: SegmentsLike, *, preset: str = DEFAULT_PRESET, uem: UemLike = None,
        options: ScoringOptions | None = None, **given: Any) -> Scoring:
    """Like ``score`` (same keyword options), but keep the inputs and the sweeps with the report.

    All files are swept at once, so memory grows with the corpus.
    """
    check_stdin(reference, hypothesis, uem)
    resolved = of_call("run", preset, options, given)
    ref, hyp = as_table(reference, "reference"), as_table(hypothesis, "hypothesis")
    result = pipeline.score(ref, hyp, resolved, uem, keep_sweeps=True)
    _warn(result.report, stacklevel=3)
    return result


def score_tables(reference: SegmentTable, hypothesis: SegmentTable, options: ScoringOptions, *,
                 uem: UemLike = None, reference_files: Sequence[str] = ()) -> Report:
    """Score two tables under resolved options (``teer.options.resolve``).

    For callers that build the tables themselves (``teer.pyannote``): the tables
    are taken as they are (the reference may be empty), their times checked.
    ``reference_files`` names files the reference covers even where it has no
    segment (an empty annotation), so that the hypothesis there is not reported
    as a file without a reference.
    """
    for table in (reference, hypothesis):
        check_in_memory(table)
    problems = reference_problems(reference) if len(reference) else []
    if problems:
        raise problems[0]
    result = pipeline.score(reference, hypothesis, options, uem, keep_sweeps=False, reference_files=reference_files)
    _warn(result.report, stacklevel=3)
    return result.report


def _warn(report: Report, stacklevel: int) -> None:
    for message in report.warnings:
        # stacklevel: the caller of the public function
        warnings.warn(message, checks.TeerWarning, stacklevel=stacklevel + 1)
