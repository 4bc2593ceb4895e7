"""The speaker mapping: which hypothesis speaker stands for which reference speaker.

DER and sTEER compare speakers through a one-to-one mapping per file. Among all
one-to-one mappings of a file's speakers, the one taken maximises, lexicographically:

1. the total time each mapped pair speaks together within the UEM, before collars
   (md-eval's mapping: DER equals md-eval-22's);
2. among those, the total time each mapped pair speaks together on the **scored** time
   (the UEM less collars, no-score zones and the region filter): the lowest DER among
   md-eval's equally good mappings, whatever the emotions;
3. among those, the total scored time each mapped pair speaks together and agrees on
   the emotion (``teer.engine.sides.agrees``: H ⊆ R): the lowest sTEER among those;
4. ties left: the content-based order of the speakers (``canonical_order``).

Under ``same_speaker_overlap="once"`` (the default) the matched speaker count of a region
is the number of mapped pairs active together there, so that Σ d·matched_spk over the
scored regions is the sum of key 2 over the mapped pairs, and Σ d·matched_emo_spk that of
key 3: the DER and the sTEER of the mapping taken are the lowest of all md-eval mappings.
Hedging (more emotions for the same speech) leaves keys 1 and 2 unchanged and can only
lower key 3 pair by pair, so that the plain output's mapping is at least as good for it as
the hedged output's: hedging is never rewarded, at any collar. (Under "each", a segment
is a speaker of its own and matched counts are min(segments, segments): keys 2 and 3
count every pair of segments there instead.)

- ``overlaps``: the three keys of each pair of speakers active together, exact integers
  of ticks (sparse (pair, ticks) sums);
- ``canonical_order``: the order of a file's speakers that decides the ties left;
- ``assign``: one lexicographic maximum-weight assignment per file (``max_key_matching``),
  none where each row's (or column's) largest overlap settles it (``greedy_unique``: most files);
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
    from .engine.grid import Grid
    from .engine.sides import Side

#: Files with more (reference x hypothesis) overlapping speaker pairs than this are
#: solved on a sparse graph (no dense matrix of all speaker pairs).
DENSE_CELLS = 1 << 18
#: Above this many possible pair keys, pair sums sort the keys instead of counting densely.
DENSE_KEYS = 1 << 26
#: scipy's solvers compute in doubles: integer weights whose sum over all pairs of a file
#: stays below this are exact in them (sums and differences of exact integers)
EXACT_IN_DOUBLE = 2.0 ** 51


@dataclass(frozen=True)
class PairOverlaps:
    """Per pair of speakers that speak together (sorted keys), the keys of the mapping
    (int64 ticks): their time together within the UEM before collars, their time together
    on the scored time, and of that the time they agree on the emotion."""

    pair: np.ndarray
    overlap: np.ndarray
    scored: np.ndarray
    agreement: np.ndarray
    k_ref: int
    k_hyp: int

    @property
    def file(self) -> np.ndarray:
        return self.pair // (self.k_ref * self.k_hyp)


def optimal_mapping(grid: Grid, ref: Side, hyp: Side, speakers: Pairs, agreeing: Pairs, scored: np.ndarray,
                    emotion_rank: np.ndarray | None = None) -> np.ndarray:
    """The mapping of the module's rule: md-eval's (maximal total overlap, one-to-one, per
    file, within the UEM before collars), and among md-eval's equally good mappings the one
    of the most scored overlap, then of the most scored emotion agreement.

    ``speakers`` are the pairs of speakers active together in the evaluated regions
    (``cooccurring``), ``agreeing`` those that agree on the emotion there
    (``teer.engine.sides.agrees``); ``scored``: per grid region, whether it is scored. The
    mapping depends neither on speaker names nor on the order of segments
    (``canonical_order``). Every overlap counts, however short: a speaker pair
    overlapping for a nanosecond is mapped when nothing better is.
    ``emotion_rank``: per emotion index, the rank of its label among the sorted labels
    (emotion indices follow the input order; ``canonical_order`` must not).
    Returns, per hypothesis speaker, its reference speaker or -1.
    """
    mapping = np.full(len(hyp.speaker_file), -1, np.int64)
    if len(speakers) == 0:
        return mapping
    local = tuple(canonical_order(grid, side, emotion_rank) for side in (ref, hyp))
    pairs = overlaps(grid, ref, hyp, speakers, agreeing, scored, local)
    assign(mapping, pairs, ref.speaker_file, hyp.speaker_file, local)
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


def overlaps(grid: Grid, ref: Side, hyp: Side, speakers: Pairs, agreeing: Pairs, scored: np.ndarray,
             local: tuple[np.ndarray, np.ndarray] | None = None) -> PairOverlaps:
    """The keys of every pair of speakers active together (``speakers``): their overlap, their
    overlap in the ``scored`` regions, and their emotion agreement there (``agreeing``: the
    speaker pairs active together that agree on the emotion).
    ``local``: per side, each speaker's number within its file (``canonical_order``; by
    default ``Side.speaker_local``)."""
    ref_local, hyp_local = local if local is not None else (ref.speaker_local, hyp.speaker_local)
    k_ref = int(ref_local.max()) + 1
    k_hyp = int(hyp_local.max()) + 1
    size = grid.n_files * k_ref * k_hyp
    # a pair's key is a part of its reference speaker's plus its hypothesis speaker's local index
    ref_part = (ref.speaker_file * k_ref + ref_local) * k_hyp

    def keys(pairs: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # each pair's key, once per pair (which keys there are) and once per region entry (the sums)
        per_pair = ref_part[pairs.ref] + hyp_local[pairs.hyp]
        return per_pair, pairs.each(per_pair)

    per_pair, key = keys(speakers)
    duration = grid.duration[speakers.region]
    pair, (overlap, on_scored) = sum_by_key(key, (duration, duration * scored[speakers.region]), size,
                                            among=per_pair)
    e_per_pair, e_key = keys(agreeing)
    e_pair, (e_seconds,) = sum_by_key(e_key, (grid.duration[agreeing.region] * scored[agreeing.region],), size,
                                      among=e_per_pair)
    agreement = np.zeros(len(pair), np.int64)
    # agreeing means both active: every e_pair is in pair
    np.add.at(agreement, np.searchsorted(pair, e_pair), e_seconds)
    return PairOverlaps(pair, overlap, on_scored, agreement, k_ref, k_hyp)


def assign(mapping: np.ndarray, pairs: PairOverlaps, ref_speaker_file: np.ndarray,
           hyp_speaker_file: np.ndarray, local: tuple[np.ndarray, np.ndarray] | None = None) -> None:
    """Solve the lexicographic maximum-key one-to-one matching of each file
    (``max_key_matching``) into ``mapping`` (hypothesis speaker -> reference speaker;
    speakers are numbered file by file, and within a file by ``local``, as ``overlaps``
    numbered them)."""
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

    def put(ref_at: np.ndarray, hyp_at: np.ndarray) -> None:
        mapping[hyp_at if by_local[1] is None else by_local[1][hyp_at]] = (
            ref_at if by_local[0] is None else by_local[0][ref_at])

    # most files need no solver: their rows' (or columns') maxima are their one optimum
    of_file = np.searchsorted(files, file)
    row_key, col_key = pairs.pair // pairs.k_hyp, file * pairs.k_hyp + col
    solved, take = greedy_unique(row_key, col_key, pairs.overlap, of_file, len(files))
    if not solved.all():  # the same test by columns, on the files left (pairs ordered by column)
        by_col = np.flatnonzero(~solved[of_file])
        by_col = by_col[np.argsort(col_key[by_col], kind="stable")]
        solved_too, take_too = greedy_unique(col_key[by_col], row_key[by_col], pairs.overlap[by_col],
                                             of_file[by_col], len(files))
        solved |= solved_too
        take = np.concatenate([take, by_col[take_too]])
    if len(take):
        put(ref_first[of_file[take]] + row_ids[r[take]], hyp_first[of_file[take]] + col_ids[c[take]])
    left = np.flatnonzero(~solved)
    for lo, hi, r0, c0, rows, cols, ref0, hyp0 in zip(
            starts[left].tolist(), ends[left].tolist(), row_first[left].tolist(), col_first[left].tolist(),
            n_rows[left].tolist(), n_cols[left].tolist(), ref_first[left].tolist(), hyp_first[left].tolist()):
        ri, ci = max_key_matching(r[lo:hi] - r0, c[lo:hi] - c0, rows, cols, pairs.overlap[lo:hi],
                                  pairs.scored[lo:hi], pairs.agreement[lo:hi])
        put(ref0 + row_ids[r0 + ri], hyp0 + col_ids[c0 + ci])


def greedy_unique(row: np.ndarray, col: np.ndarray, overlap: np.ndarray, of_file: np.ndarray,
                  n_files: int) -> tuple[np.ndarray, np.ndarray]:
    """Per file, whether its matching of maximal total overlap is the pairs that are each
    their row's strict maximum, and is the only one; and the positions of those pairs
    (of the files where it is). Pairs ordered by file, then ``row`` (``row`` and ``col``
    keys unique over all files: the same test by columns swaps them), ``of_file`` their
    file's number (0 to ``n_files`` - 1).

    Where every row's largest overlap (> 0) is in one pair only, and no two rows have it in
    the same column, those pairs M are a matching, and any other matching M' weighs less:
    each row of M' gets at most its maximum, less where its pair is not M's, and rows that
    M' leaves out lose theirs (> 0); so M is the one optimum of key 1 and the keys after it
    have nothing to decide. This is how speakers overlap on most real files (each
    hypothesis speaker the best of one reference speaker), and the test is exact integer
    comparisons, all files at once."""
    if not len(row):
        return np.zeros(n_files, bool), np.zeros(0, np.int64)
    _, row_start, row_length = _runs(row)
    best = np.maximum.reduceat(overlap, row_start)
    is_best = overlap == np.repeat(best, row_length)
    tied_row = (np.add.reduceat(is_best, row_start) > 1) & (best > 0)
    take = np.flatnonzero(is_best & (overlap > 0))
    failed = np.zeros(n_files, bool)
    failed[of_file[row_start[tied_row]]] = True
    # two rows whose maxima share a column
    order = np.argsort(col[take], kind="stable")
    shared = take[order][1:][col[take][order][1:] == col[take][order][:-1]]
    failed[of_file[shared]] = True
    return ~failed, take[~failed[of_file[take]]]


def _runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct values of a sorted array (pairs' files: pairs are sorted by key), where
    each run of them starts and its length (``np.unique``'s, without its sort)."""
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else np.zeros(0, np.int64)
    return values[starts], starts, np.diff(starts, append=len(values))


def max_key_matching(r: np.ndarray, c: np.ndarray, n_rows: int, n_cols: int, overlap: np.ndarray,
                     scored: np.ndarray, agreement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The (row, col) pairs of the one-to-one matching of the pairs (r, c) (of ``n_rows``
    rows and ``n_cols`` columns) that maximises, lexicographically, the sums of ``overlap``
    (> 0), ``scored`` and ``agreement`` (int64 ticks, ``agreement <= scored <= overlap``).

    How, exactly: (``assign`` calls this only for the files ``greedy_unique`` leaves open.)
    scipy's solver finds a matching of maximal total overlap (integer
    weights, exact in its doubles below ``EXACT_IN_DOUBLE``); a second solve decides
    whether it is the only one (``_unique_optimum``; on the sparse graph the first solve's
    shortest-path prices, ``_unique_by_prices``). It is on real data, and then it is
    the answer: keys 2 and 3 only order mappings of equal overlap. Where another matching
    has the same overlap, the keys are taken one after the other (``_staged_matching``:
    each solve restricted to the pairs that can be in an optimum of the keys before,
    found from the solver's optimum through dual prices, exactly). One solve on one key
    would not do: scipy computes in doubles, and a double cannot hold three keys of up
    to 2**42 ticks (an hour) each. Where even one key's sums are too large for doubles
    (days of overlap in one file), the file is solved on the whole key over Python
    integers (``exact_assignment``, O(n^3) in Python). Ties of the whole key are left to
    the solvers, which meet rows and columns in ``canonical_order``.

    A problem above ``DENSE_CELLS`` is solved on the sparse graph of its pairs, by
    overlap (exact); where its optimum is tied, the other keys are a tie term of each
    pair's weight, in doubles (exact to about 2**-10 of a tick of overlap per hour of
    speech): such a file has hundreds of speakers in one web of overlaps.
    """
    k = min(n_rows, n_cols) + 1  # above any matching's number of pairs
    overlap, exact = _exact_in_double(overlap, k + 1)
    if n_rows * n_cols > DENSE_CELLS:
        real = overlap > 0
        r, c, overlap, scored, agreement = r[real], c[real], overlap[real], scored[real], agreement[real]
        ri, ci = _sparse_matching(r, c, n_rows, n_cols, overlap.astype(np.float64))
        unique = exact and _unique_by_prices(r, c, n_rows, n_cols, overlap, ri, ci)
        if unique is None:  # (prices not found in a few rounds: solve again to know)
            unique = _unique_optimum(r, c, n_rows, n_cols, overlap, ri, ci, _sparse_matching)
        if not unique:
            ri, ci = _sparse_matching(r, c, n_rows, n_cols, _tie_weights(overlap, scored, agreement))
        return ri, ci
    if exact:
        # md-eval's optimum (a zero entry: no pair), then whether it is the only one
        solve = assignment_solver()
        matrix = np.zeros((n_rows, n_cols))
        matrix[r, c] = overlap
        ri, ci = solve(matrix, maximize=True)
        chosen = matrix[ri, ci]
        good = chosen > 0
        if not good.all():
            ri, ci, chosen = ri[good], ci[good], chosen[good]
        # ``_unique_optimum``, densely (few numpy calls: this runs once per file)
        marked = np.zeros((n_rows, n_cols))
        marked[r, c] = overlap * float(k) + 1.0
        marked[ri, ci] -= 1.0
        ri2, ci2 = solve(marked, maximize=True)
        if marked[ri2, ci2].sum() == chosen.sum() * k:  # no pair outside (ri, ci): unique
            return ri, ci
        (scored, fits_scored), (agreement, fits_agreement) = (_exact_in_double(key, 1) for key in (scored, agreement))
        if fits_scored and fits_agreement:
            return _staged_matching(r, c, n_rows, n_cols, (overlap, scored, agreement))
    # the whole key as one integer: sums of the lower keys over any matching stay below 2**shift
    shift = max(int(scored.sum()), int(agreement.sum())).bit_length() + 1
    key = [(p << 2 * shift) | (s << shift) | a
           for p, s, a in zip(overlap.tolist(), scored.tolist(), agreement.tolist())]
    transposed = n_rows > n_cols  # (the solver wants no more rows than columns)
    rows, cols = (c, r) if transposed else (r, c)
    matrix = [[0] * max(n_rows, n_cols) for _ in range(min(n_rows, n_cols))]
    for i, j, k in zip(rows.tolist(), cols.tolist(), key):
        matrix[i][j] = k
    chosen = [(i, j) for i, j in enumerate(exact_assignment(matrix)) if matrix[i][j] > 0]
    ri, ci = (np.asarray([pair[k] for pair in chosen], np.int64).reshape(-1) for k in (0, 1))
    if transposed:
        order = np.argsort(ci, kind="stable")
        return ci[order], ri[order]
    return ri, ci


def _staged_matching(r, c, n_rows, n_cols, keys) -> tuple[np.ndarray, np.ndarray]:
    """The matching of (r, c) that maximises the sums of ``keys`` lexicographically (int64,
    each key's sums exact in doubles), one key at a time, each solve restricted to the
    optimal matchings of the keys before.

    On the square matrix of side max(n_rows, n_cols), zero where there is no pair, every
    matching extends to a perfect one with zeros, so that a perfect matching of least cost
    (the negated key) is a heaviest matching. With dual prices u, v of an optimal one
    (``_dual_prices``: cost - u - v >= 0 everywhere, = 0 on it), the optimal perfect
    matchings are exactly the perfect matchings of the entries where cost - u - v = 0
    (complementary slackness): the next key is solved on those entries only (the others
    cost +inf), which keeps the optimum of every key before. All values are integers
    below 2**53: exact in doubles."""
    n = max(n_rows, n_cols)
    allowed = None
    solve = assignment_solver()
    for stage, key in enumerate(keys):
        cost = np.zeros((n, n))
        cost[r, c] = -key.astype(np.float64)
        if allowed is not None:
            cost[~allowed] = np.inf
        _, col = solve(cost)
        if stage < len(keys) - 1:
            u, v = _dual_prices(cost, col)
            reduced = cost - u[:, None] - v[None, :]
            allowed = reduced == 0  # (+inf where forbidden: never 0)
    pair = np.zeros((n, n), bool)
    pair[r, c] = True
    rows = np.flatnonzero(pair[np.arange(n), col])
    return rows, col[rows]


def _dual_prices(cost: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dual prices (row u, column v) of the optimal perfect matching row -> ``col[row]`` of the
    square ``cost`` (+inf: forbidden): cost - u - v >= 0 everywhere and = 0 on the matching.

    v is the shortest-path distance to each column in the matching's residual graph (from
    column col[i] to column j at cost[i, j] - cost[i, col[i]], and 0 from a source to every
    column), by Bellman-Ford: the matching is optimal, so there is no negative cycle and
    it settles within n rounds. Then u = cost on the matching - v of its column."""
    n = len(col)
    on = cost[np.arange(n), col]
    v = np.zeros(n)
    for _ in range(n + 1):
        reach = ((v[col] - on)[:, None] + cost).min(axis=0)
        better = np.minimum(v, reach)
        if np.array_equal(better, v):
            break
        v = better
    return on - v[col], v


def _exact_in_double(key: np.ndarray, factor: int) -> tuple[np.ndarray, bool]:
    """``key`` (int64 ticks), in units of the greatest common divisor of its values where
    that is needed (times on a millisecond grid: milliseconds; the order of any two sums is
    the same), and whether ``factor`` times its sum is exact in scipy's doubles."""
    if float(key.sum()) * factor < EXACT_IN_DOUBLE or not len(key):
        return key, True
    key = key // max(int(np.gcd.reduce(key)), 1)
    return key, float(key.sum()) * factor < EXACT_IN_DOUBLE


def _unique_optimum(r, c, n_rows, n_cols, overlap, ri, ci, solve) -> bool:
    """Whether the matching (ri, ci), of maximal total overlap, is the only one.

    Solved again with each pair's weight ``overlap * K + (1 if the pair is not in it)``, K
    above any matching's count of pairs: every matching of less overlap (by a tick at
    least) weighs less (by K, against at most K - 1), so the new optimum has maximal
    overlap and, among those, the most pairs outside (ri, ci). It has none only where
    every matching of maximal overlap takes pairs of (ri, ci) only, and so is (ri, ci)
    (its pairs all weigh > 0). Weights are exact integers in the solver's doubles (the
    caller checks ``EXACT_IN_DOUBLE``). (``max_key_matching`` does the same on dense
    matrices in place, for speed: it runs once per file.)"""
    k = min(n_rows, n_cols) + 1
    chosen = np.isin(r * n_cols + c, ri * n_cols + ci)
    weight = overlap.astype(np.float64) * k + ~chosen
    ri2, ci2 = solve(r, c, n_rows, n_cols, weight)
    return len(ri2) == len(ri) and bool(np.isin(ri2 * n_cols + ci2, ri * n_cols + ci).all())


#: Rounds of price updates ``_unique_by_prices`` tries before it leaves the question to a solve
PRICE_ROUNDS = 32


def _unique_by_prices(r, c, n_rows, n_cols, overlap, ri, ci) -> bool | None:
    """Whether the matching (ri, ci), of maximal total overlap on the sparse graph of the
    pairs (r, c), is the only one; None where the prices below take more than
    ``PRICE_ROUNDS`` rounds to settle (``_unique_optimum`` decides then, by a second solve,
    which costs as much as the first on a file of thousands of speakers).

    As ``_sparse_matching`` poses it, every row is matched, to a column or to a column of
    its own (unmatched). Another matching of the same weight differs from it by alternating
    cycles and paths of zero total change, each an optimum on its own: in the graph of the
    columns, with an arc from a row's column to each other column it could take (the change
    of its weight as its cost), a cycle of zero cost, or a path of zero cost from a taken
    column to a free one, made a cycle by a node ``t`` with arcs of cost 0 from every free
    column and to every taken one. The matching is optimal: no cycle costs less than 0,
    and there are prices p (shortest distances from a source joined to every node at cost
    0, found by rounds of Bellman-Ford over all arcs at once) under which every arc's
    reduced cost, cost + p(tail) - p(head), is >= 0. A cycle's cost is the sum of its
    reduced costs: one of zero cost lies in the arcs of zero reduced cost, and exists iff
    those arcs close a cycle (a strongly connected component of two nodes or more). All
    values are integers exact in doubles (the caller checks ``EXACT_IN_DOUBLE``)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    weight = overlap.astype(np.float64)
    column = n_cols + np.arange(n_rows)  # each row's column: its own (unmatched) unless matched
    column[ri] = ci
    key = r * n_cols + c
    chosen = np.searchsorted(key, ri * n_cols + ci) if (key[1:] > key[:-1]).all() else None
    if chosen is None:
        order = np.argsort(key, kind="stable")
        chosen = order[np.searchsorted(key[order], ri * n_cols + ci)]
    gain = np.zeros(n_rows)
    gain[ri] = weight[chosen]
    other = np.ones(len(r), bool)
    other[chosen] = False
    n_columns = n_cols + n_rows
    taken = np.zeros(n_columns, bool)
    taken[column] = True
    free = np.flatnonzero(~taken)
    t = n_columns
    # a row's move to another real column (costs what its weight falls), a matched row's to
    # its own column (unmatched: its weight); free columns -> t -> taken columns at 0
    tail = np.concatenate([column[r[other]], ci, free, np.full(n_rows, t)])
    head = np.concatenate([c[other], n_cols + ri, np.full(len(free), t), column])
    cost = np.concatenate([gain[r[other]] - weight[other], gain[ri], np.zeros(len(free) + n_rows)])
    order = np.argsort(head, kind="stable")
    tail, head, cost = tail[order], head[order], cost[order]
    heads, starts, _ = _runs(head)
    price = np.zeros(n_columns + 1)
    for _ in range(PRICE_ROUNDS):
        better = np.minimum(price[heads], np.minimum.reduceat(price[tail] + cost, starts))
        if np.array_equal(better, price[heads]):
            break
        price[heads] = better
    else:
        return None
    tight = cost + price[tail] - price[head] == 0
    graph = csr_matrix((np.ones(int(tight.sum())), (tail[tight], head[tight])), shape=(n_columns + 1,) * 2)
    n_components, _ = connected_components(graph, directed=True, connection="strong")
    return n_components == n_columns + 1


def _tie_weights(overlap: np.ndarray, scored: np.ndarray, agreement: np.ndarray) -> np.ndarray:
    """Each pair's overlap plus a tie term below half a tick for any whole matching, of the
    scored overlap and then the agreement (as exact as a double holds them: the sparse path
    only)."""
    total_scored, total_agreement = float(scored.sum()) + 1.0, float(agreement.sum()) + 1.0
    return overlap + 0.5 * (scored + agreement / total_agreement) / total_scored


def _sparse_matching(r, c, n_rows, n_cols, weight):
    """The (row, col) pairs of a matching of maximal total weight (weights > 0), on the
    sparse graph of the pairs (scipy)."""
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


def exact_assignment(weight: list[list[int]]) -> list[int]:
    """Per row, its column in an assignment of maximal total weight (Python integers of any
    size, >= 0; as many rows as columns or fewer): the Hungarian algorithm with potentials
    (Kuhn-Munkres; shortest augmenting paths, O(rows^2 * cols)) in exact integer arithmetic.
    A row assigned to a column of weight 0 is unmatched."""
    n, m = len(weight), len(weight[0]) if weight else 0
    inf = float("inf")
    u, v = [0] * (n + 1), [0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)  # column -> its row (1-based; 0: none)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        min_v, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            row, ui = weight[owner[j0] - 1], u[owner[j0]]
            delta, j1 = inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cost = -row[j - 1] - ui - v[j]  # minimising the negated weight
                    if cost < min_v[j]:
                        min_v[j], way[j] = cost, j0
                    if min_v[j] < delta:
                        delta, j1 = min_v[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    min_v[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    col_of_row = [0] * n
    for j in range(1, m + 1):
        if owner[j]:
            col_of_row[owner[j] - 1] = j - 1
    return col_of_row


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


def sum_by_key(key: np.ndarray, weights: tuple[np.ndarray, ...], size: int, among: np.ndarray | None = None
               ) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """The distinct keys (sorted) and, for each of ``weights``, the sum of its integer weights
    (ticks, >= 0) per key (keys below ``size``), exactly. ``among``: the same distinct keys,
    fewer times (cheaper to find which keys there are)."""
    if size <= DENSE_KEYS:
        present = np.flatnonzero(np.bincount(key if among is None else among, minlength=size))
        return present, tuple(_exact_bincount(key, weight, size)[present] for weight in weights)
    # many speakers in some file: sort the keys instead of a dense count
    pair, inverse = np.unique(key, return_inverse=True)
    return pair, tuple(_exact_bincount(inverse, weight, len(pair)) for weight in weights)


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

    Where pairs repeat in several regions (those collars split, ``teer.engine.sides.Coarse``),
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
