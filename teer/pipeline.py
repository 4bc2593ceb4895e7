"""One scoring run of validated tables under resolved options, as named steps.

1. the inputs' warnings (``teer.checks``), the emotion map and the emotion set
   (``teer.emotions``), on the tables as given;
2. the preset's protocol prepares its runs (``teer.protocols``): which files, which
   scored time, which tables;
3. each run is swept (``teer.engine``; a batch of files at a time where the inputs
   are read so, ``teer.stream``) and the protocol combines the runs' sums;
4. every second of reference speech is accounted for (``teer.accounting``) and the
   report is made: per-file components, their total, the settings and the warnings.

``teer.api`` reads the inputs and resolves the options; this module does the rest.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import accounting, checks, engine, messages, protocols, stream
from .components import Components, Report
from .emotions import apply_map, concat_zones, describe_map, restrict
from .inputs import UemLike, as_uem, check_speaker_map
from .options import ScoringOptions
from .protocols.base import Prepared, Protocol, Tables, uem_setting
from .segments import SegmentTable


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


def score(ref: SegmentTable, hyp: SegmentTable, options: ScoringOptions, uem: UemLike,
          keep_sweeps: bool, reference_files: Sequence[str] = (), jobs: int = 1,
          batches: tuple[stream.Side, stream.Side] | None = None, inspect=None) -> Scoring:
    """Score validated tables under resolved options.

    With ``batches`` (``teer.stream``), ``ref`` and ``hyp`` are their skeletons (what the
    checks on the whole inputs need) and the segments are read and swept a batch of
    files at a time.
    """
    protocol = protocols.get(options.preset.protocol)
    emotion_set, mapping, non_target = options.emotions, options.emotion_map, options.non_target
    uem_map = as_uem(uem)
    map_warnings = [] if options.speaker_map is None else check_speaker_map(options.speaker_map, ref, hyp)
    # step 1: the inputs' warnings, the emotion map and the emotion set
    original_ref, original_hyp = ref, hyp
    hypothesis_files = list(hyp.files)
    mapped_ref, hyp = apply_map(ref, mapping), apply_map(hyp, mapping)
    # the time check adds up every segment: read in batches, it is added up batch by batch
    input_warnings = input_warnings_of(original_ref, mapped_ref, hyp, hypothesis_files, protocol, uem_map,
                                       timed=batches is None)
    time_check_at = len(input_warnings)
    ref, zones, warnings = restrict(mapped_ref, emotion_set, non_target)
    warnings = (input_warnings + checks.emotion_option_warnings(emotion_set, mapping, (original_ref, original_hyp),
                                                                (mapped_ref, hyp)) + warnings)
    left_out = accounting.left_out_labels(mapped_ref, emotion_set)
    # step 2: the protocol's runs
    prepared = protocol.prepare(Tables(original_ref, ref, hyp, hypothesis_files, uem_map, uem, reference_files),
                                options)
    warnings += prepared.warnings
    ref, hyp = prepared.runs["speaker"]
    zones = concat_zones(options.noscore, zones)
    has_emotions = original_ref.has_emotions()
    # a hypothesis without a single emotion label cannot be scored on emotions either
    hyp_without_emotions = len(hyp) > 0 and not hyp.has_emotions() and not protocol.labels_hypothesis_itself
    # step 3: the sweeps
    # the options as resolve() checked them (the eder preset's uem_default "utterance" is
    # never read: it always gives the scored time, ``prepared.uem``)
    build_options = dict(options=options, noscore=zones)
    scored = sorted(prepared.uem) if prepared.uem is not None else prepared.given_files
    sweeps, sums_of, engine_warnings, speaker_mappings, inspected = {}, {}, [], {}, []
    for name, (r, h) in prepared.runs.items():
        # the analyses look at the run on the real speakers and emotions
        run_options = {**build_options, "inspect": inspect} if inspect is not None and name == "speaker" \
            else build_options
        if batches is not None:
            result, time_check, left_out_seconds = stream.score(
                batches, options, protocol, prepared.uem, uem_map, r, h, scored, prepared.given_files, run_options,
                left_out, jobs)
            warnings[time_check_at:time_check_at] = time_check
            engine_warnings += _engine_warnings(result)
        else:
            # batches of files keep memory bounded; one sweep of all files is kept for analyses
            result = engine.score(r, h, prepared.uem, scored_files=scored, reference_files=prepared.given_files,
                                  batch_segments=None if keep_sweeps else engine.scoring.BATCH_SEGMENTS, jobs=jobs,
                                  **run_options)
            if keep_sweeps:
                sweeps[name] = result.sweep
            # the runs on relabelled tables (ser-align) see the same files: say each thing once
            engine_warnings += [w for w in _engine_warnings(result) if w not in engine_warnings]
        inspected += result.inspected
        sums_of[name] = result.components
        speaker_mappings.setdefault(name, result.mapping)
    sums = protocol.combine(sums_of)
    # step 4: the accounting and the report
    if batches is None:
        left_out_seconds = accounting.labels_seconds(mapped_ref, left_out, options.preset.same_speaker_overlap)
        dropped = protocol.dropped(mapped_ref, scored, options)
        if dropped is not None:
            accounting.add_dropped(sums, dropped, ref, scored, options.preset.same_speaker_overlap)
    warnings += accounting.left_out_warning(left_out_seconds, non_target) + prepared.last_warnings
    notes = [] if has_emotions else [
        "emotion rates not available: the reference has no emotion labels (DER only)"]
    if hyp_without_emotions:
        notes.append("emotion rates not available: the hypothesis has no emotion labels (DER only)")
        has_emotions = False
    files = {
        name: Components.from_ticks(**{k: int(v[i]) for k, v in sums.items()}, emotions=has_emotions)
        for i, name in enumerate(scored)
    }
    # the files the protocol skips, in the accounting: their reference speech, all of it skipped
    skipped_files = protocol.skipped_accounts(mapped_ref, prepared.skipped, options, has_emotions)
    total = sum([*files.values(), *skipped_files.values()], Components(emotions=has_emotions))
    report = Report(settings(options, prepared, uem), total, files,
                    ref.warnings + hyp.warnings + map_warnings + warnings + engine_warnings
                    + accounting.removal_warnings(total, options.collar),
                    notes + list(protocol.notes), prepared.skipped, options.average, protocol.columns,
                    speaker_mappings["speaker"], skipped_files, protocol.skips_files)
    return Scoring(ref, hyp, sweeps.get("speaker"), report, sweeps, inspected)


def _engine_warnings(result: engine.Result) -> list[str]:
    """The warnings of the engine's counts (``teer.messages``): files on one side only, then
    segments that overlap their own speaker, then hedged speech."""
    apart = result.files_apart
    return (messages.file_warnings(apart.only_hyp, apart.only_hyp_in_uem, apart.not_in_uem)
            + messages.overlap_warnings(*result.self_overlaps)
            + messages.several_emotions_warnings(result.hyp_several_emotions))


def settings(options: ScoringOptions, prepared: Prepared, uem: UemLike) -> dict[str, str]:
    """The report's settings: each option as scored, and the preset's conventions."""
    emotion_set, mapping = options.emotions, options.emotion_map
    out = {
        "preset": options.preset.name,
        "collar": options.collar,
        "uem": prepared.uem_described or uem_setting(uem, options.uem_default),
        "regions": options.regions,
        "emotions": ",".join(emotion_set) if emotion_set else "all",
    }
    if mapping:
        out["emotion_map"] = describe_map(mapping)
    if emotion_set:
        out["non_target"] = "no-score zone" if options.non_target == "noscore" else "dropped"
    out.update(options.preset.conventions)
    if options.neutral is not None:
        out["neutral"] = f"{options.neutral!r} (reference time outside the emotion events)"
    out["average"] = "mean of per-file rates" if options.average == "files" else "rates of summed components"
    if options.speaker_map is not None:
        out["speaker_mapping"] = "fixed (given)"
    return out


def input_warnings_of(original_ref: SegmentTable, ref: SegmentTable, hyp: SegmentTable,
                      hypothesis_files: Sequence[str], protocol: Protocol, uem_map, timed: bool = True) -> list[str]:
    """What looks wrong in the inputs (``teer.checks``): ``ref`` and ``hyp`` with the
    emotion map applied, ``hypothesis_files`` the files the hypothesis names; the time
    check (the last) only where ``timed``."""
    found = checks.hypothesis_warnings(hyp)
    uem_map, ref_files = protocol.checked_time(original_ref, uem_map)
    if protocol.literal_labels:  # the other protocols map labels or compare first letters
        found += checks.emotion_label_warnings(ref, hyp)
    # under ser-align, the files on one side only are among the skipped ones
    if len(hyp):  # an empty hypothesis has its own warning
        found += checks.file_warnings(ref_files, hypothesis_files, reference_only=not protocol.skips_files)
    if timed:
        found += checks.time_warnings(original_ref, hyp, uem_map)
    return found
