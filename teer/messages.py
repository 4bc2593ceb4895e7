"""The wording of every warning teer gives (issue 23: one home for the text).

The modules that find something worth a warning return counts and seconds; the
functions here turn them into the one-line messages printed on stderr and raised
as ``teer.TeerWarning``. Nothing here computes a figure.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence


def sample(names: Sequence[str], k: int = 3) -> str:
    """The first ``k`` of ``names``, then ``...`` if there are more."""
    return ", ".join(names[:k]) + (", ..." if len(names) > k else "")


# --------------------------------------------------------------------------
# the inputs (teer.checks, the readers)


def empty_hypothesis() -> str:
    return "the hypothesis has no segments: all reference speech is missed"


def labels_not_in_reference(unknown: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Hypothesis emotion labels the reference never uses, each with its near matches
    (``(label, near)``); a single near match is offered as an ``--emotion-map`` fix."""
    shown = [f"{label} (near: {', '.join(near)})" if near else label for label, near in unknown]
    fixes = [f"{label}={near[0]}" for label, near in unknown if len(near) == 1]
    message = (f"{len(unknown)} hypothesis emotion label(s) never occur in the reference, so that speech is "
               f"always counted wrong: {sample(shown, 8)}")
    if fixes:
        message += f"; labels are compared literally: --emotion-map {','.join(fixes)} would merge the near matches"
    return message


def option_labels_unknown(option: str, unknown: Sequence[tuple[str, Sequence[str]]], effect: str,
                          known: Sequence[str]) -> str:
    """Labels of ``option`` (``--emotions``, ``--emotion-map``) that occur in neither input,
    each with its near matches, ``effect`` what that does, ``known`` the inputs' labels."""
    shown = [repr(label) + (f" (near: {', '.join(repr(x) for x in near)})" if near else "")
             for label, near in unknown]
    return (f"{option} label(s) {', '.join(shown)} occur in neither input (a typo?): {effect}; "
            f"the inputs' labels are {sample(known, 12) or 'none'}")


def scored_emotions_not_in_reference(labels: Sequence[str]) -> str:
    return f"emotion(s) {', '.join(labels)} of the scored set never occur in the reference"


def reference_files_not_in_hypothesis(names: Sequence[str]) -> str:
    return f"{len(names)} reference file(s) not in the hypothesis ({sample(names)}): all their speech is missed"


def ids_spelt_otherwise(pairs: Sequence[tuple[str, str, Sequence[str]]]) -> str:
    """Hypothesis ids that look like reference ids: ``(hyp id, ref id, how they differ)``."""
    shown = [f"{h!r} ~ {r!r} ({', '.join(differences)})" for h, r, differences in pairs]
    return (f"{len(pairs)} file id(s) of the hypothesis look like reference ids spelt otherwise: "
            f"{sample(shown, 5)}; file ids must match exactly")


def hypothesis_outside_scored_time(outside: float, speech: float, uem: bool, end_ratio: float, span_ratio: float,
                                   start_shift: float) -> str:
    """Most hypothesis speech (``outside`` of ``speech`` seconds) lies outside the scored time
    (the UEM's, else the reference extent), with the likely cause read from the medians of
    where the hypothesis ends (``end_ratio``), how long it spans (``span_ratio``) and where it
    starts (``start_shift`` seconds) against the scored time."""
    where = "the UEM" if uem else "the reference extent"
    # a scale (milliseconds) stretches the extent; an offset (another time origin) moves it
    if 2 / 3 <= span_ratio <= 3 / 2:
        cause = (f"the hypothesis starts about {abs(start_shift):.1f} s {'later' if start_shift > 0 else 'earlier'} "
                 "than the reference and spans about as long: its times look offset (another time origin), not "
                 "in another unit")
    elif end_ratio >= 100:
        cause = (f"the hypothesis ends about {end_ratio:.0f}x later than the reference: its times look like "
                 "milliseconds (or another unit than seconds)")
    elif end_ratio <= 0.01:
        cause = (f"the hypothesis ends about {1 / end_ratio:.0f}x earlier than the reference: the reference's times "
                 "look like milliseconds (or another unit than seconds)")
    else:
        cause = "check that both sides count time in seconds from the same origin (the start of each file)"
    return (f"{100 * outside / speech:.0f} % of the hypothesis speech ({outside:.1f} s of "
            f"{speech:.1f} s) falls outside {where}: {cause}")


def zero_duration_skipped(source: str, n: int, first: str | None = None) -> str:
    """A reader skipped ``n`` zero-duration segments, the first at ``first`` (a location)."""
    return (f"{source}: skipped {n} zero-duration segment{'s' if n > 1 else ''}"
            + ("" if first is None else f" (first at {first})"))


def events_past_duration(source: str, n: int, first_file: str) -> str:
    return (f"{source}: {n} emotion event(s) end after their utterance's duration (first in "
            f"{first_file!r}); under the eder preset time past the duration is not scored")


def speaker_map_files_elsewhere(source: str, n: int, names: Sequence[str]) -> str:
    """``n`` entries of a fixed speaker mapping name files (``names``, sorted) in neither input."""
    return (f"{source}: {n} mapping(s) for file(s) in neither input "
            f"({sample([repr(name) for name in names])}): ignored")


# --------------------------------------------------------------------------
# the options and the presets (teer.inputs, teer.protocols, teer.accounting, teer.ser_align)


def files_without_scored_emotions(names: Sequence[str]) -> str:
    return f"{len(names)} reference file(s) have no speech in the scored emotion set ({sample(names)})"


def labels_left_out(seconds: Mapping[str, float], non_target: str) -> str:
    """The reference labels outside the scored set, with their seconds, and what becomes of them."""
    shown = ", ".join(f"{label} ({value:.2f} s)" for label, value in sorted(seconds.items()))
    fate = ("no-score zones: that time is not scored on either side" if non_target == "noscore"
            else "dropped: system speech there is false alarm")
    return f"--emotions leaves out reference label(s) {shown}, seconds of reference speech; they are {fate}"


#: what the steps a user chooses (``teer.accounting.STEPS``) are called in ``step_removes_most``
_STEP_WORDS = {"REMOVED_COLLAR": "collars remove", "REMOVED_NOSCORE": "no-score zones remove",
               "REMOVED_REGIONS": "the region filter removes"}


def step_removes_most(step: str, removed: float, speech: float, scored: float, without_collar: float | None) -> str:
    """``step`` (one of ``teer.accounting.STEPS``) removes ``removed`` of the ``speech`` seconds of reference
    speech and the rates score ``scored``; ``without_collar``: what collar 0 would score (None:
    the collar is 0 already)."""
    hint = ("" if without_collar is None
            else f"; --collar 0 would score {without_collar:.2f} s ({100 * without_collar / speech:.0f} %)")
    return (f"{_STEP_WORDS[step]} {removed:.2f} s of the {speech:.2f} s of reference speech "
            f"({100 * removed / speech:.0f} %): the rates score {scored:.2f} s "
            f"({100 * scored / speech:.0f} %)" + hint)


def ser_align_skipped(n: int, by_reason: Mapping[str, Sequence[str]]) -> str:
    """ser-align skipped ``n`` files, ``by_reason`` the skipped files of each reason, in order."""
    parts = [f"{len(names)} {reason} ({sample(names)})"
             for reason, names in by_reason.items()]
    return f"ser-align skips {n} file(s), as SER-Align's script does: " + "; ".join(parts)


def eder_several_speakers(names: Sequence[str]) -> str:
    return (f"{len(names)} reference file(s) have several speakers "
            f"({sample(names)}); the eder "
            "preset scores each file as one speaker's utterance")


def eder_first_letters_clash(labels: Sequence[str]) -> str:
    return (f"labels {', '.join(repr(x) for x in labels)} share their first letter and count as "
            "one emotion (EDER compares first letters)")


# --------------------------------------------------------------------------
# the figures around the rates (teer.bootstrap, teer.pyannote)


def bootstrap_few_files(n_files: int, advisable: int, distinct_resamples: int) -> str:
    """A bootstrap over ``n_files`` files (fewer than ``advisable``), which have
    ``distinct_resamples`` distinct resamples."""
    if n_files <= 1:
        return (f"{n_files} file(s): a bootstrap over files has nothing to resample (every resample is the "
                "same); the interval and p-value mean nothing")
    return (f"only {n_files} files: a bootstrap over files has at most {distinct_resamples} distinct resamples and "
            f"says little about the variation between conversations (at least {advisable} files are advisable)")


def pyannote_without_emotions(metric: str, file: str, note: str) -> str:
    """A pyannote metric's file scored on speakers only (``note``: the report's)."""
    return f"{metric}: {file}: {note}; labels must be (speaker, emotion) pairs"


def of_systems(systems: str, message: str) -> str:
    """A warning of ``teer compare`` with the system(s) it is about (``A``, ``B``, ``A and B``)."""
    return f"{systems}: {message}"


# --------------------------------------------------------------------------
# the sweep's counts (teer.engine returns them, teer.pipeline words them)


def file_warnings(only_hyp: Sequence[str], only_hyp_in_uem: bool, not_in_uem: Sequence[str]) -> list[str]:
    """The warnings about files on one side only (``teer.engine.FilesApart``)."""
    warnings = []
    if only_hyp:
        warnings.append(
            f"{len(only_hyp)} file(s) only in the hypothesis ({sample(only_hyp)}): "
            + ("scored where the UEM covers them" if only_hyp_in_uem else "not scored (no UEM covers them)"))
    if not_in_uem:
        warnings.append(f"{len(not_in_uem)} reference file(s) not in the UEM ({sample(not_in_uem)}): not scored")
    return warnings


def overlap_warnings(ref_count: int, hyp_count: int) -> list[str]:
    """The warnings about segments that overlap another of their speaker (counts of
    ``teer.engine.Result.self_overlaps``)."""
    return [f"{count} {name} segment(s) overlap another segment of the same speaker: that speech counts once"
            for count, name in ((ref_count, "reference"), (hyp_count, "hypothesis")) if count]


def several_emotions_warnings(seconds: float) -> list[str]:
    """The warning about hypothesis speakers with several emotions at once
    (``teer.engine.Result.hyp_several_emotions``)."""
    if seconds <= 0:
        return []
    return [f"the hypothesis gives a speaker two or more emotions at once in {seconds:.2f} s of the scored time "
            "with reference speech: there such a speaker is right only if every one of its emotions is among the "
            "reference speaker's (hedging is never rewarded)"]
