"""The speaker mapping: which hypothesis speaker stands for which reference speaker.

DER and sTEER compare speakers through a one-to-one mapping per file (md-eval's):
the one that maximises the total time each mapped pair speaks together within
the UEM, computed before collars. Here:

- ``overlaps``: the overlap matrix, as sparse (pair, ticks) sums, and the
  emotion agreement of each pair (ticks both speak and agree on the emotion,
  ``teer.engine.agrees``), exact integers;
- ``tie_weights``: the tie rule, folded into the pair weights;
- ``canonical_order``: the order of a file's speakers that decides the ties left;
- ``assign``: one maximum-weight assignment per file;
- ``fixed_mapping``: a mapping given by the user instead.

A pair key is ``(file * k_ref + ref local index) * k_hyp + hyp local index``,
where local indices number the speakers of one file.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .intervals import Active
from .segments import unique_inverse

if TYPE_CHECKING:
    from .engine import Grid, Side

#: The tie terms of a whole mapping add up to less than this many ticks: overlaps are exact
#: integers, so mappings whose overlaps differ (by a tick at least) keep their order, and
#: between mappings of equal overlap, emotion agreement decides.
TIE_TICKS = 0.5
#: A file whose overlaps add up to more ticks than this (about 13 days of speech together)
#: is matched on the overlaps alone: in a double, a tie term would no longer be exact below
#: the tick.
TIE_LIMIT = 2.0 ** 50
#: Files with more (reference x hypothesis) overlapping speaker pairs than this are
#: solved on a sparse graph (no dense matrix of all speaker pairs).
DENSE_CELLS = 1 << 18
#: Above this many possible pair keys, pair sums sort the keys instead of counting densely.
DENSE_KEYS = 1 << 26


@dataclass(frozen=True)
class PairOverlaps:
    """Per pair of speakers that speak together (sorted keys): ticks together, and
    ticks together agreeing on the emotion (int64)."""

    pair: np.ndarray
    overlap: np.ndarray
    agreement: np.ndarray
    k_ref: int
    k_hyp: int

    @property
    def file(self) -> np.ndarray:
        return self.pair // (self.k_ref * self.k_hyp)


def optimal_mapping(grid: Grid, ref: Side, hyp: Side, speakers: Pairs, agreeing: Pairs,
                    emotion_rank: np.ndarray | None = None) -> np.ndarray:
    """md-eval's mapping: maximal total overlap, one-to-one, per file, within the UEM.

    ``speakers`` are the pairs of speakers active together in the evaluated regions
    (``cooccurring``), ``agreeing`` those that agree on the emotion there (``teer.engine.agrees``).
    Where several mappings are equally good, the one under which more speech also
    has the right emotion wins, so that sTEER depends neither on speaker names nor on
    the order of segments (``tie_weights``). Every overlap counts, however short: a
    speaker pair overlapping for a nanosecond is mapped when nothing better is.
    ``emotion_rank``: per emotion index, the rank of its label among the sorted labels
    (emotion indices follow the input order; ``canonical_order`` must not).
    Returns, per hypothesis speaker, its reference speaker or -1.
    """
    mapping = np.full(len(hyp.speaker_file), -1, np.int64)
    if len(speakers) == 0:
        return mapping
    local = tuple(canonical_order(grid, side, emotion_rank) for side in (ref, hyp))
    pairs = overlaps(grid, ref, hyp, speakers, agreeing, local)
    assign(mapping, pairs, tie_weights(pairs), ref.speaker_file, hyp.speaker_file, local)
    return mapping


def canonical_order(grid: Grid, side: Side, emotion_rank: np.ndarray | None = None) -> np.ndarray:
    """Per speaker of ``side``, its rank among its file's speakers in an order that depends
    on their speech only, never on names or input order: by the start of their first
    speech, the end of it, the end of their last, their number of stretches of speech
    and their total speech (the starts and ends relative to the file's first grid point,
    so that shifting all times changes nothing).

    The assignment solver meets the speakers in this order, and so breaks the ties left
    (equal overlap and equal emotion agreement) by it. Last comes a hash of the speaker's
    segments and emotions (``_content_hash``): only speakers with the same speech are then
    left in input order, and swapping those changes no figure.
    """
    n = len(side.speaker_file)
    iv = side.by_speaker
    group, i0, i1 = iv.group, iv.i0, iv.i1
    # merged speech (``intervals.merge``) comes sorted by (speaker, start): the usual case
    if len(group) and not ((group[1:] >= group[:-1]).all()
                           and ((group[1:] != group[:-1]) | (i0[1:] >= i0[:-1])).all()):
        order = np.lexsort((i1, i0, group))
        group, i0, i1 = group[order], i0[order], i1[order]
    who, runs, _ = _runs(group)
    keys = np.zeros((6, n), np.int64)
    if len(runs):
        first_point = np.searchsorted(grid.file, np.arange(grid.n_files))
        file_offset = grid.time[np.minimum(first_point, max(grid.n_regions - 1, 0))]
        offset = file_offset[side.speaker_file[who]]
        keys[0, who] = grid.time[i0[runs]] - offset  # the first stretch's start, end
        keys[1, who] = grid.time[i1[runs]] - offset
        keys[2, who] = grid.time[np.maximum.reduceat(i1, runs)] - offset  # the last end
        keys[3, who] = np.diff(np.r_[runs, len(group)])
        keys[4, who] = np.add.reduceat(grid.time[i1] - grid.time[i0], runs)
        # the hash only where the keys above leave speakers of a file tied (rare on real data)
        by_keys = np.lexsort((*keys[4::-1], side.speaker_file))
        ordered = np.vstack((side.speaker_file, keys[:5]))[:, by_keys]
        same = (ordered[:, 1:] == ordered[:, :-1]).all(axis=0)
        if same.any():
            tied = np.zeros(n, bool)
            tied[by_keys[1:][same]] = tied[by_keys[:-1][same]] = True
            keys[5] = _content_hash(grid, side, file_offset, tied, emotion_rank)
    rank = np.lexsort((np.arange(n), *keys[::-1], side.speaker_file))
    local = np.empty(n, np.int64)
    local[rank] = np.arange(n) - np.searchsorted(side.speaker_file[rank], side.speaker_file[rank])
    return local


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of each value (wrapping uint64)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _content_hash(grid: Grid, side: Side, file_offset: np.ndarray, tied: np.ndarray,
                  emotion_rank: np.ndarray | None) -> np.ndarray:
    """Per speaker, a hash of the multiset of its segments (start and end relative to its
    file, emotion): the last key of ``canonical_order``. Speakers equal in the other keys
    but not in their speech are then ordered by their speech, not by where they first
    occur in the input; only speakers with the same segments are left tied, and swapping
    those changes no figure. (A sum of hashes does not depend on the segments' order.)
    Only the speakers marked ``tied`` get one; the others 0."""
    out = np.zeros(len(tied), np.uint64)
    seg = np.flatnonzero(tied[side.speaker])
    offset = file_offset[side.file[seg]]
    start = (grid.time[side.i0[seg]] - offset).astype(np.uint64)
    end = (grid.time[side.i1[seg]] - offset).astype(np.uint64)
    emotion = side.emotion[seg].astype(np.int64)
    if emotion_rank is not None and len(emotion_rank):
        labelled = emotion >= 0
        emotion = np.where(labelled, emotion_rank[np.where(labelled, emotion, 0)], emotion)
    emotion = emotion.astype(np.uint64)
    with np.errstate(over="ignore"):
        h = _mix(_mix(_mix(start) ^ end) ^ emotion)
        order = np.argsort(side.speaker[seg], kind="stable")
        speakers, runs, _ = _runs(side.speaker[seg][order])
        if len(runs):
            out[speakers] = np.add.reduceat(h[order], runs)
    return out.view(np.int64)


def overlaps(grid: Grid, ref: Side, hyp: Side, speakers: Pairs, agreeing: Pairs,
             local: tuple[np.ndarray, np.ndarray] | None = None) -> PairOverlaps:
    """The overlap of every pair of speakers active together (``speakers``), and their
    emotion agreement (``agreeing``: the speaker pairs active together that agree on the emotion).
    ``local``: per side, each speaker's number within its file (``canonical_order``; by
    default ``Side.speaker_local``)."""
    ref_local, hyp_local = local if local is not None else (ref.speaker_local, hyp.speaker_local)
    k_ref = int(ref_local.max()) + 1
    k_hyp = int(hyp_local.max()) + 1
    size = grid.n_files * k_ref * k_hyp
    # a pair's key is a part of its reference speaker's plus its hypothesis speaker's local index
    ref_part = (ref.speaker_file * k_ref + ref_local) * k_hyp

    def sums(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
        # each pair's key, once per pair (which keys there are) and once per region entry (the sums)
        per_pair = ref_part[pairs.ref] + hyp_local[pairs.hyp]
        return sum_by_key(pairs.each(per_pair), grid.duration[pairs.region], size, among=per_pair)

    pair, overlap = sums(speakers)
    e_pair, e_seconds = sums(agreeing)
    agreement = np.zeros(len(pair), np.int64)
    # agreeing means both active: every e_pair is in pair
    np.add.at(agreement, np.searchsorted(pair, e_pair), e_seconds)
    return PairOverlaps(pair, overlap, agreement, k_ref, k_hyp)


def tie_weights(pairs: PairOverlaps) -> np.ndarray:
    """Each pair's weight in the assignment: its overlap (exact ticks) plus a tie term.

    The tie term is the pair's emotion agreement, scaled so that the tie terms of
    any whole mapping add up to less than ``TIE_TICKS`` (half a tick): mappings whose
    overlaps differ (by a tick at least) keep their order; between mappings of equal
    overlap, emotion decides. One assignment per file does both. A file beyond
    ``TIE_LIMIT`` gets no tie term (its overlaps alone are exact in a double).
    """
    _, starts, counts = _runs(pairs.file)
    speech = np.add.reduceat(pairs.overlap, starts).astype(np.float64)
    agreed = np.add.reduceat(pairs.agreement, starts).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_tick = np.where((agreed > 0) & (speech <= TIE_LIMIT), TIE_TICKS / (agreed + 1.0), 0.0)
    return pairs.overlap.astype(np.float64) + np.repeat(per_tick, counts) * pairs.agreement


def assign(mapping: np.ndarray, pairs: PairOverlaps, weight: np.ndarray, ref_speaker_file: np.ndarray,
           hyp_speaker_file: np.ndarray, local: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Solve the maximum-weight one-to-one matching of each file into ``mapping``
    (hypothesis speaker -> reference speaker; speakers are numbered file by file, and
    within a file by ``local``, as ``overlaps`` numbered them)."""
    # per side, the speaker of each (file's first speaker + local number)
    by_local = []
    for speaker_file, numbers in zip((ref_speaker_file, hyp_speaker_file), local or (None, None)):
        if numbers is None:
            by_local.append(None)
            continue
        inverse = np.empty(len(numbers), np.int64)
        inverse[np.searchsorted(speaker_file, speaker_file) + numbers] = np.arange(len(numbers))
        by_local.append(inverse)
    file, local = np.divmod(pairs.pair, pairs.k_ref * pairs.k_hyp)
    row, col = np.divmod(local, pairs.k_hyp)
    files, starts, _ = _runs(file)
    ends = np.append(starts[1:], len(pairs.pair))
    ref_first = np.searchsorted(ref_speaker_file, files)
    hyp_first = np.searchsorted(hyp_speaker_file, files)
    # Only speakers with some overlap take part, so that a file's problem is sized by the
    # pairs that exist, not by its speakers: its rows and columns are numbered among
    # those, all files at once (keys sorted by file, so that a file's numbers are a range)
    row_ids, r = unique_inverse(file * pairs.k_ref + row)
    col_ids, c = unique_inverse(file * pairs.k_hyp + col)
    row_ids -= row_ids // pairs.k_ref * pairs.k_ref
    col_ids -= col_ids // pairs.k_hyp * pairs.k_hyp
    if len(starts) == 0:
        return
    row_first, col_first = np.minimum.reduceat(r, starts), np.minimum.reduceat(c, starts)
    n_rows = np.maximum.reduceat(r, starts) - row_first + 1
    n_cols = np.maximum.reduceat(c, starts) - col_first + 1
    for lo, hi, r0, c0, rows, cols, ref0, hyp0 in zip(
            starts.tolist(), ends.tolist(), row_first.tolist(), col_first.tolist(), n_rows.tolist(),
            n_cols.tolist(), ref_first.tolist(), hyp_first.tolist()):
        ri, ci = max_weight_matching(r[lo:hi] - r0, c[lo:hi] - c0, rows, cols, weight[lo:hi])
        ref_at, hyp_at = ref0 + row_ids[r0 + ri], hyp0 + col_ids[c0 + ci]
        mapping[hyp_at if by_local[1] is None else by_local[1][hyp_at]] = (
            ref_at if by_local[0] is None else by_local[0][ref_at])


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of a sorted array (pairs' files: pairs are sorted by key), where
    each run of them starts and its length (``np.unique``'s, without its sort)."""
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else np.zeros(0, np.int64)
    return values[starts], starts, np.diff(starts, append=len(values))


def max_weight_matching(r: np.ndarray, c: np.ndarray, n_rows: int, n_cols: int, weight: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
    """The (row, col) pairs of a one-to-one matching of maximal total weight (weights > 0)
    of the pairs (r, c) of ``n_rows`` rows and ``n_cols`` columns. A small problem is
    solved densely, a large one on the sparse graph of its pairs.
    """
    if n_rows * n_cols <= DENSE_CELLS:
        matrix = np.zeros((n_rows, n_cols))
        matrix[r, c] = weight
        ri, ci = assignment_solver()(matrix, maximize=True)
        good = matrix[ri, ci] > 0
        return ri[good], ci[good]
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    # A minimum-cost matching that covers every row: each row also gets a column of its
    # own at cost `base` (taking it means: unmatched), and a real pair costs base - weight,
    # so that the cheapest cover is the heaviest matching. All costs are positive (a
    # sparse matrix has no explicit zero edges).
    base = 2.0 * float(weight.max()) + 1.0
    own = np.arange(n_rows)
    graph = csr_matrix((np.concatenate([base - weight, np.full(n_rows, base)]),
                        (np.concatenate([r, own]), np.concatenate([c, n_cols + own]))),
                       shape=(n_rows, n_cols + n_rows))
    ri, ci = min_weight_full_bipartite_matching(graph)
    real = ci < n_cols
    return ri[real], ci[real]


@functools.lru_cache(maxsize=1)
def assignment_solver():
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


def sum_by_key(key: np.ndarray, weight: np.ndarray, size: int, among: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys (sorted) and the sum of the integer weights (ticks, >= 0) of each
    (keys below ``size``), exactly. ``among``: the same distinct keys, fewer times (cheaper
    to find which keys there are)."""
    if size <= DENSE_KEYS:
        present = np.flatnonzero(np.bincount(key if among is None else among, minlength=size))
        return present, _exact_bincount(key, weight, size)[present]
    # many speakers in some file: sort the keys instead of a dense count
    pair, inverse = np.unique(key, return_inverse=True)
    return pair, _exact_bincount(inverse, weight, len(pair))


def _exact_bincount(key: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    """``np.bincount(key, weights=weight)`` of non-negative int64 weights, as exact int64:
    numpy adds them as doubles, which is exact while every partial sum stays below 2**53
    (all of them together do: about 104 days in ticks); else an integer ``np.add.at``."""
    if float(weight.sum(dtype=np.float64)) < 2.0 ** 53:
        return np.bincount(key, weights=weight, minlength=size).astype(np.int64)
    out = np.zeros(size, np.int64)
    np.add.at(out, key, weight)
    return out


@dataclass(frozen=True)
class Pairs:
    """Every (reference group, hypothesis group, region) of groups active together: first
    the regions with one group on each side (``single`` of them, in region order), then
    the others, region by region.

    Where pairs repeat in several regions (those collars split, ``teer.engine.Coarse``),
    ``at`` gives per region entry the index of its pair in ``ref`` and ``hyp``."""

    ref: np.ndarray
    hyp: np.ndarray
    region: np.ndarray
    single: int
    at: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.region)

    def each(self, per_pair: np.ndarray) -> np.ndarray:
        """A value per pair (indexed like ``ref``), as one per region entry."""
        return per_pair if self.at is None else per_pair[self.at]


def cooccurring(ref: Active, hyp: Active) -> Pairs:
    """The pairs of groups active together in each region of a list, from each side's
    groups active there (``teer.intervals.active``); ``Pairs.region`` is the region's
    position in the list. Regions with one group on each side give their one pair; the
    others the cross products of their groups."""
    one = (ref.count == 1) & (hyp.count == 1)
    single = np.flatnonzero(one)
    rs, hs, where = [ref.group[ref.first[single]]], [hyp.group[hyp.first[single]]], [single]
    many = np.flatnonzero(~one)
    if len(many):
        a, b = ref.count[many], hyp.count[many]
        # The cross product of the active groups of each region, without a loop: region
        # j contributes a[j] * b[j] pairs. For the k-th pair of its block, k // b[j] picks
        # the reference group (an offset into the region's a[j] reference groups, which
        # start at ref.first) and k - (k // b[j]) * b[j] the hypothesis group.
        block = (a * b).astype(np.int64)
        # each pair's region among ``many``: one repeat, then gathers (cheaper than a repeat each)
        of_block = np.repeat(np.arange(len(many)), block)
        k = np.arange(len(of_block))
        k -= (np.cumsum(block) - block)[of_block]
        bb = b[of_block]
        of_ref = k // bb
        rs.append(ref.group[ref.first[many][of_block] + of_ref])
        hs.append(hyp.group[hyp.first[many][of_block] + (k - of_ref * bb)])
        where.append(many[of_block])
    return Pairs(np.concatenate(rs), np.concatenate(hs), np.concatenate(where), len(single))


def fixed_mapping(files: list[str], ref: Side, hyp: Side, ref_speakers: list[str], hyp_speakers: list[str],
                  speaker_map: Mapping[tuple[str, str], str]) -> np.ndarray:
    """The mapping ``{(file, hyp speaker name): ref speaker name}`` as indices (-1: unmapped)."""
    ref_index = {(files[f], ref_speakers[s]): i
                 for i, (f, s) in enumerate(zip(ref.speaker_file, ref.speaker_name))}
    mapping = np.full(len(hyp.speaker_file), -1, np.int64)
    for i, (f, s) in enumerate(zip(hyp.speaker_file, hyp.speaker_name)):
        target = speaker_map.get((files[f], hyp_speakers[s]))
        if target is not None:
            mapping[i] = ref_index.get((files[f], target), -1)
    return mapping
