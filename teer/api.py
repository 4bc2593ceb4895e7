"""The Python API: ``teer.score(reference, hypothesis, ...)``."""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import accounting, checks, eder, engine, messages, presets, ser_align, stream
from .options import ScoringOptions, of_call, with_options
from .components import KEYS, SUMS, Components, Report
from .emotions import apply_map, concat_zones, describe_map, restrict
from .parallel import ordered_map, pair, resolve_jobs
from .io.text import STDIN, check_stdin, read_whole_only
from .inputs import SegmentsLike, UemLike, as_table, as_uem, check_in_memory, check_speaker_map
from .segments import NO_EMOTION, SegmentTable, reference_problems

DEFAULT_PRESET = presets.DEFAULT_PRESET

#: label given, in the ser-align relabelling, to hypothesis speech without an emotion
NO_EMOTION_LABEL = "<NA>"


@dataclass
class Scoring:
    """One scoring run: the validated inputs, the sweep over them, and its report.

    Analyses that need more than the totals (confusion matrices, breakdowns)
    start from here instead of scoring again. ``ref`` and ``hyp`` are the
    tables as scored (emotion map applied, non-target reference segments
    dropped if so chosen). Under the ``ser-align`` preset, ``sweep`` is the
    sweep on the real speakers and emotions (which gives MS, FA, TOTAL, AGREE
    and CONF_spk) and ``sweeps`` holds all three: ``speaker``, ``emotion``
    (speaker := emotion, whose CONF_spk is CONF_emo) and ``emotion_speaker``
    (speaker := emotion_speaker, whose CONF_spk is CONF_emo_spk).
    """

    ref: SegmentTable
    hyp: SegmentTable
    sweep: engine.Sweep
    report: Report
    sweeps: dict[str, engine.Sweep] = field(default_factory=dict)
    #: what ``inspect`` returned for each batch's sweep of the speaker run (``analyze_batches``)
    inspected: list = field(default_factory=list)


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
    scoring = _read_and_score(reference, hypothesis, of_call("score", preset, options, given), uem, jobs)
    _warn(scoring.report, stacklevel=3)
    return scoring.report


@with_options
def analyze_batches(reference: SegmentsLike, hypothesis: SegmentsLike, inspect, *, preset: str = DEFAULT_PRESET,
                    uem: UemLike = None, options: ScoringOptions | None = None, **given: Any) -> Scoring:
    """Score as ``score`` does, batch by batch (large RTTM files read in batches too), and
    call ``inspect(sweep, (ref, hyp))`` on each batch's sweep of the speakers and emotions
    as scored: the analyses (``teer analyze``, ``teer plot``) keep what they need of each
    batch, so that their memory stays that of ``score``. Returns a ``Scoring`` without
    tables or sweeps, whose ``inspected`` lists what ``inspect`` returned, batch by batch."""
    check_stdin(reference, hypothesis, uem)
    scoring = _read_and_score(reference, hypothesis, of_call("analyze_batches", preset, options, given), uem, 1,
                              inspect)
    _warn(scoring.report, stacklevel=3)
    return scoring


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
        return _score(ref, hyp, resolved, uem, keep_sweeps=False, jobs=jobs, batches=batches, inspect=inspect)
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
    scoring = _score(ref, hyp, resolved, uem, keep_sweeps=True)
    _warn(scoring.report, stacklevel=3)
    return scoring


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
    scoring = _score(reference, hypothesis, options, uem, keep_sweeps=False, reference_files=reference_files)
    _warn(scoring.report, stacklevel=3)
    return scoring.report


def _warn(report: Report, stacklevel: int) -> None:
    for message in report.warnings:
        # stacklevel: the caller of the public function
        warnings.warn(message, checks.TeerWarning, stacklevel=stacklevel + 1)


def _score(ref: SegmentTable, hyp: SegmentTable, options: ScoringOptions, uem: UemLike,
           keep_sweeps: bool, reference_files: Sequence[str] = (), jobs: int = 1,
           batches: tuple[stream.Side, stream.Side] | None = None, inspect=None) -> Scoring:
    """Score validated tables under resolved options.

    With ``batches`` (``teer.stream``), ``ref`` and ``hyp`` are their skeletons (what the
    checks on the whole inputs need) and the segments are read and swept a batch of
    files at a time.
    """
    chosen = options.preset
    emotion_set, mapping = options.emotions, options.emotion_map
    collar, regions, uem_default = options.collar, options.regions, options.uem_default
    non_target = options.non_target
    uem_map = input_uem = as_uem(uem)
    map_warnings = ([] if options.speaker_map is None
                    else check_speaker_map(options.speaker_map, ref, hyp))
    original_ref, original_hyp = ref, hyp
    hypothesis_files = list(hyp.files)
    ref = apply_map(ref, mapping)
    hyp = apply_map(hyp, mapping)
    mapped_ref = ref
    # the time check adds up every segment: read in batches, it is added up batch by batch
    input_warnings = _input_warnings(original_ref, ref, hyp, hypothesis_files, chosen,
                                     uem_map, timed=batches is None)
    time_check_at = len(input_warnings)
    ref, zones, warnings = restrict(ref, emotion_set, non_target)
    warnings = (input_warnings + checks.emotion_option_warnings(emotion_set, mapping, (original_ref, original_hyp),
                                                                (mapped_ref, hyp)) + warnings)
    left_out = accounting.left_out_labels(mapped_ref, emotion_set)
    skipped: dict[str, str] = {}
    if chosen.emotion_matching == "hungarian":
        ref, hyp, uem_map, skipped = _as_ser_align_script(original_ref, ref, hyp, hypothesis_files, uem_map)
    elif non_target == "drop":
        emptied = sorted(original_ref.file_names() - ref.file_names())
        if emptied:
            warnings.append(messages.files_without_scored_emotions(emptied))
    zones = concat_zones(options.noscore, zones)
    has_emotions = original_ref.has_emotions()
    # a hypothesis without a single emotion label cannot be scored on emotions either
    hyp_without_emotions = (len(hyp) > 0 and not hyp.has_emotions()
                            and chosen.emotion_matching != "first-letter")

    given_files = sorted((original_ref.file_names() | set(reference_files)) - set(skipped))
    columns, eder_notes = KEYS, []
    if chosen.emotion_matching == "hungarian":
        runs = _hungarian_runs(ref, hyp, has_emotions)
    elif chosen.emotion_matching == "first-letter":
        if not has_emotions:
            raise ValueError("the eder preset scores emotions: the reference has no emotion labels")
        uem_map, uem_described = eder.utterances(original_ref, uem_map)
        if uem is not None:
            uem_described = _uem_setting(uem, uem_default)
        given_files = sorted(set(given_files) | set(original_ref.durations or ()))
        ref, several = eder.one_speaker(ref)
        ref = eder.fill_neutral(ref, uem_map, options.neutral)
        hyp, _ = eder.one_speaker(hyp)
        (ref, hyp), clashes = eder.first_letters([ref, hyp])
        if several:
            warnings.append(messages.eder_several_speakers(several))
        for group in clashes:
            warnings.append(messages.eder_first_letters_clash(group))
        runs = {"speaker": (ref, hyp)}
        columns, eder_notes = eder.COLUMNS, list(eder.NOTES)
    else:
        if uem_map is None and non_target == "drop":
            # the scored time stays that of the reference as given, so that system speech
            # where non-target speech was dropped is false alarm, not unscored
            uem_map = _extents(original_ref, (original_ref, hyp) if uem_default == "union" else (original_ref,))
        runs = {"speaker": (ref, hyp)}
    # the options as resolve() checked them (the eder preset's uem_default "utterance" is
    # never read: it always gives the scored time, ``uem_map``)
    build_options = dict(options=engine.SweepOptions.of(options), noscore=zones)
    scored = sorted(uem_map) if uem_map is not None else given_files
    sweeps, sums_of, engine_warnings, speaker_mappings, inspected = {}, {}, [], {}, []
    for name, (r, h) in runs.items():
        # the analyses look at the run on the real speakers and emotions
        run_options = {**build_options, "inspect": inspect} if inspect is not None and name == "speaker" \
            else build_options
        if batches is not None:
            result, time_check, left_out_seconds = _score_batches(batches, options, uem_map, input_uem, r, h, scored,
                                                                  given_files, run_options, left_out, jobs)
            inspected += result.inspected
            warnings[time_check_at:time_check_at] = time_check
            engine_warnings += _engine_warnings(result)
            sums_of[name] = result.components
            speaker_mappings.setdefault(name, result.mapping)
            continue
        # batches of files keep memory bounded; one sweep of all files is kept for analyses
        result = engine.score(r, h, uem_map, scored_files=scored, reference_files=given_files,
                              batch_segments=None if keep_sweeps else engine.scoring.BATCH_SEGMENTS, jobs=jobs,
                              **run_options)
        inspected += result.inspected
        if keep_sweeps:
            sweeps[name] = result.sweep
        sums_of[name] = result.components
        speaker_mappings.setdefault(name, result.mapping)
        # the runs on relabelled tables (ser-align) see the same files: say each thing once
        engine_warnings += [w for w in _engine_warnings(result) if w not in engine_warnings]
    sums = sums_of["speaker"]
    if batches is None:
        left_out_seconds = accounting.labels_seconds(mapped_ref, left_out, chosen.same_speaker_overlap)
        if chosen.emotion_matching == "hungarian":
            tracks = ser_align.only_files(ser_align.as_annotation_tracks(mapped_ref), scored)
            accounting.add_dropped(sums, tracks, ref, scored, chosen.same_speaker_overlap)
        elif non_target == "drop":
            accounting.add_dropped(sums, mapped_ref, ref, scored, chosen.same_speaker_overlap)
    warnings += accounting.left_out_warning(left_out_seconds, non_target)
    # the runs on relabelled tables share files, grid and counts; only the mapping differs
    for name, key in (("emotion", "CONF_emo"), ("emotion_speaker", "CONF_emo_spk")):
        if name in sums_of:
            sums[key] = sums_of[name]["CONF_spk"]
    notes = [] if has_emotions else [
        "emotion rates not available: the reference has no emotion labels (DER only)"]
    if hyp_without_emotions:
        notes.append("emotion rates not available: the hypothesis has no emotion labels (DER only)")
        has_emotions = False
    files = {
        name: Components.from_ticks(**{k: int(v[i]) for k, v in sums.items()}, emotions=has_emotions)
        for i, name in enumerate(scored)
    }
    # the files the preset skips, in the accounting: their reference speech, all of it skipped
    skipped_files = {} if not skipped else accounting.skipped_files(
        ser_align.only_files(ser_align.as_annotation_tracks(mapped_ref), skipped), sorted(skipped),
        chosen.same_speaker_overlap, has_emotions)
    total = sum([*files.values(), *skipped_files.values()], Components(emotions=has_emotions))
    settings = {
        "preset": chosen.name,
        "collar": collar,
        "uem": uem_described if chosen.emotion_matching == "first-letter" else _uem_setting(uem, uem_default),
        "regions": regions,
        "emotions": ",".join(emotion_set) if emotion_set else "all",
    }
    if mapping:
        settings["emotion_map"] = describe_map(mapping)
    if emotion_set:
        settings["non_target"] = "no-score zone" if non_target == "noscore" else "dropped"
    settings.update(chosen.conventions)
    if options.neutral is not None:
        settings["neutral"] = f"{options.neutral!r} (reference time outside the emotion events)"
    settings["average"] = ("mean of per-file rates" if options.average == "files"
                           else "rates of summed components")
    if options.speaker_map is not None:
        settings["speaker_mapping"] = "fixed (given)"
    if skipped:
        warnings.append(ser_align.skipped_warning(skipped))
    report = Report(settings, total, files,
                    ref.warnings + hyp.warnings + map_warnings + warnings + engine_warnings
                    + accounting.removal_warnings(total, collar),
                    notes + eder_notes, skipped, options.average, columns, speaker_mappings["speaker"],
                    skipped_files)
    return Scoring(ref, hyp, sweeps.get("speaker"), report, sweeps, inspected)


def _engine_warnings(result: engine.Result) -> list[str]:
    """The warnings of the engine's counts (``teer.messages``): files on one side only, then
    segments that overlap their own speaker, then hedged speech."""
    apart = result.files_apart
    return (messages.file_warnings(apart.only_hyp, apart.only_hyp_in_uem, apart.not_in_uem)
            + messages.overlap_warnings(*result.self_overlaps)
            + messages.several_emotions_warnings(result.hyp_several_emotions))


def _input_warnings(original_ref: SegmentTable, ref: SegmentTable, hyp: SegmentTable,
                    hypothesis_files: Sequence[str], chosen: presets.Preset, uem_map, timed: bool = True) -> list[str]:
    """What looks wrong in the inputs (``teer.checks``): ``ref`` and ``hyp`` with the
    emotion map applied, ``hypothesis_files`` the files the hypothesis names; the time
    check (the last) only where ``timed``."""
    found = checks.hypothesis_warnings(hyp)
    ref_files = original_ref.file_names()
    if chosen.emotion_matching == "first-letter":  # the utterances, events or not, are scored whole
        uem_map = eder.utterances(original_ref, uem_map)[0]
        ref_files |= set(original_ref.durations or ())
    if chosen.emotion_matching == "literal":  # the other presets map labels or compare first letters
        found += checks.emotion_label_warnings(ref, hyp)
    # under ser-align, the files on one side only are among the skipped ones
    if len(hyp):  # an empty hypothesis has its own warning
        found += checks.file_warnings(ref_files, hypothesis_files,
                                      reference_only=chosen.emotion_matching != "hungarian")
    if timed:
        found += checks.time_warnings(original_ref, hyp, uem_map)
    return found


def _score_batches(batches: tuple[stream.Side, stream.Side], options: ScoringOptions, uem_map, input_uem,
                   ref: SegmentTable, hyp: SegmentTable, scored: Sequence[str], given_files: Sequence[str],
                   build_options: dict, left_out: Sequence[str], jobs: int
                   ) -> tuple[engine.Result, list[str], dict[str, float]]:
    """``engine.score`` of the literal presets and the time check, on inputs read a batch
    of files at a time (``teer.stream``): each batch gets the emotion map, the scored set
    and the sweep that the whole tables get. ``ref`` and ``hyp`` are the skeletons as
    scored (for the warnings about files); ``input_uem`` is the UEM given (the time check's).
    Also the seconds of the reference's ``left_out`` labels, added up batch by batch."""
    scored_set, given_set = set(scored), set(given_files)
    known = set(batches[0].position) | set(batches[1].position)
    groups = stream.groups(*batches, [name for name in scored if name not in known])

    def sweep(names: list[str]):
        original_ref, part_hyp = stream.tables(*batches, names)
        part_hyp = apply_map(part_hyp, options.emotion_map)
        mapped_ref = apply_map(original_ref, options.emotion_map)
        part_ref, zones, _ = restrict(mapped_ref, options.emotions, options.non_target)
        part_uem = None if uem_map is None else {n: uem_map[n] for n in names if n in uem_map}
        result = engine.score(part_ref, part_hyp, part_uem, scored_files=[n for n in names if n in scored_set],
                              reference_files=[n for n in names if n in given_set],
                              **{**build_options, "noscore": zones})
        if options.non_target == "drop":
            accounting.add_dropped(result.components, mapped_ref, part_ref, result.files,
                                   options.same_speaker_overlap)
        return (result, checks.time_parts(original_ref, part_hyp, input_uem),
                accounting.labels_seconds(mapped_ref, left_out, options.same_speaker_overlap))

    position = {name: i for i, name in enumerate(scored)}
    sums = {name: np.zeros(len(scored), np.int64) for name in SUMS}
    overlaps, several, parts, mapping, inspected = [0, 0], 0.0, [], {}, []
    left_out_seconds = dict.fromkeys(left_out, 0.0)
    # batches are summed in order, whatever the number of processes: the sums are identical
    for result, time_part, seconds in ordered_map(sweep, groups, jobs):
        for label, value in seconds.items():
            left_out_seconds[label] += value
        at = np.asarray([position[name] for name in result.files], np.int64)
        for key, values in result.components.items():
            if values.dtype == object:
                sums[key] = sums[key].astype(object)
            sums[key][at] = values
        overlaps = [overlaps[0] + result.self_overlaps[0], overlaps[1] + result.self_overlaps[1]]
        several += result.hyp_several_emotions
        parts.append(time_part)
        mapping.update(result.mapping)
        inspected += result.inspected
    apart = engine.files_apart(ref, hyp, uem_map, scored_files=scored, reference_files=given_files)
    time_check = checks.time_warning(checks.TimeParts.join(parts))
    return (engine.Result(list(scored), sums, apart, None, (overlaps[0], overlaps[1]),
                          {name: mapping.get(name, {}) for name in scored}, several, inspected),
            time_check, left_out_seconds)


def _as_ser_align_script(original_ref: SegmentTable, ref: SegmentTable, hyp: SegmentTable,
                         hypothesis_files: Sequence[str], uem_map) -> tuple:
    """The tables, UEM and skipped files as SER-Align's script sees them (``teer.ser_align``):
    one track per distinct segment, and only files with a hypothesis and a reference
    segment of a target emotion. Without a UEM, each file is scored over the extent of
    its reference and hypothesis tracks, as the script does."""
    ref = ser_align.as_annotation_tracks(ref)
    hyp = ser_align.as_annotation_tracks(hyp)
    skipped = ser_align.skipped_files(original_ref.file_names(), ref.file_names(), hypothesis_files, uem_map)
    scored = sorted((original_ref.file_names() | set(hypothesis_files) | set(uem_map or ())) - set(skipped))
    ref = ser_align.only_files(ref, scored)
    hyp = ser_align.only_files(hyp, scored)
    if uem_map is None:
        uem_map = _extents(original_ref, (ref, hyp))
    else:
        uem_map = {name: uem_map[name] for name in scored}
    return ref, hyp, uem_map, skipped


def _hungarian_runs(ref: SegmentTable, hyp: SegmentTable, has_emotions: bool) -> dict:
    """The ser-align protocol's three pyannote DER runs (collar 0, every segment an item,
    union extent): on the speakers, on emotion labels and on emotion_speaker labels."""
    runs = {"speaker": (ref, hyp)}
    if has_emotions:
        runs["emotion"] = (_relabel(ref, False), _relabel(hyp, False))
        runs["emotion_speaker"] = (_relabel(ref, True), _relabel(hyp, True))
    return runs


def _relabel(table: SegmentTable, joint: bool) -> SegmentTable:
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


def _extents(original_ref: SegmentTable, tables: Sequence[SegmentTable]) -> dict:
    """Per reference file (as given, before dropping), the extent of the segments of
    positive length that ``tables`` hold in it."""
    names = sorted(original_ref.file_names())
    index = {name: i for i, name in enumerate(names)}
    lo = np.full(len(names), np.iinfo(np.int64).max)
    hi = np.full(len(names), np.iinfo(np.int64).min)
    for table in tables:
        codes = np.asarray([index.get(f, -1) for f in table.files], dtype=np.int64)
        if len(table) == 0 or len(codes) == 0:
            continue
        file = codes[table.file]
        keep = (file >= 0) & (table.end > table.start)
        np.minimum.at(lo, file[keep], table.start[keep])
        np.maximum.at(hi, file[keep], table.end[keep])
    return {name: [(int(lo[i]), int(hi[i]))] for i, name in enumerate(names) if hi[i] > lo[i]}


def _uem_setting(uem: UemLike, uem_default: str) -> str:
    if uem is None:
        return "reference extent" if uem_default == "reference" else "reference and hypothesis extent"
    if isinstance(uem, Mapping):
        return "given"
    return os.fspath(uem)
