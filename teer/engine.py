"""The sweep: one vectorised pass over all files that yields every error component.

``score`` is the one entry point. It sweeps whole files, all at once or in
batches (files are independent), and each sweep (``sweep``) is a sequence of
named steps, each returning a complete value:

1. ``_file_index``: one vocabulary of file ids for both sides, the UEM and the
   no-score zones;
2. ``_scored_time``: the UEM, or each file's extent;
3. ``_grid``: every boundary (segments, UEM, collars, no-score zones) of every
   file on one sorted grid keyed by (file, time); intervals become index ranges
   ``[i0, i1)`` on it (``teer.intervals``), region ``r`` being the span between
   grid points ``r`` and ``r + 1`` of one file;
4. ``_side``: each side's speakers, their merged speech and per-region counts (counted
   on the coarser regions that collars split, ``Coarse``);
5. the evaluated regions (in the UEM) and the scored ones (outside collars and
   no-score zones, of the chosen kind);
6. ``_together``: where both sides speak, each side's active speakers and
   (speaker, emotion) items, listed region by region (``intervals.active``), and
   the pairs of speakers active together; found on the coarser regions that
   collars split (``Coarse``), where the same speakers speak;
7. the speaker mapping (``teer.matcher``);
8. ``_matched_pairs`` (``_matched`` where each segment counts): per region, how
   many active reference speakers can be paired with a hypothesis speaker of
   the same emotion, the mapped speaker, or both.

``Sweep.components`` then adds the regions up per file (the formulas of the
components are in ``Sweep.components``; the rates in ``teer.components``).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from . import matcher
from .components import ACCOUNTING, SECONDS, SUMS
from .intervals import Active, Intervals, active, coverage, covered, expand, listed_before, merge, min_profile
from .options import REGIONS, UEM_DEFAULTS
from .parallel import ordered_map
from .segments import MAX_TIME, NO_EMOTION, SegmentTable, concat_vocab, distinct, extents, remap, unique_inverse
from .ticks import MAX_TICKS, TICKS_PER_SECOND, of_value

#: {file: [(start, end), ...]} in ticks (``teer.api.as_uem`` converts seconds)
Uem = Mapping[str, Sequence[tuple[int, int]]]

#: segments per batch of whole files (measured: peak memory falls with it, time does not grow)
BATCH_SEGMENTS = 20_000
#: grids of up to 2 ** this many points are sorted by one integer sort (``_packed_sort``); in
#: larger ones more distinct keys would tie without their last bits
PACKED_INDEX_BITS = 20
SAME_SPEAKER_OVERLAP = ("once", "each")


@dataclass(frozen=True)
class Grid:
    """The sorted unique (file, time) points of one sweep (times in ticks, int64)."""

    file: np.ndarray
    time: np.ndarray
    #: per region, its length in ticks; 0 where the region spans two files
    duration: np.ndarray
    n_files: int

    @property
    def n_regions(self) -> int:
        return len(self.time)


@dataclass(frozen=True)
class Side:
    """One side (reference or hypothesis) placed on the grid.

    Speakers are numbered globally, file by file: speaker ``s`` is speaker
    ``speaker_name[s]`` of the table in file ``speaker_file[s]``.
    """

    file: np.ndarray  # per segment, file index
    speaker: np.ndarray  # per segment, global (file, speaker) index
    emotion: np.ndarray  # per segment, merged emotion index or NO_EMOTION
    i0: np.ndarray  # per segment, grid index of its start
    i1: np.ndarray  # ... and of its end
    speaker_file: np.ndarray  # per global speaker, its file
    speaker_name: np.ndarray  # per global speaker, index into the table's speakers
    speaker_local: np.ndarray  # per global speaker, its rank among its file's speakers
    #: each speaker's speech (merged, or every segment under same_speaker_overlap="each")
    by_speaker: Intervals
    #: each (speaker, emotion) pair's speech; group = speaker * n_emotions + emotion
    by_speaker_emotion: Intervals
    #: per segment that overlaps an earlier one of its speaker, that speaker
    overlap_speaker: np.ndarray
    #: per region, the number of active speakers
    count: np.ndarray
    #: every segment has an emotion: a speaker is active where one of its items is
    labelled: bool

    @property
    def self_overlaps(self) -> int:
        return len(self.overlap_speaker)


@dataclass(frozen=True)
class Together:
    """Where both sides speak (``regions``): each side's (speaker, emotion) items active
    there, the pairs of speakers active together, and the pairs of those that agree on
    the emotion there (``agrees``).

    All of it is found on a list of units: ``regions`` themselves, or where collars split
    regions, the coarser regions they split (``Coarse``), in which the same speakers speak.
    """

    regions: np.ndarray
    #: per side (reference, hypothesis), its items active in each unit
    items: tuple[Active, Active]
    #: per unit, whether a speaker there has several emotions at once (on either side) ...
    several: np.ndarray
    #: ... and whether a hypothesis speaker does
    hyp_several: np.ndarray
    #: per region of ``regions``, its unit
    unit: np.ndarray
    #: the pairs in each unit (``Pairs.region``: the unit)
    unit_speakers: matcher.Pairs
    unit_agreeing: matcher.Pairs
    #: the same pairs in each of ``regions``, for the pair sums of the mapping (``Coarse.refine``)
    speakers: matcher.Pairs
    agreeing: matcher.Pairs

    def items_in(self, side: int, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(item, region) of a side's items active in ``regions`` (sorted, among ``self.regions``)."""
        items = self.items[side]
        at = self.unit[np.searchsorted(self.regions, regions)]
        count = items.count[at]
        k = np.arange(count.sum()) + np.repeat(items.first[at] - (np.cumsum(count) - count), count)
        return items.group[k], np.repeat(regions, count)


@dataclass(frozen=True)
class Coarse:
    """The grid's points that segments and the UEM put there, without those only collars
    and no-score zones add: who speaks, and so all of ``Together``, changes only at them.
    Coarse region ``c`` is made of the grid's regions ``point[c] .. point[c + 1] - 1``."""

    point: np.ndarray
    #: per grid point, the coarse region that starts there or holds it
    rank: np.ndarray
    #: per coarse region, how many grid regions it holds
    size: np.ndarray

    @classmethod
    def of(cls, n: int, boundaries: Sequence[np.ndarray]) -> "Coarse | None":
        """The coarse points among ``n`` (``boundaries``: grid indices), or None where they are all."""
        is_point = np.zeros(n, bool)
        for at in boundaries:
            is_point[at] = True
        if is_point.all():
            return None
        point = np.flatnonzero(is_point)
        rank = np.cumsum(is_point, dtype=np.intp)
        rank -= 1
        return cls(point, rank, np.diff(point, append=n))

    def side(self, side: Side) -> Side:
        """``side`` with its speech and counts on the coarse regions."""
        def coarse(iv: Intervals) -> Intervals:
            return Intervals(iv.group, self.rank[iv.i0], self.rank[iv.i1])

        return dataclasses.replace(side, by_speaker=coarse(side.by_speaker),
                                   by_speaker_emotion=coarse(side.by_speaker_emotion), count=side.count[self.point])

    def refine(self, pairs: matcher.Pairs) -> matcher.Pairs:
        """``pairs`` in coarse regions (each pair once per region) as the same pairs in each
        grid region of those.

        The pair sums need each pair's entries in region order, those of the regions with
        one pair on each side first: the pairs are repeated pair after pair, each in its
        grid regions.
        """
        c = pairs.region
        if len(c) == 0:
            return pairs
        n_fine = self.size[c]
        at = np.repeat(np.arange(len(c)), n_fine)
        # the k-th entry of a pair is its coarse region's k-th grid region: entry j is
        # grid region j - (the pair's first entry) + (the coarse region's first point)
        first_entry = np.cumsum(n_fine) - n_fine
        fine = np.arange(len(at))
        fine += (self.point[c] - first_entry)[at]
        return matcher.Pairs(pairs.ref, pairs.hyp, fine, int(n_fine[:pairs.single].sum()), at)


@dataclass(frozen=True)
class Matched:
    """Per region, the size of the best one-to-one match of active reference and
    hypothesis speakers that agree on the emotion, the (mapped) speaker, or both."""

    emo: np.ndarray
    spk: np.ndarray
    emo_spk: np.ndarray


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
        object arrays of Python integers where int64 could overflow)."""
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
        have TOTAL's type, so that they add up to it as exactly as it is summed."""
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


@dataclass(frozen=True)
class SweepOptions:
    """How a sweep counts (the engine's part of ``teer.options.ScoringOptions``)."""

    collar: float = 0.0
    regions: str = "all"
    uem_default: str = "reference"
    speaker_map: Mapping[tuple[str, str], str] | None = None
    same_speaker_overlap: str = "once"

    def __post_init__(self):
        if self.same_speaker_overlap not in SAME_SPEAKER_OVERLAP:
            raise ValueError(f"same_speaker_overlap must be 'once' or 'each', not {self.same_speaker_overlap!r}")
        if self.regions not in REGIONS:
            raise ValueError(f"regions must be one of {', '.join(REGIONS)}, not {self.regions!r}")
        if not 0 <= self.collar < math.inf:
            raise ValueError(f"collar must be a non-negative finite number, not {self.collar}")
        # (the collar in ticks: ``collar_ticks``)
        if self.uem_default not in UEM_DEFAULTS:
            raise ValueError(f"uem_default must be 'reference' or 'union', not {self.uem_default!r}")
        # times lie in [0, MAX_TIME]: a wider collar removes nothing more, and bounding it
        # keeps the grid's times (boundary +- collar) within int64
        object.__setattr__(self, "collar", min(float(self.collar), MAX_TIME))

    @property
    def collar_ticks(self) -> int:
        """The collar in ticks (the nearest tick to the float: 0.25 is 250,000,000 exactly)."""
        return min(of_value(self.collar), MAX_TICKS)


@dataclass(frozen=True)
class Result:
    """Per-file sums of every component for the scored files, and the warnings."""

    files: list[str]
    components: dict[str, np.ndarray]
    warnings: list[str]
    #: the one sweep over all files (``batch_segments=None``), else None
    sweep: Sweep | None = None
    #: self-overlapping segments (ref, hyp) in the scored files (``overlap_warnings``)
    self_overlaps: tuple[int, int] = (0, 0)
    #: per scored file, each hypothesis speaker's reference speaker (None: not mapped)
    mapping: dict[str, dict[str, str | None]] = dataclasses.field(default_factory=dict)
    #: ``Sweep.hyp_several_emotions`` of the scored files (``several_emotions_warnings``)
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
    collar: float = 0.0,
    regions: str = "all",
    uem_default: str = "reference",
    noscore: SegmentTable | None = None,
    speaker_map: Mapping[tuple[str, str], str] | None = None,
    same_speaker_overlap: str = "once",
    scored_files: Sequence[str] | None = None,
    reference_files: Sequence[str] | None = None,
    batch_segments: int | None = BATCH_SEGMENTS,
    jobs: int = 1,
    inspect: Callable[[Sweep, tuple[SegmentTable, SegmentTable]], object] | None = None,
) -> Result:
    """Every component of every scored file.

    The scored files are ``scored_files`` if given (the result follows their
    order), else the UEM's files, else the reference's. ``reference_files`` are
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
    options = SweepOptions(collar, regions, uem_default, speaker_map, same_speaker_overlap)
    index = _file_index(ref, hyp, noscore, list(uem or ()) + list(scored_files or ()))
    in_uem = index.flags(uem or ())
    if scored_files is not None:
        scored = index.flags(scored_files)
    else:
        scored = in_uem if uem is not None else index.has_ref
    warnings = _file_warnings(index, reference_files, in_uem, uem is not None)

    batch_ids, batch = _batches(ref, hyp, noscore, uem, index, scored, in_uem, batch_segments)

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
    # batches are summed in order, whatever the number of processes: the sums are identical
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
    if options.same_speaker_overlap == "once":
        warnings += overlap_warnings(*overlaps) + several_emotions_warnings(several)
    at = (np.asarray([index.position[name] for name in scored_files], np.int64) if scored_files is not None
          else np.flatnonzero(scored))
    names = [index.files[i] for i in at]
    return Result(names, {name: v[at] for name, v in sums.items()}, warnings, whole, (overlaps[0], overlaps[1]),
                  {name: mapping.get(name, {}) for name in names}, several,
                  inspected if inspect is not None else [])


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


def file_warnings(ref: SegmentTable, hyp: SegmentTable, uem: Uem | None = None, *,
                  scored_files: Sequence[str] | None = None,
                  reference_files: Sequence[str] | None = None) -> list[str]:
    """The warnings of ``score`` about files (only in the hypothesis, not in the UEM),
    for inputs scored in parts: ``ref`` and ``hyp`` need only one row per file."""
    index = _file_index(ref, hyp, None, list(uem or ()) + list(scored_files or ()))
    return _file_warnings(index, reference_files, index.flags(uem or ()), uem is not None)


@dataclass(frozen=True)
class FileIndex:
    """One vocabulary of file ids for every input, and each table's rows' file codes."""

    files: list[str]
    position: dict[str, int]
    #: per input table (ref, hyp, noscore if any), its rows' file codes
    codes: list[np.ndarray]
    has_ref: np.ndarray
    has_hyp: np.ndarray

    @property
    def n_files(self) -> int:
        return len(self.files)

    def flags(self, names) -> np.ndarray:
        out = np.zeros(self.n_files, bool)
        out[[self.position[name] for name in names]] = True
        return out


def _file_index(ref: SegmentTable, hyp: SegmentTable, noscore: SegmentTable | None,
                extra: Sequence[str]) -> FileIndex:
    tables = [ref, hyp] + ([noscore] if noscore is not None else [])
    files, maps = concat_vocab(tables + [_names_table(extra)], "files")
    codes = [remap(t.file, m) for t, m in zip(tables, maps)]
    n_files = len(files)
    return FileIndex(files, {name: i for i, name in enumerate(files)}, codes,
                     np.bincount(codes[0], minlength=n_files) > 0, np.bincount(codes[1], minlength=n_files) > 0)


def _batches(ref, hyp, noscore, uem, index: FileIndex, scored: np.ndarray, in_uem: np.ndarray,
             batch_segments: int | None):
    """The ids of the batches of whole files that hold scored files, and a function that
    gives a batch's (tables, UEM, positions of its files in ``index``)."""
    tables = [ref, hyp] + ([noscore] if noscore is not None else [])
    if batch_segments is None:
        def everything(_: int):
            into = np.fromiter((index.position[name] for name in _sweep_files(tables, uem)), np.int64)
            return (ref, hyp, noscore), uem, into

        return [0], everything
    files = index.files
    size = np.bincount(index.codes[0], minlength=index.n_files) + np.bincount(index.codes[1], minlength=index.n_files)
    # batch numbers grow with the file index: each batch is a contiguous range of files
    number = (np.cumsum(size) - size) // max(batch_segments, 1)
    # each table's rows grouped by batch once, so that a batch is a slice, not a scan; rows
    # already in file order (a file's lines together, files in the reference's order: the
    # usual case) need no reordering, and a batch's columns are then views, not copies
    grouped = []
    batch_ids = np.arange(int(number[-1]) + 2 if len(number) else 1, dtype=np.int32)
    for f in index.codes:
        in_batch = number.astype(np.int32)[f]
        order = None
        if len(in_batch) and (in_batch[1:] < in_batch[:-1]).any():
            order = np.argsort(in_batch, kind="stable")
            in_batch = in_batch[order]
        # where each batch's rows start (a batch's rows are bounds[b]:bounds[b + 1])
        grouped.append((order, np.searchsorted(in_batch, batch_ids)))

    def batch(b: int):
        lo_file, hi_file = int(np.searchsorted(number, b, "left")), int(np.searchsorted(number, b, "right"))
        names = files[lo_file:hi_file]
        parts = []
        for t, f, (order, bounds) in zip(tables, index.codes, grouped):
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            rows = slice(lo, hi) if order is None else order[lo:hi]
            parts.append(batch_table(t, rows, f[rows] - lo_file, names))
        part_uem = None if uem is None else {
            files[i]: uem[files[i]] for i in range(lo_file, hi_file) if in_uem[i]}
        into = np.fromiter((index.position[name] for name in _sweep_files(parts, part_uem)), np.int64)
        return (parts[0], parts[1], parts[2] if noscore is not None else None), part_uem, into

    return distinct(number[scored]).tolist(), batch


def _sweep_files(tables: Sequence[SegmentTable], uem: Uem | None) -> list[str]:
    """The file vocabulary a sweep of ``tables`` uses (``_file_index``'s order)."""
    files, _ = concat_vocab(list(tables) + [_names_table(list(uem or ()))], "files")
    return files


def batch_table(table: SegmentTable, rows: np.ndarray | slice, file: np.ndarray, files: list[str]) -> SegmentTable:
    """The given rows of ``table``, with file ids re-coded into the batch's own ``files``: the
    table a sweep of one batch of whole files takes (``score`` and ``teer validate``)."""
    return SegmentTable(files, table.speakers, table.emotions, file.astype(np.int32), table.start[rows],
                        table.end[rows], table.speaker[rows], table.emotion[rows], table.origin[rows],
                        table.source)


def _names_table(names: Sequence[str]) -> SegmentTable:
    table = SegmentTable.empty()
    table.files = list(names)
    return table


def _file_warnings(index: FileIndex, reference_files: Sequence[str] | None, in_uem: np.ndarray,
                   has_uem: bool) -> list[str]:
    """Files only in the hypothesis, and reference files the UEM leaves out.

    The reference's files are those with segments, and ``reference_files`` (a
    reference whose non-target speech was dropped still had the file)."""
    files = index.files
    ref_files = index.has_ref
    if reference_files is not None:
        wanted = set(reference_files)
        ref_files = ref_files | np.fromiter((f in wanted for f in files), bool, len(files))
    warnings = []
    only_hyp = np.flatnonzero(index.has_hyp & ~ref_files)
    if len(only_hyp):
        names = [files[i] for i in only_hyp]
        warnings.append(
            f"{len(names)} file(s) only in the hypothesis ({_sample(names)}): "
            + ("scored where the UEM covers them" if in_uem[only_hyp].any() else "not scored (no UEM covers them)"))
    if has_uem:
        missing = [files[i] for i in np.flatnonzero(ref_files & ~in_uem)]
        if missing:
            warnings.append(f"{len(missing)} reference file(s) not in the UEM ({_sample(missing)}): not scored")
    return warnings


def overlap_warnings(ref_count: int, hyp_count: int) -> list[str]:
    """The warnings about segments that overlap another of their speaker (counts of ``Result.self_overlaps``)."""
    return [f"{count} {name} segment(s) overlap another segment of the same speaker: that speech counts once"
            for count, name in ((ref_count, "reference"), (hyp_count, "hypothesis")) if count]


def several_emotions_warnings(seconds: float) -> list[str]:
    """The warning about hypothesis speakers with several emotions at once (``Result.hyp_several_emotions``)."""
    if seconds <= 0:
        return []
    return [f"the hypothesis gives a speaker two or more emotions at once in {seconds:.2f} s of the scored time "
            "with reference speech: there such a speaker is right only if every one of its emotions is among the "
            "reference speaker's (hedging is never rewarded)"]


def _sample(names: Sequence[str], k: int = 3) -> str:
    shown = ", ".join(names[:k])
    return shown + (", ..." if len(names) > k else "")


# --------------------------------------------------------------------------
# one sweep


def sweep(ref: SegmentTable, hyp: SegmentTable, uem: Uem | None = None, *,
          noscore: SegmentTable | None = None, **options) -> Sweep:
    """One sweep over all files of ``ref`` and ``hyp`` (``options``: those of ``score``)."""
    return _sweep(ref, hyp, noscore, uem, SweepOptions(**options))


def _sweep(ref: SegmentTable, hyp: SegmentTable, noscore: SegmentTable | None, uem: Uem | None,
           options: SweepOptions) -> Sweep:
    index = _file_index(ref, hyp, noscore, list(uem or ()))
    emotions, emo_maps = concat_vocab([ref, hyp], "emotions")
    ref_speech, hyp_speech = ref.end > ref.start, hyp.end > hyp.start
    scored_time = _scored_time(uem, index, ref, hyp, options.uem_default)

    spans = {
        "ref": (index.codes[0][ref_speech], ref.start[ref_speech], ref.end[ref_speech]),
        "hyp": (index.codes[1][hyp_speech], hyp.start[hyp_speech], hyp.end[hyp_speech]),
        "uem": scored_time,
        "collar": _collars((index.codes[0][ref_speech], ref.start[ref_speech], ref.end[ref_speech]),
                           options.collar_ticks),
        "noscore": _noscore_zones(noscore, index.codes[2] if noscore is not None else None),
    }
    grid, at = _grid(spans, index.n_files)
    n = grid.n_regions

    once = options.same_speaker_overlap == "once"
    coarse = Coarse.of(n, [*at["ref"], *at["hyp"], *at["uem"]])
    ref_side = _side(ref, ref_speech, spans["ref"][0], *at["ref"], emo_maps[0], len(emotions), once, n, coarse)
    hyp_side = _side(hyp, hyp_speech, spans["hyp"][0], *at["hyp"], emo_maps[1], len(emotions), once, n, coarse)

    in_file = np.zeros(n, bool)
    in_file[:-1] = grid.file[1:] == grid.file[:-1]
    evaluated = in_file & covered(*at["uem"], n)
    in_collar, in_noscore = covered(*at["collar"], n), covered(*at["noscore"], n)
    in_regions = _region_filter(options.regions, ref_side.count)
    scored = evaluated & ~(in_collar | in_noscore) & in_regions

    # the speakers, and the (speaker, emotion) items, active together where both sides speak
    both = evaluated & (ref_side.count > 0) & (hyp_side.count > 0)
    together = _together(ref_side, hyp_side, both, len(emotions), coarse)
    if options.speaker_map is None:
        # the labels' sorted ranks: emotion indices follow the input order, ties must not
        emotion_rank = np.argsort(np.argsort(np.asarray([str(e) for e in emotions], dtype=object), kind="stable"))
        mapping = matcher.optimal_mapping(grid, ref_side, hyp_side, together.speakers, together.agreeing, scored,
                                          emotion_rank.astype(np.int64))
    else:
        mapping = matcher.fixed_mapping(index.files, ref_side, hyp_side, ref.speakers, hyp.speakers,
                                        options.speaker_map)
    if once:
        matched = _matched_pairs(ref_side, hyp_side, mapping, scored, len(emotions), n, together)
    else:
        matched = _matched(ref_side, hyp_side, mapping, scored, len(emotions), n)
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
    return float(duration[several].sum()) / TICKS_PER_SECOND  # (ticks as seconds, for a warning)


def _several_emotions_spans(side: Side, n_emotions: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The spans ``[start, end)`` of grid regions in which a speaker of ``side`` has two or
    more emotions at once (its merged (speaker, emotion) items overlap), one per speaker."""
    items = side.by_speaker_emotion
    if not side.self_overlaps or len(items) == 0:  # otherwise nobody has two emotions at once
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    speaker = items.group // max(n_emotions, 1)
    # only a speaker whose segments overlap can have two emotions at once
    overlapping = np.zeros(len(side.speaker_file), bool)
    overlapping[side.overlap_speaker] = True
    mine = np.flatnonzero(overlapping[speaker])
    speaker, i0, i1 = speaker[mine].astype(np.int64), items.i0[mine], items.i1[mine]
    # each speaker's number of active emotions changes at its items' ends: a running sum
    # of +1 and -1 over the (speaker, grid point) keys, read where each key's run ends
    key = np.concatenate([speaker * (n + 1) + i0, speaker * (n + 1) + i1])
    order = np.argsort(key, kind="stable")
    key = key[order]
    count = np.cumsum(np.concatenate([np.ones(len(mine), np.int64), -np.ones(len(mine), np.int64)])[order])
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else np.zeros(0, np.int64)
    # from each key to the next of the same speaker, the speaker has count[last] emotions
    several = np.flatnonzero(count[last][:-1] >= 2)
    return key[last][several] % (n + 1), key[last][several + 1] % (n + 1)


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


def _grid(spans: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n_files: int
          ) -> tuple[Grid, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The sorted unique (file, time) points of all ``spans`` (name -> (file, start, end)),
    and each span's (i0, i1) on them."""
    times = [x for _, start, end in spans.values() for x in (start, end)]
    t = np.concatenate(times)
    f = np.concatenate([np.asarray(file, np.int32) for file, _, _ in spans.values() for _ in (0, 1)])
    order = _file_time_order(f, t)
    ts, fs = t[order], f[order]
    del t, f
    new = np.empty(len(ts), bool)
    new[:1] = True
    np.not_equal(ts[1:], ts[:-1], out=new[1:])
    new[1:] |= fs[1:] != fs[:-1]
    small = np.int32 if len(ts) < 1 << 31 else np.int64
    index = np.empty(len(ts), small)
    rank = np.cumsum(new, dtype=small)
    rank -= 1
    index[order] = rank
    del rank
    del order
    bounds = np.cumsum([0] + [len(x) for x in times])
    pieces = [index[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    grid_file, grid_time = fs[new], ts[new]
    n = len(grid_time)
    duration = np.zeros(n, np.int64)
    np.subtract(grid_time[1:], grid_time[:-1], out=duration[:-1])
    duration[np.flatnonzero(grid_file[1:] != grid_file[:-1])] = 0  # (a region between two files)
    at = {name: (pieces[2 * k], pieces[2 * k + 1]) for k, name in enumerate(spans)}
    return Grid(grid_file, grid_time, duration, n_files), at


def _file_time_order(f: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Indices sorting by (file, time), exactly, whatever the magnitudes.

    One float key ``file * span + time``, with ``span`` a power of two above the
    time range: ``file * span`` is then exact, the exact keys increase with (file,
    time), and rounding is monotone, so the sorted keys are in (file, time) order
    except within runs of equal keys (distinct times closer than the key's
    precision, or the last times of one file and the first of the next). Those
    runs are then sorted exactly by (file, time). Up to ``2 ** PACKED_INDEX_BITS``
    points, the keys are sorted without their last bits (``_packed_sort``): more runs of
    equal keys, sorted the same way.
    """
    if len(t) == 0:
        return np.zeros(0, np.int64)
    _, exponent = math.frexp(float(t.max() - t.min()) + 1.0)
    span = math.ldexp(1.0, exponent)
    key = f * span
    key += t
    index_bits = max(len(t) - 1, 1).bit_length()
    if index_bits <= PACKED_INDEX_BITS:
        order, sorted_key = _packed_sort(key, index_bits)
    else:
        # stable: numpy's merge sort gains on the runs already in order (each side's starts)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
    del key
    equal = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    first, second = order[equal], order[equal + 1]
    # where all equal keys are of equal (file, time) (one point, twice: the usual tie),
    # there is nothing to fix
    if ((t[first] != t[second]) | (f[first] != f[second])).any():
        tied = np.zeros(len(sorted_key), dtype=bool)
        tied[equal] = tied[equal + 1] = True
        members = np.flatnonzero(tied)
        run = np.cumsum(np.r_[True, sorted_key[members[1:]] != sorted_key[members[:-1]]]
                        | np.r_[True, np.diff(members) != 1])
        inner = order[members]
        order[members] = inner[np.lexsort((t[inner], f[inner], run))]
    return order


def _packed_sort(key: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices sorting the float ``key`` but for its last ``bits`` bits, and the sorted keys
    without those bits (integers, ordered as the floats are).

    One integer sort of the keys with each one's index in place of those bits: numpy
    sorts integers (SIMD) about twice as fast as it argsorts floats. Keys that differ only
    in those bits come out in index order, as runs of equal keys (``_file_time_order``
    sorts those exactly).
    """
    packed = key.view(np.int64)
    # floats in integer order: the bits of a negative float (sign, magnitude) count down
    packed = np.where(packed < 0, packed ^ np.int64(0x7FFF_FFFF_FFFF_FFFF), packed)
    packed >>= bits
    packed <<= bits
    packed |= np.arange(len(key), dtype=np.int64)
    packed.sort()
    order = packed & np.int64((1 << bits) - 1)
    packed >>= bits
    return order, packed


def _side(table: SegmentTable, keep: np.ndarray, file: np.ndarray, i0: np.ndarray, i1: np.ndarray,
          emo_map: np.ndarray, n_emotions: int, once: bool, n: int, coarse: Coarse | None = None) -> Side:
    """The segments ``keep`` of ``table`` (in files ``file``, at grid indices ``i0, i1``) as a side
    (its counts found on the ``coarse`` regions, where given: the same, from fewer regions)."""
    # speakers are keyed by (file, name): the same name in two files is two speakers
    n_names = max(len(table.speakers), 1)
    key = file.astype(np.int64) * n_names + table.speaker[keep].astype(np.int64)
    uniq, speaker = unique_inverse(key)
    emotion = remap(table.emotion[keep], emo_map).astype(np.int64)
    speaker_file = uniq // n_names
    has = emotion != NO_EMOTION
    labelled = bool(has.all())
    if labelled:  # (no copies)
        joint, labelled_i0, labelled_i1 = speaker * max(n_emotions, 1) + emotion, i0, i1
    else:
        joint, labelled_i0, labelled_i1 = speaker[has] * max(n_emotions, 1) + emotion[has], i0[has], i1[has]
    if once:
        by_speaker, overlap_speaker = merge(speaker, i0, i1)
        by_speaker_emotion, _ = merge(joint, labelled_i0, labelled_i1)
    else:  # every segment is an item of its own: no two emotions on one item
        by_speaker = Intervals(speaker, i0, i1)
        by_speaker_emotion = Intervals(joint, labelled_i0, labelled_i1)
        overlap_speaker = np.zeros(0, np.int64)
    return Side(file=file.astype(np.int64), speaker=speaker, emotion=emotion, i0=i0, i1=i1, labelled=labelled,
                speaker_file=speaker_file, speaker_name=uniq % n_names,
                speaker_local=np.arange(len(uniq)) - np.searchsorted(speaker_file, speaker_file),
                by_speaker=by_speaker, by_speaker_emotion=by_speaker_emotion, overlap_speaker=overlap_speaker,
                count=_count(by_speaker, n, coarse))


def _count(speech: Intervals, n: int, coarse: Coarse | None) -> np.ndarray:
    """Per grid region, the number of active speakers of ``speech``: counted on the
    ``coarse`` regions (who speaks changes only between them) and repeated in their grid regions."""
    if coarse is None:
        return coverage(speech.i0, speech.i1, n)
    return coverage(coarse.rank[speech.i0], coarse.rank[speech.i1], len(coarse.point))[coarse.rank]


def _region_filter(regions: str, n_ref: np.ndarray) -> np.ndarray:
    if regions == "single":
        return n_ref == 1
    if regions == "overlap":
        return n_ref >= 2
    if regions == "nonoverlap":
        return n_ref <= 1
    return np.ones(len(n_ref), bool)


def _matched(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int, n: int) -> Matched:
    """The three matched counts of every region, from the speakers' and items' profiles
    (any ``same_speaker_overlap``; ``_matched_pairs`` is the faster way under "once")."""
    n_emotions = max(n_emotions, 1)

    mapped = mapping[hyp.by_speaker.group]
    keep = mapped >= 0
    hyp_as_ref = Intervals(mapped[keep], hyp.by_speaker.i0[keep], hyp.by_speaker.i1[keep])
    spk = min_profile(ref.by_speaker, hyp_as_ref, n)

    r_se, h_se = ref.by_speaker_emotion, hyp.by_speaker_emotion
    r_emo = Intervals(r_se.group % n_emotions, r_se.i0, r_se.i1)
    h_emo = Intervals(h_se.group % n_emotions, h_se.i0, h_se.i1)
    emo = min_profile(r_emo, h_emo, n)

    h_spk = h_se.group // n_emotions
    h_map = mapping[h_spk] if len(h_spk) else h_spk
    keep = h_map >= 0
    h_joint = Intervals(h_map[keep] * n_emotions + h_se.group[keep] % n_emotions,
                        h_se.i0[keep], h_se.i1[keep])
    emo_spk = min_profile(r_se, h_joint, n)

    return _exact(ref, hyp, mapping, scored, n_emotions, emo, spk, emo_spk)


def _together(ref: Side, hyp: Side, both: np.ndarray, n_emotions: int, coarse: Coarse | None = None) -> Together:
    """``Together`` in the regions ``both`` (a mask over the grid's regions), found on the
    ``coarse`` regions where collars split the grid's (the same, with less to sort) and
    then repeated in each of their grid regions."""
    regions = np.flatnonzero(both)
    if coarse is not None:
        # who speaks, and so whether both sides do, is the same in a coarse region's grid regions
        on_coarse = _together(coarse.side(ref), coarse.side(hyp), both[coarse.point], n_emotions)
        unit = np.zeros(len(coarse.point), np.int64)
        unit[on_coarse.regions] = np.arange(len(on_coarse.regions))
        return Together(regions, on_coarse.items, on_coarse.several, on_coarse.hyp_several,
                        unit[coarse.rank[regions]], on_coarse.unit_speakers, on_coarse.unit_agreeing,
                        coarse.refine(on_coarse.speakers), coarse.refine(on_coarse.agreeing))
    below = listed_before(both)
    items = tuple(active(side.by_speaker_emotion, below) for side in (ref, hyp))
    (ref_speakers, ref_first_item), (hyp_speakers, hyp_first_item) = (
        _active_speakers(side, regions, below, side_items, n_emotions) for side, side_items in zip((ref, hyp), items))
    n_emotions = max(n_emotions, 1)
    if ref_first_item is None or hyp_first_item is None or n_emotions > 62:
        speakers = matcher.cooccurring(ref_speakers, hyp_speakers)
        agreeing = _agreeing_of_items(items, n_emotions)
    else:
        speakers, agreeing = _pairs_of_speakers((ref_speakers, hyp_speakers), (ref_first_item, hyp_first_item),
                                               items, n_emotions)

    def in_regions(pairs: matcher.Pairs) -> matcher.Pairs:
        return matcher.Pairs(pairs.ref, pairs.hyp, regions[pairs.region], pairs.single)

    ref_several, hyp_several = (
        _several_emotions(side_items, n_emotions) if first_item is None else side_items.count > side_speakers.count
        for side_items, side_speakers, first_item in ((items[0], ref_speakers, ref_first_item),
                                                       (items[1], hyp_speakers, hyp_first_item)))
    several = ref_several | hyp_several
    return Together(regions, items, several, hyp_several, np.arange(len(regions)), speakers, agreeing,
                    in_regions(speakers), in_regions(agreeing))


def _several_emotions(items: Active, n_emotions: int) -> np.ndarray:
    """Per region of ``items`` (a side's active items), whether one of its speakers has
    several emotions at once there (where some speakers have no emotion, the counts of
    items and speakers do not tell)."""
    speaker = items.group // n_emotions
    # a speaker's items in one region are adjacent (sorted by speaker * n_emotions + emotion)
    repeated = (speaker[1:] == speaker[:-1]) & (items.position[1:] == items.position[:-1])
    out = np.zeros(len(items.count), bool)
    out[items.position[1:][repeated]] = True
    return out


def _active_speakers(side: Side, regions: np.ndarray, below: np.ndarray, items: Active, n_emotions: int
                     ) -> tuple[Active, np.ndarray | None]:
    """A side's speakers active in ``regions`` (``intervals.active`` of ``by_speaker``; ``below``:
    ``listed_before`` of them), read off its active ``items`` where every segment has an
    emotion: a region's speakers are then its items' speakers, each once. With them, the
    index of each one's first item (None where not read off the items)."""
    count = side.count[regions]
    if not side.labelled:
        return active(side.by_speaker, below), None
    speakers = items.group // max(n_emotions, 1)
    if np.array_equal(items.count, count):  # nobody has two emotions at once
        return Active(speakers, items.position, count, items.first), np.arange(len(speakers))
    # a speaker's items in one region are adjacent (sorted by speaker * n_emotions +
    # emotion): each but the first repeats the one before
    repeated = np.zeros(len(speakers), bool)
    repeated[1:] = (speakers[1:] == speakers[:-1]) & (items.position[1:] == items.position[:-1])
    first_item = np.flatnonzero(~repeated)
    return Active(speakers[first_item], items.position[first_item], count, np.cumsum(count) - count), first_item


def agrees(ref_emotions, hyp_emotions):
    """Whether a hypothesis speaker active with the emotions ``hyp_emotions`` agrees with a
    reference speaker active with ``ref_emotions`` (both as the bits of masks, numpy
    arrays or ints; the hypothesis' not empty): where **every** emotion of the hypothesis
    speaker is one of the reference speaker's (H ⊆ R).

    The reference may give a speaker several emotions at once (annotators label its
    overlapping segments differently): any of them is right. A hypothesis that gives one
    speaker several emotions at once is right only if all of them are, so that hedging
    (several labels for the same speech) never scores better than one label.
    """
    return hyp_emotions & ~ref_emotions == 0


def _agreeing_of_items(items: tuple[Active, Active], n_emotions: int) -> matcher.Pairs:
    """The pairs of speakers active together that agree on the emotion (``agrees``), once per
    region, from the pairs of their items active together (``matcher.cooccurring``): a pair
    agrees where the items with one emotion on both sides are as many as the hypothesis
    speaker's items there."""
    item_pairs = matcher.cooccurring(*items)
    ref_speaker, hyp_speaker = item_pairs.ref // n_emotions, item_pairs.hyp // n_emotions
    same = np.flatnonzero(item_pairs.ref - ref_speaker * n_emotions == item_pairs.hyp - hyp_speaker * n_emotions)
    region, ref_speaker, hyp_speaker = item_pairs.region[same], ref_speaker[same], hyp_speaker[same]
    # per (region, reference speaker, hypothesis speaker) with an emotion in common: how many
    order = np.lexsort((hyp_speaker, ref_speaker, region))
    new = np.r_[True, (np.diff(region[order]) != 0) | (np.diff(ref_speaker[order]) != 0)
                | (np.diff(hyp_speaker[order]) != 0)] if len(order) else np.zeros(0, bool)
    first = order[new]
    shared = np.diff(np.r_[np.flatnonzero(new), len(order)])
    # ... and the hypothesis speaker's number of emotions there (its items are adjacent)
    hyp_items = items[1]
    h_speaker = hyp_items.group // n_emotions
    h_new = np.r_[True, (h_speaker[1:] != h_speaker[:-1]) | (hyp_items.position[1:] != hyp_items.position[:-1])]
    h_first = np.flatnonzero(h_new) if len(h_speaker) else np.zeros(0, np.int64)
    h_count = np.diff(np.r_[h_first, len(h_speaker)])
    h_key = hyp_items.position[h_first].astype(np.int64) * (int(h_speaker.max(initial=0)) + 1) + h_speaker[h_first]
    key = region[first].astype(np.int64) * (int(h_speaker.max(initial=0)) + 1) + hyp_speaker[first]
    own = h_count[np.searchsorted(h_key, key)] if len(key) else np.zeros(0, np.int64)
    # the agreeing pairs in the order of the item pairs (the first regions with one item each)
    keep = np.sort(first[shared == own])
    return matcher.Pairs(ref_speaker[keep], hyp_speaker[keep], region[keep],
                         int(np.count_nonzero(same[keep] < item_pairs.single)))


def _pairs_of_speakers(speakers: tuple[Active, Active], first_item: tuple[np.ndarray, np.ndarray],
                       items: tuple[Active, Active], n_emotions: int) -> tuple[matcher.Pairs, matcher.Pairs]:
    """The pairs of speakers active together, and ``_agreeing_of_items`` from them without the
    items' own cross products, where both sides' speakers were read off their items.

    A speaker's emotions in a region are the bits of a mask (``agrees``). The pair sums
    need each pair's entries in the order of the item pairs: first the regions with one
    item on each side, then region by region.
    """
    masks = []
    for side_items, first in zip(items, first_item):
        speaker = side_items.group // n_emotions
        bit = np.left_shift(np.int64(1), side_items.group - speaker * n_emotions)
        masks.append(bit if len(first) == len(bit) else np.bitwise_or.reduceat(bit, first))
    # the cross products of the speakers' entries (their indices as the groups)
    entry = matcher.cooccurring(*(Active(np.arange(len(s.group)), s.position, s.count, s.first) for s in speakers))
    ref_speaker, hyp_speaker = speakers[0].group[entry.ref], speakers[1].group[entry.hyp]
    pairs = matcher.Pairs(ref_speaker, hyp_speaker, entry.region, entry.single)
    agree = agrees(masks[0][entry.ref], masks[1][entry.hyp])
    one_item_each = ((items[0].count == 1) & (items[1].count == 1))[entry.region]
    # regions with one item on each side have one speaker on each side: they come first
    # among the speaker pairs too, in region order
    first = np.flatnonzero(one_item_each & agree)
    then = np.flatnonzero(~one_item_each & agree)
    then = then[np.argsort(entry.region[then], kind="stable")]
    order = np.concatenate([first, then])
    return pairs, matcher.Pairs(ref_speaker[order], hyp_speaker[order], entry.region[order], len(first))


def _matched_pairs(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int, n: int,
                   together: Together) -> Matched:
    """``_matched`` in the scored regions under ``same_speaker_overlap="once"``, from the
    speakers and items active together (``Together``) instead of whole-grid profiles.

    Once merged, a speaker, and a (speaker, emotion) item, is active at most once per
    region on each side, and the mapping is one-to-one: the profile sums of ``_matched``
    are then counts of pairs. A mapped speaker pair counts for ``spk``, and where the two
    agree on the emotion (``agrees``) for ``emo_spk``; ``emo`` is the sum over emotions of
    the smaller side's count of items with it (exact where nobody has several emotions
    at once; ``_exact`` matches the other regions). Regions outside ``scored`` count 0.
    """
    n_emotions = max(n_emotions, 1)
    # each count is found per unit (``Together``) and holds in each of its regions
    n_units = len(together.items[0].count)
    # (indices, not the mask: numpy's boolean indexing is several times slower where
    # about half the entries are kept)
    in_scored = np.flatnonzero(scored[together.regions])
    regions, units = together.regions[in_scored], together.unit[in_scored]

    def in_scored_regions(per_unit: np.ndarray) -> np.ndarray:
        out = np.zeros(n, np.int32)
        out[regions] = per_unit[units]
        return out

    spk, emo_spk = (in_scored_regions(np.bincount(pairs.region[np.flatnonzero(mapping[pairs.hyp] == pairs.ref)],
                                                  minlength=n_units))
                    for pairs in (together.unit_speakers, together.unit_agreeing))
    # per (emotion, unit), each side's number of items
    per_emotion = []
    for items in together.items:
        emotion = items.group - items.group // n_emotions * n_emotions
        per_emotion.append(np.bincount(emotion * n_units + items.position,
                                       minlength=n_emotions * n_units).reshape(n_emotions, n_units))
    emo = in_scored_regions(np.minimum(*per_emotion).sum(axis=0))
    return _exact(ref, hyp, mapping, scored, n_emotions, emo, spk, emo_spk, together)


def _exact(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int,
           emo: np.ndarray, spk: np.ndarray, emo_spk: np.ndarray, together: Together | None = None) -> Matched:
    """The matched counts, made exact where one speaker has several emotions at once."""
    # Where one speaker has several emotions at once (its own segments overlap), the
    # counts of ``emo`` are upper bounds. Where only reference speakers have several,
    # capped at min(n_ref, n_hyp) they are exact when either side has a single speaker
    # (it agrees with a speaker of the other side if they share its one emotion or one of
    # its emotions); those regions and those where a hypothesis speaker has several
    # emotions (it agrees only where all of them are right, ``agrees``) are matched exactly.
    agree = np.minimum(ref.count, hyp.count)
    np.minimum(emo, agree, out=emo)
    np.minimum(emo_spk, agree, out=emo_spk)
    multi = np.zeros(len(agree), bool)
    hyp_multi = np.zeros(len(agree), bool)
    if together is not None:  # (the regions where both sides speak are those that matter)
        multi[together.regions] = together.several[together.unit]
        hyp_multi[together.regions] = together.hyp_several[together.unit]
    else:
        for side, flags in ((ref, multi), (hyp, hyp_multi)):
            flags |= coverage(*_several_emotions_spans(side, n_emotions, len(agree)), len(agree)) > 0
        multi |= hyp_multi
    hard = np.flatnonzero(((multi & (agree >= 2)) | (hyp_multi & (agree >= 1))) & scored)
    if len(hard):
        # each side's active (item, region) there: from ``together`` (the hard regions are
        # among its regions: both sides speak), else by expanding the items
        if together is not None:
            active_items = [together.items_in(side, hard) for side in (0, 1)]
        else:
            active_items = []
            for iv in (ref.by_speaker_emotion, hyp.by_speaker_emotion):
                which, region = expand(iv, hard)
                active_items.append((iv.group[which], region))
        _match_exactly(active_items, mapping, hard, n_emotions, emo, emo_spk)
    return Matched(emo, spk, emo_spk)


def _match_exactly(active_items: Sequence[tuple[np.ndarray, np.ndarray]], mapping: np.ndarray,
                   regions: np.ndarray, n_emotions: int, emo: np.ndarray, emo_spk: np.ndarray) -> None:
    """Set ``emo`` and ``emo_spk`` of ``regions`` (sorted) by matching their active speakers
    exactly (``active_items``: per side, the (item, region) of its items active there).

    A speaker's emotions in a region are the bits of a mask; two speakers can match where
    they agree (``agrees``). ``emo_spk`` counts the mapped pairs that can. ``emo``, the size
    of a largest matching, is read off where one side has one speaker (it has a partner)
    or two (by Hall's condition: each has a partner, and the two have two partners
    between them) and found by augmenting paths in the other regions.
    """
    m = len(regions)
    if n_emotions > 62:  # masks as Python ints
        _match_one_by_one(active_items, mapping, regions, np.arange(m), n_emotions, emo, emo_spk)
        return
    (ref_at, ref_speaker, ref_mask), (hyp_at, hyp_speaker, hyp_mask) = (
        _speaker_masks(items, np.searchsorted(regions, item_region), n_emotions) for items, item_region in active_items)
    # emo_spk: each hypothesis speaker's mapped speaker, looked up among the reference's in its region
    span = int(max(ref_speaker.max(initial=0), mapping.max(initial=0))) + 1
    ref_key = ref_at * span + ref_speaker
    target = mapping[hyp_speaker]
    key = hyp_at * span + target
    at = np.minimum(np.searchsorted(ref_key, key), max(len(ref_key) - 1, 0))
    if len(ref_key):
        meet = (target >= 0) & (ref_key[at] == key) & agrees(ref_mask[at], hyp_mask)
    else:
        meet = np.zeros(len(key), bool)
    emo_spk[regions] = np.bincount(hyp_at[meet], minlength=m)
    # emo where one side has one or two speakers
    n_ref, n_hyp = np.bincount(ref_at, minlength=m), np.bincount(hyp_at, minlength=m)
    few_ref = (n_ref == 1) | (n_ref == 2)
    few_hyp = ((n_hyp == 1) | (n_hyp == 2)) & ~few_ref
    for few, (few_mask, few_count), (other_at, other_mask), few_is_ref in (
            (few_ref, (ref_mask, n_ref), (hyp_at, hyp_mask), True),
            (few_hyp, (hyp_mask, n_hyp), (ref_at, ref_mask), False)):
        if not few.any():
            continue
        first = (np.cumsum(few_count) - few_count)[other_at]
        use = few[other_at]

        def meets(k: int) -> np.ndarray:  # the other side's speakers that agree with the k-th of the few
            mask = few_mask[np.minimum(first + k, len(few_mask) - 1)]
            return agrees(mask, other_mask) if few_is_ref else agrees(other_mask, mask)

        meets_first = use & meets(0)
        meets_second = use & (few_count[other_at] == 2) & meets(1)
        with_first = np.bincount(other_at[meets_first], minlength=m)
        with_second = np.bincount(other_at[meets_second], minlength=m)
        with_either = np.bincount(other_at[meets_first | meets_second], minlength=m)
        one_only = (with_first == 0) | (with_second == 0) | (with_either == 1)
        size = np.where(with_either == 0, 0, np.where(one_only, 1, 2))
        emo[regions[few]] = size[few]
    rest = np.flatnonzero(~few_ref & ~few_hyp)
    if len(rest):
        _match_one_by_one(active_items, mapping, regions, rest, n_emotions, emo, emo_spk, emo_only=True)


def _speaker_masks(items: np.ndarray, position: np.ndarray, n_emotions: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (position, speaker) of the active ``items`` (at ``position``), in that order:
    position, speaker and its emotions as the bits of a mask."""
    speaker = items // n_emotions
    emotion = items - speaker * n_emotions
    order = np.lexsort((speaker, position))
    position, speaker, emotion = position[order], speaker[order], emotion[order]
    if len(position) == 0:
        return position, speaker, np.zeros(0, np.int64)
    start = np.flatnonzero(np.r_[True, (position[1:] != position[:-1]) | (speaker[1:] != speaker[:-1])])
    mask = np.bitwise_or.reduceat(np.left_shift(np.int64(1), emotion.astype(np.int64)), start)
    return position[start], speaker[start], mask


def _match_one_by_one(active_items: Sequence[tuple[np.ndarray, np.ndarray]], mapping: np.ndarray,
                      regions: np.ndarray, which: np.ndarray, n_emotions: int, emo: np.ndarray,
                      emo_spk: np.ndarray, emo_only: bool = False) -> None:
    """``_match_exactly`` of ``regions[which]``, a region at a time (``emo_only``: leave ``emo_spk``)."""
    wanted = set(regions[which].tolist())
    # per side, region -> speaker -> its emotions as the bits of an int
    by_side = []
    for items, item_region in active_items:
        per_region: dict[int, dict[int, int]] = {}
        for g, r in zip(items.tolist(), item_region.tolist()):
            if r in wanted:
                speakers = per_region.setdefault(r, {})
                speaker, emotion = divmod(g, n_emotions)
                speakers[speaker] = speakers.get(speaker, 0) | 1 << emotion
        by_side.append(per_region)
    mapped = mapping.tolist()
    for r in sorted(wanted):
        ref_items = by_side[0].get(r, {})
        hyp_items = by_side[1].get(r, {}).items()
        edges = {s: [h for h, hyp_emotions in hyp_items if agrees(emotions, hyp_emotions)]
                 for s, emotions in ref_items.items()}
        emo[r] = max_matching(edges)
        if not emo_only:
            emo_spk[r] = sum(1 for s, hyps in edges.items() for h in hyps if mapped[h] == s)


def max_matching(edges: dict[int, list[int]], owner: dict[int, int] | None = None) -> int:
    """Size of a maximum bipartite matching (Kuhn's algorithm; graphs here are tiny) of
    ``edges`` (left node -> its right nodes); ``owner``, where given, receives the matching
    (right node -> its left node)."""
    owner = {} if owner is None else owner

    def augment(s: int, seen: set[int]) -> bool:
        for h in edges[s]:
            if h in seen:
                continue
            seen.add(h)
            if h not in owner or augment(owner[h], seen):
                owner[h] = s
                return True
        return False

    return sum(augment(s, set()) for s in edges)
