"""Warnings about input that is valid but probably not what the user meant.

Each check looks at the two sides as given and says, in one line, what looks
wrong and what would fix it: a hypothesis with no segments or no emotion
labels, emotion labels or file ids that match nothing on the other side (with
the near matches that differ only in case, directory or extension), and
hypothesis speech that falls mostly outside the scored time (times in
milliseconds, another time origin). The messages go to ``Report.warnings``,
to stderr in the command line and through Python's ``warnings`` as
``TeerWarning``.
"""
from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import messages
from .segments import SegmentTable, extents, reduce_by_code
from .ticks import TICKS_PER_SECOND


class TeerWarning(UserWarning):
    """Input teer scored, but which probably does not mean what the user thinks."""


#: extensions that are not part of a file id (audio and annotation files)
_EXTENSION = re.compile(r"\.(wav|flac|mp3|ogg|opus|m4a|sph|rttm|json|txt|lab|uem|ctm|stm|TextGrid)$", re.I)
#: fraction of the hypothesis speech outside the scored time above which teer warns
OUTSIDE = 0.5


def hypothesis_warnings(hyp: SegmentTable) -> list[str]:
    """An empty hypothesis is valid (everything is missed) but worth a word."""
    if len(hyp) == 0:
        return [messages.empty_hypothesis()]
    return []


def emotion_label_warnings(ref: SegmentTable, hyp: SegmentTable) -> list[str]:
    """Hypothesis emotion labels the reference never uses, with near matches and the fix."""
    if not ref.has_emotions() or not hyp.has_emotions():
        return []
    reference = _used(ref.emotions, ref.emotion)
    unknown = [label for label in _used(hyp.emotions, hyp.emotion) if label not in set(reference)]
    if not unknown:
        return []
    return [messages.labels_not_in_reference([(label, _near_labels(label, reference)) for label in unknown])]


def emotion_option_warnings(emotions: Sequence[str] | None, emotion_map: Mapping[str, str] | None,
                            given: Sequence[SegmentTable], mapped: Sequence[SegmentTable]) -> list[str]:
    """Keys of ``--emotion-map`` that occur in neither input as read (``given``), and labels of
    ``--emotions`` that occur in neither input once mapped (``mapped``: a typo, most likely,
    named with its near matches) or only in the hypothesis."""
    out = []
    if emotion_map:
        labels = set().union(*(_used(t.emotions, t.emotion) for t in given))
        out += _unknown("--emotion-map", list(emotion_map), labels, "maps nothing")
    if emotions and mapped[0].has_emotions():
        in_ref = set(_used(mapped[0].emotions, mapped[0].emotion))
        labels = in_ref.union(*(_used(t.emotions, t.emotion) for t in mapped[1:]))
        out += _unknown("--emotions", list(emotions), labels, "no reference speech has it")
        hyp_only = [e for e in emotions if e in labels and e not in in_ref]
        if hyp_only:
            out.append(messages.scored_emotions_not_in_reference(hyp_only))
    return out


def _unknown(option: str, labels: Sequence[str], known: set[str], effect: str) -> list[str]:
    unknown = [label for label in labels if label not in known]
    if not unknown:
        return []
    return [messages.option_labels_unknown(option, [(label, near_matches(label, known)) for label in unknown], effect,
                                           sorted(known))]


def near_matches(label: str, known: Iterable[str], n: int = 3) -> list[str]:
    """Labels of ``known`` near ``label``: equal but for case, one the other's abbreviation
    (``_near_labels``), then the closest spellings (difflib, ignoring case)."""
    known = sorted(known)
    folded = {}
    for x in known:
        folded.setdefault(x.casefold(), x)
    close = [folded[x] for x in difflib.get_close_matches(label.casefold(), list(folded), n=n, cutoff=0.6)]
    return list(dict.fromkeys(_near_labels(label, known) + close))[:n]


def _used(vocab: Sequence[str], codes: np.ndarray) -> list[str]:
    """The labels of ``vocab`` that ``codes`` use, in vocabulary order (a count per label,
    ``NO_EMOTION`` in the first bin, rather than sorting the codes)."""
    counts = np.bincount(codes + 1, minlength=len(vocab) + 1) if len(codes) else np.zeros(len(vocab) + 1)
    return [vocab[i] for i in np.flatnonzero(counts[1:] > 0).tolist()]


def _near_labels(label: str, candidates: Iterable[str]) -> list[str]:
    """Reference labels equal to ``label`` but for case, or one the other's abbreviation
    (``Happy`` and ``hap``, ``neutral`` and ``neu``), ignoring case."""
    folded = label.casefold()
    near = []
    for c in candidates:
        other = c.casefold()
        if other == folded or (min(len(other), len(folded)) >= 3
                               and (other.startswith(folded) or folded.startswith(other))):
            near.append(c)
    return near


def file_warnings(ref_files: Iterable[str], hyp_files: Iterable[str], *, reference_only: bool) -> list[str]:
    """Files on one side only, and the ids that look like the same file spelt otherwise.

    ``reference_only``: also warn about reference files the hypothesis lacks (the
    preset's own warnings may say it already).
    """
    ref, hyp = set(ref_files), set(hyp_files)
    only_ref, only_hyp = sorted(ref - hyp), sorted(hyp - ref)
    warnings = []
    if reference_only and only_ref:
        warnings.append(messages.reference_files_not_in_hypothesis(only_ref))
    if only_ref and only_hyp:
        by_key: dict[str, list[str]] = {}
        for name in only_ref:
            by_key.setdefault(_file_key(name), []).append(name)
        pairs = [(h, r, _differences(h, r)) for h in only_hyp for r in by_key.get(_file_key(h), ())]
        if pairs:
            warnings.append(messages.ids_spelt_otherwise(pairs))
    return warnings


def _file_key(name: str) -> str:
    return _EXTENSION.sub("", os.path.basename(name.replace("\\", "/"))).casefold()


def _differences(a: str, b: str) -> list[str]:
    parts = []
    base_a, base_b = os.path.basename(a.replace("\\", "/")), os.path.basename(b.replace("\\", "/"))
    if base_a != a or base_b != b:
        parts.append("directory")
    if _EXTENSION.search(base_a) or _EXTENSION.search(base_b):
        parts.append("extension")
    if _EXTENSION.sub("", base_a) != _EXTENSION.sub("", base_b):
        parts.append("case")
    return parts


@dataclass(frozen=True)
class TimeParts:
    """Per file both sides share (sorted ids), what ``time_warnings`` adds up: the
    hypothesis speech, its part inside the scored time, where the hypothesis ends
    and where the scored time ends, and where each starts. Parts of disjoint sets of
    files ``join``."""

    names: list[str]
    speech: np.ndarray
    inside: np.ndarray
    hyp_end: np.ndarray
    hi: np.ndarray
    hyp_start: np.ndarray
    lo: np.ndarray
    #: whether the scored time is a UEM's (else the reference extent)
    uem: bool

    @classmethod
    def join(cls, parts: Sequence["TimeParts"]) -> "TimeParts":
        names = [n for p in parts for n in p.names]
        order = sorted(range(len(names)), key=names.__getitem__)
        columns = (np.concatenate([np.zeros(0)] + [getattr(p, k) for p in parts])[order]
                   for k in ("speech", "inside", "hyp_end", "hi", "hyp_start", "lo"))
        return cls([names[i] for i in order], *columns, any(p.uem for p in parts))


def time_warnings(ref: SegmentTable, hyp: SegmentTable, uem: Mapping[str, Sequence] | None) -> list[str]:
    """Warn when most hypothesis speech in the files both sides share lies outside the
    reference extent (or the UEM's), with the likely cause."""
    return time_warning(time_parts(ref, hyp, uem))


def time_parts(ref: SegmentTable, hyp: SegmentTable, uem: Mapping[str, Sequence] | None) -> TimeParts:
    """The per-file sums of ``time_warnings`` (added in row order: a file's sums do not
    depend on the other files read with it)."""
    names = sorted(ref.file_names() & hyp.file_names()) if len(ref) and len(hyp) else []
    if uem is not None:
        names = [n for n in names if uem.get(n)]
    if not names:
        empty = np.zeros(0)
        return TimeParts([], empty, empty, empty, empty, empty, empty, uem is not None)
    index = {n: i for i, n in enumerate(names)}
    if uem is not None:
        lo, hi = np.zeros(len(names), np.int64), np.zeros(len(names), np.int64)
        for n in names:
            lo[index[n]] = min(s for s, _ in uem[n])
            hi[index[n]] = max(e for _, e in uem[n])
    else:
        code = _codes(ref, index)
        keep = code >= 0
        f, s, e = (code, ref.start, ref.end) if keep.all() else (code[keep], ref.start[keep], ref.end[keep])
        lo, hi = extents(f, s, e, len(names))
    code = _codes(hyp, index)
    keep = code >= 0
    # whole columns where every file is shared (no copies); the temporaries are reused
    # in place, so that this check adds little to the peak memory of a large run
    f, s, e = (code, hyp.start, hyp.end) if keep.all() else (code[keep], hyp.start[keep], hyp.end[keep])
    del code, keep
    length = e - s
    # (in seconds: a diagnostic, the ratios below need no exact sums)
    speech = np.bincount(f, weights=length, minlength=len(names)) / TICKS_PER_SECOND
    overlap = hi[f]
    np.minimum(overlap, e, out=overlap)
    np.subtract(overlap, np.maximum(s, lo[f], out=length), out=overlap)
    del length
    inside = np.bincount(f, weights=np.clip(overlap, 0, None, out=overlap), minlength=len(names)) / TICKS_PER_SECOND
    del overlap
    hyp_end = reduce_by_code(np.maximum, f, e, len(names))
    hyp_start = reduce_by_code(np.minimum, f, s, len(names))
    # the extents in seconds too (for the message)
    hyp_end, hi, hyp_start, lo = (np.asarray(x) / TICKS_PER_SECOND for x in (hyp_end, hi, hyp_start, lo))
    return TimeParts(names, speech, inside, hyp_end, hi, hyp_start, lo, uem is not None)


def time_warning(parts: TimeParts) -> list[str]:
    """``time_warnings`` from the sums of all files."""
    if not parts.names:
        return []
    speech = float(parts.speech.sum())
    inside = float(parts.inside.sum())
    if speech <= 0 or (speech - inside) <= OUTSIDE * speech:
        return []
    ratio = float(np.median(parts.hyp_end / np.maximum(parts.hi, 1e-9)))
    # a scale (milliseconds) stretches the extent; an offset (another time origin) moves it
    stretch = float(np.median((parts.hyp_end - parts.hyp_start) / np.maximum(parts.hi - parts.lo, 1e-9)))
    shift = float(np.median(parts.hyp_start - parts.lo))
    return [messages.hypothesis_outside_scored_time(speech - inside, speech, parts.uem, ratio, stretch, shift)]


def _codes(table: SegmentTable, index: Mapping[str, int]) -> np.ndarray:
    lookup = np.fromiter((index.get(f, -1) for f in table.files), np.int32, len(table.files))
    if not len(table):
        return np.zeros(0, np.int32)
    if np.array_equal(lookup, np.arange(len(lookup))):  # the table's own codes (no copy)
        return table.file
    return lookup[table.file]
