"""One scoring run: ``score`` sweeps whole files in batches, ``sweep`` is one sweep as
named steps (listed in ``teer.engine``), and ``Sweep.components`` adds its regions up per file.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from .. import matcher
from ..components import ACCOUNTING, SUMS
from ..intervals import covered
from ..options import check_option, collar_ticks
from ..parallel import ordered_map
from ..segments import SegmentTable, concat_vocab, extents
from ..ticks import TICKS_PER_SECOND
from .files import FileIndex, FilesApart, Uem, batches, file_index
from .grid import Grid, grid_of
from .matching import Matched, matched_of_profiles, matched_pairs
from .sides import Coarse, Side, side_of
from .together import Together, together_of

#: segments per batch of whole files (measured: peak memory falls with it, time does not grow)
BATCH_SEGMENTS = 20_000
SAME_SPEAKER_OVERLAP = ("once", "each")


@dataclass(frozen=True)
class Removed:
    """Per region, what removes it from the scored time besides the UEM (the scored-time
    accounting, ``components.ACCOUNTING``): no-score zones, the region filter (False
    where it removes the region) and collars."""

    noscore: np.ndarray
    regions: np.ndarray
    collar: np.ndarray

    def step(self, regions: np.ndarray, evaluated: np.ndarray) -> np.ndarray:
        """Per region of ``regions`` (regions not scored), the first step that removes it, in
        ``ACCOUNTING``'s order: 0 the UEM, 1 no-score zones, 2 the region filter, 3 collars."""
        step = np.full(len(regions), 3, np.intp)
        step[~self.regions[regions]] = 2
        step[self.noscore[regions]] = 1
        step[~evaluated[regions]] = 0
        return step


@dataclass(frozen=True)
class Sweep:
    """The grid of one scoring run and the per-region quantities on it."""

    files: list[str]
    emotions: list[str]
    grid: Grid
    evaluated: np.ndarray  # in the UEM (used for the speaker mapping)
    scored: np.ndarray  # in the UEM, outside collars and no-score zones, in the chosen regions
    ref: Side
    hyp: Side
    mapping: np.ndarray  # per hypothesis speaker, its reference speaker or -1
    matched: Matched
    #: self-overlapping segments (ref, hyp) in the files with scored time
    scored_self_overlaps: tuple[int, int]
    #: the grid without the points only collars and no-score zones add (None: there are none)
    coarse: Coarse | None = None
    #: per region, what removes it besides the UEM (None: nothing)
    removed: Removed | None = None
    #: seconds of scored time with reference speech in which a hypothesis speaker has several
    #: emotions at once
    hyp_several_emotions: float = 0.0

    grid_file = property(lambda self: self.grid.file)
    grid_time = property(lambda self: self.grid.time)
    duration = property(lambda self: self.grid.duration)
    n_ref = property(lambda self: self.ref.count)
    n_hyp = property(lambda self: self.hyp.count)
    matched_emo = property(lambda self: self.matched.emo)
    matched_spk = property(lambda self: self.matched.spk)
    matched_emo_spk = property(lambda self: self.matched.emo_spk)

    def components(self) -> dict[str, np.ndarray]:
        """Per-file sums of each component in ticks (int64 arrays indexed like ``files``;
        object arrays of Python integers where int64 could overflow).

        The summation-order rule binds here: each file's sum adds ``d * count`` of its scored
        regions, in grid order, whichever path filled the counts (``matching``'s fast path or
        its general one) and whichever batch of files the file was swept in. Regions that add
        0 are left out (an integer sum is the same without them)."""
        # regions where nobody speaks add nothing to any component
        keep = np.flatnonzero(self.scored & (self.duration > 0) & ((self.n_ref > 0) | (self.n_hyp > 0)))
        d = self.duration[keep]
        file = self.grid_file[keep].astype(np.intp)
        n_ref = self.n_ref[keep]
        n_hyp = self.n_hyp[keep]
        agree = np.minimum(n_ref, n_hyp)
        per_region = {
            "MS": n_ref - agree,
            "FA": n_hyp - agree,
            "CONF_emo": agree - self.matched_emo[keep],
            "CONF_spk": agree - self.matched_spk[keep],
            "CONF_emo_spk": agree - self.matched_emo_spk[keep],
            "AGREE": agree,
            "TOTAL": n_ref,
        }
        n_files = len(self.files)
        # integer sums, exact: regions are in grid order, so a file's regions are one run
        # and np.add.reduceat sums each run; int64 holds them where the largest possible sum
        # (all scored time times the most speakers) stays below 2**63, else Python integers
        runs = np.flatnonzero(np.r_[True, file[1:] != file[:-1]]) if len(file) else np.zeros(0, np.intp)
        run_file = file[runs]
        most = int(max(n_ref.max(initial=0), n_hyp.max(initial=0)))
        small = float(d.sum()) * most < 2.0 ** 62
        sums = {}
        for name, count in per_region.items():
            out = np.zeros(n_files, np.int64 if small else object)
            if len(runs):
                terms = d * count if small else d.astype(object) * count.astype(object)
                out[run_file] = np.add.reduceat(terms, runs)
            sums[name] = out
        sums.update(self.accounting(sums["TOTAL"]))
        return sums

    def accounting(self, total: np.ndarray) -> dict[str, np.ndarray]:
        """Per-file sums of the scored-time accounting (``components.ACCOUNTING``), given the
        per-file TOTAL: where the reference speaks and nothing is scored, d * n_ref of each
        region summed by the step that removes it; SPEECH is TOTAL plus what they removed.
        Only the removed regions are visited (at collar 0 without a UEM, none); the sums
        have TOTAL's type, so that they add up to it as exactly as it is summed, and like it
        run over each file's regions in grid order (the summation-order rule)."""
        removed_at = np.flatnonzero((self.n_ref > 0) & ~self.scored)  # (n_ref > 0: within a file)
        file = self.grid_file[removed_at]
        terms = self.duration[removed_at] * self.n_ref[removed_at]
        step = (self.removed.step(removed_at, self.evaluated) if self.removed is not None
                else np.zeros(len(removed_at), np.intp))
        sums = {}
        for k, name in enumerate(ACCOUNTING[1:]):
            at = np.flatnonzero(step == k)
            sums[name] = _per_file_sums(file[at], terms[at], total)
        sums["SPEECH"] = total + sums["REMOVED_UEM"] + sums["REMOVED_NOSCORE"] + sums["REMOVED_REGIONS"] \
            + sums["REMOVED_COLLAR"]
        return sums


def _per_file_sums(file: np.ndarray, terms: np.ndarray, like: np.ndarray) -> np.ndarray:
    """Per file, the sum of its ``terms`` (``file`` non-decreasing: the grid's order), for
    as many files as ``like`` has (TOTAL: Python integers where it holds them)."""
    if terms.dtype.kind == "f":
        # in region order, one term after the other, as TOTAL (np.add.reduceat's pairwise
        # sums would depend on where a batch of files starts)
        return np.bincount(file, weights=terms, minlength=len(like))
    out = np.zeros(len(like), object if like.dtype == object else np.int64)
    if len(file):
        runs = np.flatnonzero(np.r_[True, file[1:] != file[:-1]])
        out[file[runs]] = np.add.reduceat(terms.astype(out.dtype, copy=False), runs)
    return out


class SweepSettings(Protocol):
    """What a sweep reads of its options: ``teer.options.ScoringOptions`` as ``resolve``
    built it (the pipeline passes that object itself: checked once, never re-packed), or a
    ``SweepOptions`` for direct callers of the engine."""

    @property
    def collar_ticks(self) -> int: ...
    @property
    def regions(self) -> str: ...
    @property
    def uem_default(self) -> str: ...
    @property
    def speaker_map(self) -> Mapping[tuple[str, str], str] | None: ...
    @property
    def same_speaker_overlap(self) -> str: ...


@dataclass(frozen=True)
class SweepOptions:
    """The options of a sweep given to the engine directly (``score(..., collar=...)``,
    ``sweep``), checked by ``checked`` through ``resolve``'s own rules
    (``teer.options.check_option``): no rule is written twice. The pipeline does not use
    this: it passes the ``ScoringOptions`` that ``resolve`` built (``SweepSettings``).
    """

    collar: float = 0.0
    regions: str = "all"
    uem_default: str = "reference"
    speaker_map: Mapping[tuple[str, str], str] | None = None
    same_speaker_overlap: str = "once"

    @classmethod
    def checked(cls, collar: float = 0.0, regions: str = "all", uem_default: str = "reference",
                speaker_map: Mapping[tuple[str, str], str] | None = None,
                same_speaker_overlap: str = "once") -> SweepOptions:
        """Options given to the engine directly, checked by ``resolve``'s rules; and
        ``same_speaker_overlap``, which a preset gives (``teer.presets.Preset``)."""
        for name, value in (("collar", collar), ("regions", regions), ("uem_default", uem_default)):
            check_option(name, value)
        if same_speaker_overlap not in SAME_SPEAKER_OVERLAP:
            raise ValueError(f"same_speaker_overlap must be 'once' or 'each', not {same_speaker_overlap!r}")
        return cls(collar, regions, uem_default, speaker_map, same_speaker_overlap)

    @property
    def collar_ticks(self) -> int:
        """The collar in ticks, bounded (``teer.options.collar_ticks``)."""
        return collar_ticks(self.collar)


@dataclass(frozen=True)
class Result:
    """Per-file sums of every component for the scored files, and the counts behind the
    warnings (worded by ``teer.messages``: the engine composes no text)."""

    files: list[str]
    components: dict[str, np.ndarray]
    #: files on one side only (``teer.messages.file_warnings``)
    files_apart: FilesApart
    #: the one sweep over all files (``batch_segments=None``), else None
    sweep: Sweep | None = None
    #: self-overlapping segments (ref, hyp) in the scored files (``teer.messages.overlap_warnings``)
    self_overlaps: tuple[int, int] = (0, 0)
    #: per scored file, each hypothesis speaker's reference speaker (None: not mapped)
    mapping: dict[str, dict[str, str | None]] = dataclasses.field(default_factory=dict)
    #: ``Sweep.hyp_several_emotions`` of the scored files (``teer.messages.several_emotions_warnings``)
    hyp_several_emotions: float = 0.0
    #: what ``inspect`` returned for each batch's sweep, in batch order (``score``)
    inspected: list = dataclasses.field(default_factory=list)


# --------------------------------------------------------------------------
# the entry point


def score(
    ref: SegmentTable,
    hyp: SegmentTable,
    uem: Uem | None = None,
    *,
    options: SweepSettings | None = None,
    noscore: SegmentTable | None = None,
    scored_files: Sequence[str] | None = None,
    reference_files: Sequence[str] | None = None,
    batch_segments: int | None = BATCH_SEGMENTS,
    jobs: int = 1,
    inspect: Callable[[Sweep, tuple[SegmentTable, SegmentTable]], object] | None = None,
    **given,
) -> Result:
    """Every component of every scored file.

    ``options`` are how it counts, as ``teer.options.resolve`` checked them
    (the ``ScoringOptions`` it built, ``SweepSettings``); a direct caller may give them
    one by one instead (``given``: ``collar``, ``regions``, ``uem_default``, ``speaker_map``,
    ``same_speaker_overlap``, checked by ``SweepOptions.checked``). The scored files are
    ``scored_files`` if given (the result follows their order), else the UEM's files, else the reference's. ``reference_files`` are
    files the reference covers though it may have no segment there (for the
    warnings about files on one side only). ``same_speaker_overlap="once"``
    counts a speaker once where its segments overlap (md-eval); ``"each"``
    counts every segment, as pyannote.metrics does with tracks of one label.

    Files are independent, so whole files are swept in batches of about
    ``batch_segments`` segments: memory stays bounded however large the corpus.
    ``batch_segments=None`` sweeps all files at once and keeps the sweep
    (``Result.sweep``) for analyses. With ``jobs`` other than 1 (0: every core)
    the batches are swept in that many processes (``teer.parallel``) and summed in
    the same order: the sums are identical. ``inspect(sweep, (ref, hyp))``, if given, is
    called on each batch's sweep and tables (the analyses' per-batch parts: their memory is
    that of one batch); what it returns is ``Result.inspected``.
    """
    options = _options(options, given)
    index = file_index(ref, hyp, noscore, list(uem or ()) + list(scored_files or ()))
    in_uem = index.flags(uem or ())
    if scored_files is not None:
        scored = index.flags(scored_files)
    else:
        scored = in_uem if uem is not None else index.has_ref
    apart = FilesApart.of(index, reference_files, in_uem, uem is not None)

    batch_ids, batch = batches(ref, hyp, noscore, uem, index, scored, in_uem, batch_segments)

    def sweep_batch(b: int):
        tables, part_uem, into = batch(b)
        part = _sweep(*tables, part_uem, options)
        # the whole sweep is kept (one batch, so never sent between processes)
        return (into, part.components(), part.scored_self_overlaps, part.hyp_several_emotions,
                part if batch_segments is None else None,
                speaker_mapping(part, tables[0].speakers, tables[1].speakers),
                None if inspect is None else inspect(part, (tables[0], tables[1])))

    sums = {name: np.zeros(index.n_files, np.int64) for name in SUMS}
    overlaps = [0, 0]
    whole = None
    mapping: dict[str, dict[str, str | None]] = {}
    # the summation-order rule: batches are added in batch order, whatever the number of
    # processes (``ordered_map``), and a file is in one batch only, so each per-file sum has
    # the terms and the order of one sweep of all files; ``several`` (a float) adds the
    # batches' seconds in batch order, as ``teer.api``'s batches of files do
    several = 0.0
    inspected = []
    for into, components, self_overlaps, several_emotions, kept, mapped, seen in ordered_map(
            sweep_batch, batch_ids, jobs):
        inspected.append(seen)
        for name, values in components.items():
            if values.dtype == object and sums[name].dtype != object:
                sums[name] = sums[name].astype(object)
            sums[name][into] += values
        overlaps[0] += self_overlaps[0]
        overlaps[1] += self_overlaps[1]
        several += several_emotions
        whole = kept
        mapping.update(mapped)
    # (under same_speaker_overlap="each" nobody overlaps itself: both counts are 0)
    at = (np.asarray([index.position[name] for name in scored_files], np.int64) if scored_files is not None
          else np.flatnonzero(scored))
    names = [index.files[i] for i in at]
    return Result(names, {name: v[at] for name, v in sums.items()}, apart, whole, (overlaps[0], overlaps[1]),
                  {name: mapping.get(name, {}) for name in names}, several,
                  inspected if inspect is not None else [])


def _options(options: SweepSettings | None, given: dict) -> SweepSettings:
    """``options``, or the options given one by one, checked (``SweepOptions.checked``)."""
    if options is None:
        return SweepOptions.checked(**given)
    if given:
        raise TypeError(f"give options or {', '.join(given)}, not both")
    return options


def speaker_mapping(sweep: Sweep, ref_speakers: Sequence[str], hyp_speakers: Sequence[str]
                    ) -> dict[str, dict[str, str | None]]:
    """Per file of a sweep, each hypothesis speaker and the reference speaker it stands for
    (None where it is mapped to none), speakers in name order."""
    ref, hyp = sweep.ref, sweep.hyp
    target = sweep.mapping
    ref_name = [ref_speakers[k] for k in ref.speaker_name.tolist()]
    out: dict[str, dict[str, str | None]] = {}
    for h, (f, k) in enumerate(zip(hyp.speaker_file.tolist(), hyp.speaker_name.tolist())):
        r = int(target[h])
        out.setdefault(sweep.files[f], {})[hyp_speakers[k]] = ref_name[r] if r >= 0 else None
    return {name: dict(sorted(pairs.items())) for name, pairs in out.items()}


# --------------------------------------------------------------------------
# one sweep


def sweep(ref: SegmentTable, hyp: SegmentTable, uem: Uem | None = None, *,
          noscore: SegmentTable | None = None, **options) -> Sweep:
    """One sweep over all files of ``ref`` and ``hyp`` (``options``: those of ``score``)."""
    return _sweep(ref, hyp, noscore, uem, SweepOptions.checked(**options))


def _sweep(ref: SegmentTable, hyp: SegmentTable, noscore: SegmentTable | None, uem: Uem | None,
           options: SweepSettings) -> Sweep:
    """The steps of one sweep (``teer.engine`` lists them)."""
    # 1. one vocabulary of file ids for every input
    index = file_index(ref, hyp, noscore, list(uem or ()))
    emotions, emo_maps = concat_vocab([ref, hyp], "emotions")
    ref_speech, hyp_speech = ref.end > ref.start, hyp.end > hyp.start
    # 2. the scored time: the UEM, or each file's extent
    scored_time = _scored_time(uem, index, ref, hyp, options.uem_default)

    # 3. every boundary of every file on one sorted grid
    spans = {
        "ref": (index.codes[0][ref_speech], ref.start[ref_speech], ref.end[ref_speech]),
        "hyp": (index.codes[1][hyp_speech], hyp.start[hyp_speech], hyp.end[hyp_speech]),
        "uem": scored_time,
        "collar": _collars((index.codes[0][ref_speech], ref.start[ref_speech], ref.end[ref_speech]),
                           options.collar_ticks),
        "noscore": _noscore_zones(noscore, index.codes[2] if noscore is not None else None),
    }
    grid, at = grid_of(spans, index.n_files)
    n = grid.n_regions

    # 4. each side's speakers, speech and per-region counts
    once = options.same_speaker_overlap == "once"
    coarse = Coarse.of(n, [*at["ref"], *at["hyp"], *at["uem"]])
    ref_side = side_of(ref, ref_speech, spans["ref"][0], *at["ref"], emo_maps[0], len(emotions), once, n, coarse)
    hyp_side = side_of(hyp, hyp_speech, spans["hyp"][0], *at["hyp"], emo_maps[1], len(emotions), once, n, coarse)

    # 5. the evaluated regions (in the UEM) and the scored ones
    in_file = np.zeros(n, bool)
    in_file[:-1] = grid.file[1:] == grid.file[:-1]
    evaluated = in_file & covered(*at["uem"], n)
    in_collar, in_noscore = covered(*at["collar"], n), covered(*at["noscore"], n)
    in_regions = _region_filter(options.regions, ref_side.count)
    scored = evaluated & ~(in_collar | in_noscore) & in_regions

    # 6. the speakers, and the (speaker, emotion) items, active together where both sides speak
    both = evaluated & (ref_side.count > 0) & (hyp_side.count > 0)
    together = together_of(ref_side, hyp_side, both, len(emotions), coarse)
    # 7. the speaker mapping
    if options.speaker_map is None:
        # the labels' sorted ranks: emotion indices follow the input order, ties must not
        emotion_rank = np.argsort(np.argsort(np.asarray([str(e) for e in emotions], dtype=object), kind="stable"))
        mapping = matcher.optimal_mapping(grid, ref_side, hyp_side, together.speakers, together.agreeing, scored,
                                          emotion_rank.astype(np.int64))
    else:
        mapping = matcher.fixed_mapping(index.files, ref_side, hyp_side, ref.speakers, hyp.speakers,
                                        options.speaker_map)
    # 8. per region, the matched counts
    if once:
        matched = matched_pairs(ref_side, hyp_side, mapping, scored, len(emotions), n, together)
    else:
        matched = matched_of_profiles(ref_side, hyp_side, mapping, scored, len(emotions), n)
    return Sweep(index.files, emotions, grid, evaluated, scored, ref_side, hyp_side, mapping, matched,
                 _scored_self_overlaps(ref_side, hyp_side, scored_time[0], index.n_files), coarse,
                 Removed(in_noscore, in_regions, in_collar),
                 _several_emotions_seconds(together, scored, grid.duration) if once else 0.0)


def _several_emotions_seconds(together: Together, scored: np.ndarray, duration: np.ndarray) -> float:
    """Seconds of the ``scored`` regions with reference speech in which a hypothesis speaker
    has two or more emotions at once (``Together.hyp_several``)."""
    regions = together.regions
    several = np.flatnonzero(together.hyp_several[together.unit])
    several = regions[several[scored[regions[several]]]]
    # an integer sum of ticks (exact in any order), then one division: a batch's seconds do
    # not depend on the fast or general path (the summation-order rule); ``score`` adds the
    # batches' floats in batch order
    return float(duration[several].sum()) / TICKS_PER_SECOND  # (ticks as seconds, for a warning)


def _scored_self_overlaps(ref: Side, hyp: Side, scored_file: np.ndarray, n_files: int) -> tuple[int, int]:
    """Same-speaker overlaps in the files that have scored time, so that the warning does
    not depend on which other files are swept together."""
    with_time = np.zeros(n_files, bool)
    with_time[scored_file] = True
    return tuple(int(np.count_nonzero(with_time[side.speaker_file[side.overlap_speaker]]))
                 for side in (ref, hyp))


def _collars(ref_spans, collar: int):
    """(file, start, end) of ``collar`` ticks around every reference boundary (``ref_spans``)."""
    file, start, end = ref_spans
    if not collar > 0:
        return _NO_SPANS
    return np.concatenate([file, file]), np.concatenate([start - collar, end - collar]), \
        np.concatenate([start + collar, end + collar])


def _noscore_zones(noscore: SegmentTable | None, noscore_file: np.ndarray | None):
    """(file, start, end) of the no-score zones."""
    if noscore is None or len(noscore) == 0:
        return _NO_SPANS
    return noscore_file, noscore.start, noscore.end


_NO_SPANS = (np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))


def _scored_time(uem: Uem | None, index: FileIndex, ref: SegmentTable, hyp: SegmentTable, uem_default: str):
    """(file, start, end) of the scored time: the UEM, or each reference file's extent
    (with the hypothesis's too under ``uem_default="union"``)."""
    if uem is not None:
        f, s, e = [], [], []
        for name, spans in uem.items():
            for start, end in spans:
                f.append(index.position[name])
                s.append(start)
                e.append(end)
        return np.asarray(f, np.int64), np.asarray(s, np.int64), np.asarray(e, np.int64)
    # extents of the segments of positive length only: a zero-length segment is no speech
    # (the readers drop them), so it cannot stretch the scored time
    n_files = index.n_files

    def speech_extents(file: np.ndarray, table: SegmentTable) -> tuple[np.ndarray, np.ndarray]:
        speech = table.end > table.start
        if speech.all():  # (no copies)
            return extents(file, table.start, table.end, n_files)
        return extents(file[speech], table.start[speech], table.end[speech], n_files)

    lo, hi = speech_extents(index.codes[0], ref)
    has_ref = hi >= lo  # (a file without segments has the sentinels: lo above hi)
    if uem_default == "union":
        hyp_lo, hyp_hi = speech_extents(index.codes[1], hyp)
        lo = np.where(has_ref, np.minimum(lo, hyp_lo), lo)
        hi = np.where(has_ref, np.maximum(hi, hyp_hi), hi)
    keep = np.flatnonzero(has_ref & (hi > lo))
    return keep.astype(np.int64), lo[keep], hi[keep]


def _region_filter(regions: str, n_ref: np.ndarray) -> np.ndarray:
    if regions == "single":
        return n_ref == 1
    if regions == "overlap":
        return n_ref >= 2
    if regions == "nonoverlap":
        return n_ref <= 1
    return np.ones(len(n_ref), bool)
