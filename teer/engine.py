"""The sweep: one vectorised pass over all files that yields every error component.

Every boundary (segment ends, UEM ends, collar ends) of every file is put on a
single sorted grid keyed by (file, time). Intervals are then handled as index
ranges ``[i0, i1)`` over that grid, so that unions, intersections and counts of
active segments are integer operations (cumulative sums over the grid), with no
Python loop per region or per segment. Region ``r`` is the span between grid
points ``r`` and ``r + 1`` when both belong to the same file.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .components import SECONDS
from .options import REGIONS
from .parallel import ordered_map
from .segments import MAX_TIME, NO_EMOTION, SegmentTable, concat_vocab, distinct, remap


Uem = Mapping[str, Sequence[tuple[float, float]]]


@dataclass
class Intervals:
    """Index ranges ``[i0, i1)`` on the grid, each with an integer group."""

    group: np.ndarray
    i0: np.ndarray
    i1: np.ndarray

    def __len__(self) -> int:
        return len(self.i0)


@dataclass
class Side:
    """One side (reference or hypothesis) placed on the grid."""

    file: np.ndarray  # per segment, merged file index
    speaker: np.ndarray  # per segment, global (file, speaker) index
    emotion: np.ndarray  # per segment, merged emotion index or NO_EMOTION
    i0: np.ndarray
    i1: np.ndarray
    speaker_file: np.ndarray  # per global speaker, its file
    speaker_name: np.ndarray  # per global speaker, index into the table's speakers
    speaker_local: np.ndarray  # per global speaker, its rank among its file's speakers
    by_speaker: Intervals | None = None
    by_speaker_emotion: Intervals | None = None  # group = speaker * E + emotion
    self_overlaps: int = 0
    overlap_speaker: np.ndarray | None = None  # per segment that overlaps an earlier one of its speaker, that speaker
    emotion_count: np.ndarray | None = None  # per region, active (speaker, emotion) pairs; see emotion_count()


@dataclass
class Sweep:
    """The grid of one scoring run and the per-region quantities on it."""

    files: list[str]
    emotions: list[str]
    grid_file: np.ndarray
    grid_time: np.ndarray
    duration: np.ndarray  # per region, 0 where the region spans two files
    evaluated: np.ndarray  # in the UEM (used for the speaker mapping)
    scored: np.ndarray  # in the UEM, outside collars and no-score zones, in the chosen regions
    n_ref: np.ndarray
    n_hyp: np.ndarray
    ref: Side
    hyp: Side
    scored_self_overlaps: tuple[int, int] = (0, 0)  # self-overlapping segments (ref, hyp) in the scored files
    mapping: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # hyp speaker -> ref speaker or -1
    matched_emo: np.ndarray | None = None
    matched_spk: np.ndarray | None = None
    matched_emo_spk: np.ndarray | None = None

    def components(self) -> dict[str, np.ndarray]:
        """Per-file sums of each component (arrays indexed like ``files``)."""
        keep = np.flatnonzero(self.scored & (self.duration > 0))
        d = self.duration[keep]
        file = self.grid_file[keep]
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
        return {
            name: np.bincount(file, weights=d * count, minlength=n_files)
            for name, count in per_region.items()
        }


# --------------------------------------------------------------------------
# index-space primitives


def coverage(i0: np.ndarray, i1: np.ndarray, n: int) -> np.ndarray:
    """Number of intervals active in each of the ``n`` regions."""
    delta = np.bincount(i0, minlength=n + 1)[: n + 1] - np.bincount(i1, minlength=n + 1)[: n + 1]
    return np.cumsum(delta[:n], dtype=np.int32)


def merge(group: np.ndarray, i0: np.ndarray, i1: np.ndarray, which: bool = False
          ) -> tuple[Intervals, int | np.ndarray]:
    """Union of the intervals of each group; also how many overlapped an earlier one
    (with ``which``, the group of each of those instead of their number).

    Touching intervals are joined; only a strict overlap counts as a self-overlap.
    """
    keep = i1 > i0
    group, i0, i1 = group[keep], i0[keep], i1[keep]
    if len(i0) == 0:
        empty = np.zeros(0, np.int64)
        return Intervals(empty, empty, empty), (empty if which else 0)
    order = np.lexsort((i0, group))
    group, i0, i1 = group[order], i0[order], i1[order]
    span = np.int64(max(int(i1.max()), 0) + 1)
    shifted_end = np.maximum.accumulate(group.astype(np.int64) * span + i1)
    reach = np.empty_like(shifted_end)
    reach[0] = -1
    same = group[1:] == group[:-1]
    reach[1:] = np.where(same, shifted_end[:-1] - group[1:].astype(np.int64) * span, -1)
    opens = i0 > reach
    overlapping = ~opens & (i0 < reach)
    overlaps = group[overlapping] if which else int(np.count_nonzero(overlapping))
    starts = np.flatnonzero(opens)
    lasts = np.append(starts[1:] - 1, len(i0) - 1)
    merged_end = shifted_end[lasts] - group[lasts].astype(np.int64) * span
    return Intervals(group[starts], i0[starts], merged_end), overlaps


def min_profile(a: Intervals, b: Intervals, n: int) -> np.ndarray:
    """Per region, the sum over groups of min(#a active, #b active) of that group."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros(n, np.int32)
    pos = np.concatenate([a.i0, a.i1, b.i0, b.i1])
    group = np.concatenate([a.group, a.group, b.group, b.group])
    na, nb = len(a), len(b)
    step_a = np.concatenate([np.ones(na, np.int64), -np.ones(na, np.int64), np.zeros(2 * nb, np.int64)])
    step_b = np.concatenate([np.zeros(2 * na, np.int64), np.ones(nb, np.int64), -np.ones(nb, np.int64)])
    order = np.argsort(group.astype(np.int64) * (n + 1) + pos, kind="stable")
    pos = pos[order]
    # each group's counts return to zero at its last event, so one running sum serves all groups
    low = np.minimum(np.cumsum(step_a[order]), np.cumsum(step_b[order]))
    # low holds from this event to the next one of the same group
    nxt = np.flatnonzero(low[:-1] > 0)
    weight = low[nxt].astype(np.float64)
    delta = (np.bincount(pos[nxt], weights=weight, minlength=n + 1)
             - np.bincount(pos[nxt + 1], weights=weight, minlength=n + 1))
    return np.rint(np.cumsum(delta[:n])).astype(np.int32)


def expand(iv: Intervals, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (interval index, region) for the sorted ``regions`` inside each interval."""
    if len(iv) == 0 or len(regions) == 0:
        return np.zeros(0, np.int64), np.zeros(0, regions.dtype)
    # below[x] = number of regions before grid point x (a searchsorted, by lookup)
    size = max(int(iv.i1.max()), int(regions[-1])) + 2
    below = np.zeros(size, np.int64)
    below[regions + 1] = 1
    np.cumsum(below, out=below)
    lo = below[iv.i0]
    hi = below[iv.i1]
    count = hi - lo
    which = np.repeat(np.arange(len(iv)), count)
    first = np.repeat(lo - np.cumsum(count) + count, count)
    return which, regions[first + np.arange(len(which))]


# --------------------------------------------------------------------------
# building the sweep


def build(
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
    check_files: bool = True,
    reference_files: Sequence[str] | None = None,
) -> tuple[Sweep, list[str]]:
    """Place both sides on a common grid and compute every per-region count.

    ``same_speaker_overlap="once"`` counts a speaker once where its segments
    overlap (md-eval); ``"each"`` counts every segment, as pyannote.metrics does
    with tracks of the same label. Returns the sweep and the warnings raised.
    """
    if same_speaker_overlap not in ("once", "each"):
        raise ValueError(f"same_speaker_overlap must be 'once' or 'each', not {same_speaker_overlap!r}")
    merged = same_speaker_overlap == "once"
    if regions not in REGIONS:
        raise ValueError(f"regions must be one of {', '.join(REGIONS)}, not {regions!r}")
    if not 0 <= collar < math.inf:
        raise ValueError(f"collar must be a non-negative finite number, not {collar}")
    # times lie in [0, MAX_TIME]: a wider collar removes nothing more, and bounding it
    # keeps the grid's times (boundary +- collar) far from overflow
    collar = min(float(collar), MAX_TIME)
    if uem_default not in ("reference", "union"):
        raise ValueError(f"uem_default must be 'reference' or 'union', not {uem_default!r}")
    warnings: list[str] = []

    extra_files = list(uem) if uem is not None else []
    tables = [ref, hyp] + ([noscore] if noscore is not None else [])
    files, file_maps = concat_vocab(tables + [_names_table(extra_files)], "files")
    emotions, emo_maps = concat_vocab([ref, hyp], "emotions")
    n_files = len(files)

    ref_file = remap(ref.file, file_maps[0])
    hyp_file = remap(hyp.file, file_maps[1])
    ref_files = np.zeros(n_files, bool)
    ref_files[ref_file] = True
    hyp_files = np.zeros(n_files, bool)
    hyp_files[hyp_file] = True

    # scored time per file
    uem_file, uem_start, uem_end = _uem_arrays(
        uem, files, ref_file, ref, hyp_file, hyp, uem_default, n_files)
    in_uem = np.zeros(n_files, bool)
    in_uem[uem_file] = True
    if check_files:
        warnings += _file_warnings(files, _known(files, ref_files, reference_files), hyp_files, in_uem,
                                   uem is not None)

    ref_pos = (ref.end > ref.start)
    hyp_pos = (hyp.end > hyp.start)
    ref_t = (ref.start[ref_pos], ref.end[ref_pos])
    hyp_t = (hyp.start[hyp_pos], hyp.end[hyp_pos])
    ref_f = ref_file[ref_pos]
    hyp_f = hyp_file[hyp_pos]

    # every boundary on one grid
    pieces_t = [ref_t[0], ref_t[1], hyp_t[0], hyp_t[1], uem_start, uem_end]
    pieces_f = [ref_f, ref_f, hyp_f, hyp_f, uem_file, uem_file]
    if collar > 0:
        pieces_t += [ref_t[0] - collar, ref_t[0] + collar, ref_t[1] - collar, ref_t[1] + collar]
        pieces_f += [ref_f] * 4
    if noscore is not None and len(noscore):
        ns_file = remap(noscore.file, file_maps[2])
        pieces_t += [noscore.start, noscore.end]
        pieces_f += [ns_file, ns_file]
    grid_file, grid_time, index = _grid(pieces_t, pieces_f)
    n = len(grid_time)

    def piece(k: int) -> np.ndarray:
        return index[k]

    valid = np.zeros(n, bool)
    valid[:-1] = grid_file[1:] == grid_file[:-1]
    duration = np.zeros(n)
    duration[:-1] = np.where(valid[:-1], np.diff(grid_time), 0.0)

    evaluated = valid & (coverage(piece(4), piece(5), n) > 0)
    # collars and no-score zones: pieces 6, 8, ... open them and 7, 9, ... close them
    excluded = coverage(np.concatenate(index[6::2]), np.concatenate(index[7::2]), n) if len(index) > 6 \
        else np.zeros(n, np.int32)

    ref_side = _side(ref, ref_pos, ref_f, piece(0), piece(1), emo_maps[0], len(emotions), merged)
    hyp_side = _side(hyp, hyp_pos, hyp_f, piece(2), piece(3), emo_maps[1], len(emotions), merged)
    # same-speaker overlaps are reported for the files that are scored (those with scored time),
    # so that the warning does not depend on which other files are swept together
    with_time = np.zeros(n_files, bool)
    with_time[uem_file] = True
    scored_self_overlaps = tuple(
        int(np.count_nonzero(with_time[side.speaker_file[side.overlap_speaker]]))
        for side in (ref_side, hyp_side))
    if merged:
        warnings += _overlap_warnings(*scored_self_overlaps)

    n_ref = coverage(ref_side.by_speaker.i0, ref_side.by_speaker.i1, n)
    n_hyp = coverage(hyp_side.by_speaker.i0, hyp_side.by_speaker.i1, n)
    scored = evaluated & (excluded == 0) & _region_filter(regions, n_ref)

    sweep = Sweep(files, emotions, grid_file, grid_time, duration, evaluated, scored,
                  n_ref, n_hyp, ref_side, hyp_side, scored_self_overlaps)
    if speaker_map is None:
        sweep.mapping = _optimal_mapping(sweep)
    else:
        sweep.mapping = _fixed_mapping(sweep, ref, hyp, speaker_map)
    _match(sweep)
    return sweep, warnings


def _known(files: list[str], has_segments: np.ndarray, names: Sequence[str] | None) -> np.ndarray:
    """The files that count as the reference's: those with segments, or ``names`` when the
    caller knows better (a reference whose non-target speech was dropped still had the file)."""
    if names is None:
        return has_segments
    wanted = set(names)
    return has_segments | np.fromiter((f in wanted for f in files), bool, len(files))


def _file_warnings(files, ref_files, hyp_files, in_uem, has_uem: bool) -> list[str]:
    warnings = []
    only_hyp = np.flatnonzero(hyp_files & ~ref_files)
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


def _overlap_warnings(ref_count: int, hyp_count: int) -> list[str]:
    return [f"{count} {name} segment(s) overlap another segment of the same speaker: that speech counts once"
            for count, name in ((ref_count, "reference"), (hyp_count, "hypothesis")) if count]


BATCH_SEGMENTS = 50_000  # measured: peak memory falls with it, time does not grow


def score_files(
    ref: SegmentTable,
    hyp: SegmentTable,
    uem: Uem | None = None,
    *,
    noscore: SegmentTable | None = None,
    scored_files: Sequence[str] | None = None,
    reference_files: Sequence[str] | None = None,
    batch_segments: int = BATCH_SEGMENTS,
    jobs: int = 1,
    **options,
) -> tuple[list[str], dict[str, np.ndarray], list[str]]:
    """Per-file sums of every component, for the files that are scored.

    Files are independent, so whole files are swept in batches of about
    ``batch_segments`` segments: memory stays bounded however large the corpus.
    With ``jobs`` other than 1 (0: every core) the batches are swept in that
    many processes and summed in the same order: the sums are identical.
    ``options`` are those of ``build``. Returns the scored file names
    (``scored_files`` if given, else the reference files, or the UEM's files
    when a UEM is given), a dict of component arrays aligned with them, and
    the warnings.
    """
    extra = (list(uem) if uem is not None else []) + list(scored_files or [])
    tables = [ref, hyp] + ([noscore] if noscore is not None else [])
    files, maps = concat_vocab(tables + [_names_table(extra)], "files")
    n_files = len(files)
    fids = [remap(t.file, m) for t, m in zip(tables, maps)]
    ref_files = np.bincount(fids[0], minlength=n_files) > 0
    hyp_files = np.bincount(fids[1], minlength=n_files) > 0
    position = {name: i for i, name in enumerate(files)}
    in_uem = np.zeros(n_files, bool)
    in_uem[[position[name] for name in (uem or ())]] = True
    scored = in_uem if uem is not None else ref_files
    if scored_files is not None:
        scored = np.zeros(n_files, bool)
        scored[[position[name] for name in scored_files]] = True
    warnings = _file_warnings(files, _known(files, ref_files, reference_files), hyp_files, in_uem,
                              uem is not None)

    size = np.bincount(fids[0], minlength=n_files) + np.bincount(fids[1], minlength=n_files)
    # batch numbers grow with the file index: each batch is a contiguous range of files
    batch = (np.cumsum(size) - size) // max(batch_segments, 1)
    # each table's rows grouped by batch once, so that a batch is a slice, not a scan
    grouped = []
    for f in fids:
        order = np.argsort(batch[f], kind="stable")
        grouped.append((order, batch[f][order]))
    sums = {name: np.zeros(n_files) for name in SECONDS}
    overlaps = [0, 0]
    def sweep_batch(b: int):
        lo_file, hi_file = int(np.searchsorted(batch, b, "left")), int(np.searchsorted(batch, b, "right"))
        names = files[lo_file:hi_file]
        parts = []
        for t, f, (order, in_batch) in zip(tables, fids, grouped):
            rows = order[np.searchsorted(in_batch, b, "left"):np.searchsorted(in_batch, b, "right")]
            parts.append(_batch_table(t, rows, f[rows] - lo_file, names))
        part_uem = None if uem is None else {
            files[i]: uem[files[i]] for i in range(lo_file, hi_file) if in_uem[i]}
        sweep, _ = build(parts[0], parts[1], part_uem, noscore=parts[2] if noscore is not None else None,
                         check_files=False, **options)
        return sweep.files, sweep.components(), sweep.scored_self_overlaps

    for sweep_files, components, self_overlaps in ordered_map(sweep_batch, distinct(batch[scored]).tolist(), jobs):
        into = np.fromiter((position[name] for name in sweep_files), np.int64, len(sweep_files))
        for name, values in components.items():
            sums[name][into] += values
        overlaps[0] += self_overlaps[0]
        overlaps[1] += self_overlaps[1]
    if options.get("same_speaker_overlap", "once") == "once":
        warnings += _overlap_warnings(*overlaps)
    keep = np.flatnonzero(scored)
    return [files[i] for i in keep], {name: v[keep] for name, v in sums.items()}, warnings


def _batch_table(table: SegmentTable, rows: np.ndarray, file: np.ndarray, files: list[str]) -> SegmentTable:
    """The given rows of ``table``, with file ids re-coded into the batch's own ``files``."""
    return SegmentTable(files, table.speakers, table.emotions, file.astype(np.int32), table.start[rows],
                        table.end[rows], table.speaker[rows], table.emotion[rows], table.origin[rows],
                        table.source)


def _names_table(names: Sequence[str]) -> SegmentTable:
    table = SegmentTable.empty()
    table.files = list(names)
    return table


def _sample(names: Sequence[str], k: int = 3) -> str:
    shown = ", ".join(names[:k])
    return shown + (", ..." if len(names) > k else "")


def _uem_arrays(uem, files, ref_file, ref, hyp_file, hyp, uem_default, n_files):
    if uem is not None:
        index = {name: i for i, name in enumerate(files)}
        f, s, e = [], [], []
        for name, spans in uem.items():
            for start, end in spans:
                f.append(index[name])
                s.append(float(start))
                e.append(float(end))
        return np.asarray(f, np.int64), np.asarray(s, float), np.asarray(e, float)
    # extents of the segments of positive length only: a zero-length segment is no speech
    # (the readers drop them), so it cannot stretch the scored time
    lo = np.full(n_files, np.inf)
    hi = np.full(n_files, -np.inf)
    speech = ref.end > ref.start
    np.minimum.at(lo, ref_file[speech], ref.start[speech])
    np.maximum.at(hi, ref_file[speech], ref.end[speech])
    if uem_default == "union":
        has_ref = np.isfinite(lo)
        hyp_lo = np.full(n_files, np.inf)
        hyp_hi = np.full(n_files, -np.inf)
        speech = hyp.end > hyp.start
        np.minimum.at(hyp_lo, hyp_file[speech], hyp.start[speech])
        np.maximum.at(hyp_hi, hyp_file[speech], hyp.end[speech])
        lo = np.where(has_ref, np.minimum(lo, hyp_lo), lo)
        hi = np.where(has_ref, np.maximum(hi, hyp_hi), hi)
    keep = np.flatnonzero(np.isfinite(lo) & (hi > lo))
    return keep.astype(np.int64), lo[keep], hi[keep]


def _grid(times: list[np.ndarray], files: list[np.ndarray]):
    """Sorted unique (file, time) points and, per input array, each value's grid index."""
    t = np.concatenate(times)
    f = np.concatenate([np.asarray(x, np.int32) for x in files])
    order = _file_time_order(f, t)
    ts, fs = t[order], f[order]
    del t, f
    new = np.empty(len(ts), bool)
    new[:1] = True
    np.not_equal(ts[1:], ts[:-1], out=new[1:])
    new[1:] |= fs[1:] != fs[:-1]
    small = np.int32 if len(ts) < 1 << 31 else np.int64
    index = np.empty(len(ts), small)
    index[order] = np.cumsum(new, dtype=small) - 1
    del order
    bounds = np.cumsum([0] + [len(x) for x in times])
    return fs[new], ts[new], [index[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def _file_time_order(f: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Indices sorting by (file, time), exactly, whatever the magnitudes.

    One float key ``file * span + time``, with ``span`` a power of two above the
    time range: ``file * span`` is then exact, the exact keys increase with (file,
    time), and rounding is monotone, so the sorted keys are in (file, time) order
    except within runs of equal keys (distinct times closer than the key's
    precision, or the last times of one file and the first of the next). Those
    runs are then sorted exactly by (file, time).
    """
    if len(t) == 0:
        return np.zeros(0, np.int64)
    _, exponent = math.frexp(float(t.max() - t.min()) + 1.0)
    span = math.ldexp(1.0, exponent)
    key = f * span
    key += t
    order = np.argsort(key)
    sorted_key = key[order]
    del key
    equal = np.flatnonzero(sorted_key[1:] == sorted_key[:-1])
    if len(equal):
        tied = np.zeros(len(sorted_key), dtype=bool)
        tied[equal] = tied[equal + 1] = True
        members = np.flatnonzero(tied)
        run = np.cumsum(np.r_[True, sorted_key[members[1:]] != sorted_key[members[:-1]]]
                        | np.r_[True, np.diff(members) != 1])
        inner = order[members]
        order[members] = inner[np.lexsort((t[inner], f[inner], run))]
    return order


def _side(table: SegmentTable, keep: np.ndarray, file: np.ndarray, i0: np.ndarray, i1: np.ndarray,
          emo_map: np.ndarray, n_emotions: int, merged: bool = True) -> Side:
    # speakers are keyed by (file, name): the same name in two files is two speakers
    name = table.speaker[keep].astype(np.int64)
    key = file.astype(np.int64) * max(len(table.speakers), 1) + name
    uniq, speaker = np.unique(key, return_inverse=True)
    speaker = speaker.astype(np.int64)
    emotion = remap(table.emotion[keep], emo_map).astype(np.int64)
    speaker_file = uniq // max(len(table.speakers), 1)
    first = np.searchsorted(speaker_file, speaker_file)
    side = Side(file=file.astype(np.int64), speaker=speaker, emotion=emotion, i0=i0, i1=i1,
                speaker_file=speaker_file,
                speaker_name=uniq % max(len(table.speakers), 1),
                speaker_local=np.arange(len(uniq)) - first)
    has = emotion != NO_EMOTION
    joint = speaker[has] * max(n_emotions, 1) + emotion[has]
    side.by_speaker, side.overlap_speaker = merge(speaker, i0, i1, which=True)
    side.self_overlaps = len(side.overlap_speaker)
    if merged:
        side.by_speaker_emotion, _ = merge(joint, i0[has], i1[has])
    else:  # every segment is an item of its own: no two emotions on one item
        side.by_speaker = Intervals(speaker, i0, i1)
        side.by_speaker_emotion = Intervals(joint, i0[has], i1[has])
        side.self_overlaps = 0
        side.overlap_speaker = np.zeros(0, np.int64)
    return side


def emotion_count(side: Side, n: int) -> np.ndarray:
    """Per region, the number of (speaker, emotion) pairs active on ``side`` (computed once)."""
    if side.emotion_count is None:
        side.emotion_count = coverage(side.by_speaker_emotion.i0, side.by_speaker_emotion.i1, n)
    return side.emotion_count


def _region_filter(regions: str, n_ref: np.ndarray) -> np.ndarray:
    if regions == "single":
        return n_ref == 1
    if regions == "overlap":
        return n_ref >= 2
    if regions == "nonoverlap":
        return n_ref <= 1
    return np.ones(len(n_ref), bool)


#: Mappings whose total overlaps differ by less than this fraction of the file's
#: co-occurring speech count as equally good (sums of many float durations differ in
#: their last digits); between them, emotion agreement decides.
TIE_TOLERANCE = 1e-9
#: Files with more (reference x hypothesis) overlapping speaker pairs than this are
#: solved on a sparse graph (no dense matrix of all speaker pairs).
DENSE_CELLS = 1 << 18


def _optimal_mapping(sweep: Sweep) -> np.ndarray:
    """md-eval's mapping: maximal total overlap, one-to-one, per file, within the UEM.

    Where several mappings are equally good, the one under which more speech also
    has the right emotion wins, so that sTEER depends neither on speaker names nor on
    the order of segments. One assignment per file does both: a pair's weight is its
    overlap plus a tie term, its emotion agreement (seconds both speakers are active
    with one emotion) scaled so that the tie terms of any whole mapping add up to at
    most ``TIE_TOLERANCE`` times the file's co-occurring speech. Mappings whose
    overlaps differ by more keep their order; closer ones are decided by emotion.
    Every overlap counts, however short: a speaker pair overlapping for a nanosecond
    is mapped when nothing better is.
    """
    ref, hyp = sweep.ref, sweep.hyp
    mapping = np.full(len(hyp.speaker_file), -1, np.int64)
    both = sweep.evaluated & (sweep.n_ref > 0) & (sweep.n_hyp > 0)
    if not both.any():
        return mapping
    k_ref = int(ref.speaker_local.max()) + 1
    k_hyp = int(hyp.speaker_local.max()) + 1
    size = len(sweep.files) * k_ref * k_hyp

    def key(r, h):
        return (ref.speaker_file[r] * k_ref + ref.speaker_local[r]) * k_hyp + hyp.speaker_local[h]

    rs, hs, seconds = _cooccurring(sweep, ref.by_speaker, hyp.by_speaker, both, sweep.n_ref, sweep.n_hyp)
    pair, overlap = _sum_by_key(key(rs, hs), seconds, size)

    n, n_emotions = len(sweep.grid_time), max(len(sweep.emotions), 1)
    rg, hg, seconds = _cooccurring(sweep, ref.by_speaker_emotion, hyp.by_speaker_emotion, both,
                                   emotion_count(ref, n), emotion_count(hyp, n))
    same = rg % n_emotions == hg % n_emotions
    e_pair, e_seconds = _sum_by_key(key(rg[same] // n_emotions, hg[same] // n_emotions), seconds[same], size)
    agreement = np.zeros(len(pair))
    # both speakers active with one emotion means both active: every e_pair is in pair
    np.add.at(agreement, np.searchsorted(pair, e_pair), e_seconds)

    file = pair // (k_ref * k_hyp)
    _, starts, counts = np.unique(file, return_index=True, return_counts=True)
    speech = np.add.reduceat(overlap, starts)
    agreed = np.add.reduceat(agreement, starts)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_second = np.where(agreed > 0, TIE_TOLERANCE * speech / agreed, 0.0)
    _assign(mapping, sweep, pair, overlap + np.repeat(per_second, counts) * agreement, k_ref, k_hyp)
    return mapping


def _assign(mapping: np.ndarray, sweep: Sweep, pair: np.ndarray, weight: np.ndarray, k_ref: int,
            k_hyp: int) -> None:
    """Solve the maximum-weight one-to-one matching of each file in ``pair`` into ``mapping``."""
    file, local = np.divmod(pair, k_ref * k_hyp)
    row, col = np.divmod(local, k_hyp)
    files, starts = np.unique(file, return_index=True)
    ends = np.append(starts[1:], len(pair))
    ref_first = np.searchsorted(sweep.ref.speaker_file, files)
    hyp_first = np.searchsorted(sweep.hyp.speaker_file, files)
    for lo, hi, r0, h0 in zip(starts.tolist(), ends.tolist(), ref_first.tolist(), hyp_first.tolist()):
        ri, ci = _max_weight_matching(row[lo:hi], col[lo:hi], weight[lo:hi])
        mapping[h0 + ci] = r0 + ri


def _max_weight_matching(rows: np.ndarray, cols: np.ndarray, weight: np.ndarray
                         ) -> tuple[np.ndarray, np.ndarray]:
    """The (row, col) pairs of a one-to-one matching of maximal total weight (weights > 0).

    Only speakers with some overlap take part, so that the problem is sized by the
    pairs that exist, not by the file's speakers; a small one is solved densely, a
    large one on the sparse graph of its pairs.
    """
    row_ids, r = np.unique(rows, return_inverse=True)
    col_ids, c = np.unique(cols, return_inverse=True)
    r, c = r.reshape(-1), c.reshape(-1)
    if len(row_ids) * len(col_ids) <= DENSE_CELLS:
        matrix = np.zeros((len(row_ids), len(col_ids)))
        matrix[r, c] = weight
        ri, ci = _assignment_solver()(matrix, maximize=True)
        good = matrix[ri, ci] > 0
        return row_ids[ri[good]], col_ids[ci[good]]
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    # A minimum-cost matching that covers every row: each row also gets a column of its
    # own at cost `base` (taking it means: unmatched), and a real pair costs base - weight,
    # so that the cheapest cover is the heaviest matching. All costs are positive (a
    # sparse matrix has no explicit zero edges).
    n_rows, n_cols = len(row_ids), len(col_ids)
    base = 2.0 * float(weight.max()) + 1.0
    own = np.arange(n_rows)
    graph = csr_matrix((np.concatenate([base - weight, np.full(n_rows, base)]),
                        (np.concatenate([r, own]), np.concatenate([c, n_cols + own]))),
                       shape=(n_rows, n_cols + n_rows))
    ri, ci = min_weight_full_bipartite_matching(graph)
    real = ci < n_cols
    return row_ids[ri[real]], col_ids[ci[real]]


@functools.lru_cache(maxsize=1)
def _assignment_solver():
    """scipy's ``linear_sum_assignment``, loaded without the rest of scipy.optimize.

    Importing ``scipy.optimize`` takes about 0.3 s, more than scoring a small corpus;
    its compiled solver alone loads in well under a millisecond. Any surprise in
    scipy's layout falls back to the public import.
    """
    try:
        import importlib.machinery
        import importlib.util
        import os

        # find_spec locates scipy without running its __init__ (which imports more of scipy)
        scipy_dir = os.path.dirname(importlib.util.find_spec("scipy").origin)
        spec = importlib.machinery.PathFinder.find_spec("_lsap", [os.path.join(scipy_dir, "optimize")])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.linear_sum_assignment
    except Exception:  # noqa: BLE001 - any failure means: use the public path
        from scipy.optimize import linear_sum_assignment

        return linear_sum_assignment


def _sum_by_key(key: np.ndarray, weight: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and the sum of the weights of each."""
    if size <= 1 << 26:
        sums = np.bincount(key, weights=weight, minlength=size)
        present = np.flatnonzero(np.bincount(key, minlength=size))
        return present, sums[present]
    # many speakers in some file: sort the keys instead of a dense count
    pair, inverse = np.unique(key, return_inverse=True)
    return pair, np.bincount(inverse, weights=weight, minlength=len(pair))


def _cooccurring(sweep: Sweep, ref_iv: Intervals, hyp_iv: Intervals, regions: np.ndarray,
                 ref_count: np.ndarray | None = None, hyp_count: np.ndarray | None = None):
    """(ref group, hyp group, seconds) for every pair of groups active together in ``regions``.

    With the per-region counts of active groups, regions with one group on each side
    are read off a running sum of group ids (no expansion); the others are expanded.
    """
    n = len(sweep.grid_time)
    rs, hs, ws = [], [], []
    if ref_count is not None and hyp_count is not None:
        # where one group is active on each side, the sum of active ids is that id
        one = regions & (ref_count == 1) & (hyp_count == 1)
        rs.append(_active_id_sum(ref_iv, n)[one])
        hs.append(_active_id_sum(hyp_iv, n)[one])
        ws.append(sweep.duration[one])
        regions = regions & ~one
    many = np.flatnonzero(regions)
    if len(many):
        r_which, r_region = expand(ref_iv, many)
        h_which, h_region = expand(hyp_iv, many)
        r_order = np.argsort(r_region, kind="stable")
        h_order = np.argsort(h_region, kind="stable")
        r_group = ref_iv.group[r_which[r_order]]
        h_group = hyp_iv.group[h_which[h_order]]
        a = np.bincount(np.searchsorted(many, r_region), minlength=len(many))
        b = np.bincount(np.searchsorted(many, h_region), minlength=len(many))
        # cross product of the active groups of each region
        block = a * b
        k = np.arange(block.sum()) - np.repeat(np.cumsum(block) - block, block)
        bb = np.repeat(b, block)
        rs.append(r_group[np.repeat(np.cumsum(a) - a, block) + k // bb])
        hs.append(h_group[np.repeat(np.cumsum(b) - b, block) + k % bb])
        ws.append(np.repeat(sweep.duration[many], block))
    if not rs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(rs), np.concatenate(hs), np.concatenate(ws)


def _active_id_sum(iv: Intervals, n: int) -> np.ndarray:
    delta = (np.bincount(iv.i0, weights=iv.group, minlength=n + 1)[: n + 1]
             - np.bincount(iv.i1, weights=iv.group, minlength=n + 1)[: n + 1])
    return np.rint(np.cumsum(delta[:n])).astype(np.int64)


def _fixed_mapping(sweep: Sweep, ref: SegmentTable, hyp: SegmentTable,
                   speaker_map: Mapping[tuple[str, str], str]) -> np.ndarray:
    ref_index = {(sweep.files[f], ref.speakers[s]): i
                 for i, (f, s) in enumerate(zip(sweep.ref.speaker_file, sweep.ref.speaker_name))}
    mapping = np.full(len(sweep.hyp.speaker_file), -1, np.int64)
    for i, (f, s) in enumerate(zip(sweep.hyp.speaker_file, sweep.hyp.speaker_name)):
        target = speaker_map.get((sweep.files[f], hyp.speakers[s]))
        if target is not None:
            mapping[i] = ref_index.get((sweep.files[f], target), -1)
    return mapping


def _match(sweep: Sweep) -> None:
    """The three matched counts of every region."""
    n = len(sweep.grid_time)
    ref, hyp = sweep.ref, sweep.hyp
    n_emotions = max(len(sweep.emotions), 1)

    mapped = sweep.mapping[hyp.by_speaker.group]
    keep = mapped >= 0
    hyp_as_ref = Intervals(mapped[keep], hyp.by_speaker.i0[keep], hyp.by_speaker.i1[keep])
    sweep.matched_spk = min_profile(ref.by_speaker, hyp_as_ref, n)

    r_se, h_se = ref.by_speaker_emotion, hyp.by_speaker_emotion
    r_emo = Intervals(r_se.group % n_emotions, r_se.i0, r_se.i1)
    h_emo = Intervals(h_se.group % n_emotions, h_se.i0, h_se.i1)
    sweep.matched_emo = min_profile(r_emo, h_emo, n)

    h_spk = h_se.group // n_emotions
    h_map = sweep.mapping[h_spk] if len(h_spk) else h_spk
    keep = h_map >= 0
    h_joint = Intervals(h_map[keep] * n_emotions + h_se.group[keep] % n_emotions,
                        h_se.i0[keep], h_se.i1[keep])
    sweep.matched_emo_spk = min_profile(r_se, h_joint, n)

    # Where one speaker has several emotions at once (its own segments overlap), the
    # sums above are upper bounds: capped at min(n_ref, n_hyp) they are exact when
    # either side has a single speaker; the remaining regions are matched one by one.
    agree = np.minimum(sweep.n_ref, sweep.n_hyp)
    np.minimum(sweep.matched_emo, agree, out=sweep.matched_emo)
    np.minimum(sweep.matched_emo_spk, agree, out=sweep.matched_emo_spk)
    multi = np.zeros(n, bool)
    for side, count in ((ref, sweep.n_ref), (hyp, sweep.n_hyp)):
        if side.self_overlaps:  # otherwise nobody has two emotions at once
            multi |= emotion_count(side, n) > count
    hard = np.flatnonzero(multi & (agree >= 2) & sweep.scored)
    if len(hard):
        _match_exactly(sweep, hard, n_emotions)


def _match_exactly(sweep: Sweep, regions: np.ndarray, n_emotions: int) -> None:
    if len(regions) == 0:
        return
    active = []
    for iv in (sweep.ref.by_speaker_emotion, sweep.hyp.by_speaker_emotion):
        which, region = expand(iv, regions)
        per_region: dict[int, dict[int, set[int]]] = {}
        for g, r in zip(iv.group[which].tolist(), region.tolist()):
            per_region.setdefault(r, {}).setdefault(g // n_emotions, set()).add(g % n_emotions)
        active.append(per_region)
    mapping = sweep.mapping
    for r in regions.tolist():
        ref_items = active[0].get(r, {})
        hyp_items = active[1].get(r, {})
        edges = {s: [h for h, he in hyp_items.items() if emo & he] for s, emo in ref_items.items()}
        sweep.matched_emo[r] = _max_matching(edges)
        sweep.matched_emo_spk[r] = sum(
            1 for s, emo in ref_items.items()
            for h, he in hyp_items.items() if mapping[h] == s and emo & he)


def _max_matching(edges: dict[int, list[int]]) -> int:
    """Size of a maximum bipartite matching (Kuhn's algorithm; graphs here are tiny)."""
    owner: dict[int, int] = {}

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
