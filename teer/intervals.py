"""Intervals as index ranges on a sorted grid of time points, and the operations the sweep needs.

An interval ``[i0, i1)`` covers the regions ``i0 .. i1 - 1`` of the grid (region
``r`` is the span between grid points ``r`` and ``r + 1``). Counting, uniting and
intersecting such intervals are integer operations on cumulative sums: no
Python loop per interval or per region.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intervals:
    """Index ranges ``[i0, i1)`` on the grid, each with an integer group (a speaker, a
    (speaker, emotion) pair, ...)."""

    group: np.ndarray
    i0: np.ndarray
    i1: np.ndarray

    def __len__(self) -> int:
        return len(self.i0)


def coverage(i0: np.ndarray, i1: np.ndarray, n: int) -> np.ndarray:
    """Number of intervals active in each of the ``n`` regions."""
    delta = np.bincount(i0, minlength=n + 1)[: n + 1]
    delta -= np.bincount(i1, minlength=n + 1)[: n + 1]
    # a running sum of int32 into int32: numpy's cumsum casting int64 to int32 as it goes is
    # much slower than a cast followed by the sum in place
    count = delta[:n].astype(np.int32)
    np.cumsum(count, out=count)
    return count


def covered(i0: np.ndarray, i1: np.ndarray, n: int) -> np.ndarray:
    """Whether some interval covers each of the ``n`` regions (``coverage > 0``); a few
    intervals, as a UEM's, by slices instead of a running count over every region."""
    if len(i0) > 64:
        return coverage(i0, i1, n) > 0
    mask = np.zeros(n, bool)
    for lo, hi in zip(i0.tolist(), i1.tolist()):
        mask[lo:hi] = True
    return mask


def merge(group: np.ndarray, i0: np.ndarray, i1: np.ndarray) -> tuple[Intervals, np.ndarray]:
    """Union of the intervals of each group, and the group of every interval that
    overlapped an earlier one of its group.

    Touching intervals are joined; only a strict overlap counts as an overlap.
    """
    keep = i1 > i0
    if not keep.all():
        group, i0, i1 = group[keep], i0[keep], i1[keep]
    if len(i0) == 0:
        empty = np.zeros(0, np.int64)
        return Intervals(empty, empty, empty), empty
    order = group_start_order(group, i0)
    group, i0, i1 = group[order], i0[order], i1[order]
    # The furthest end reached so far within a group is a running maximum. One
    # np.maximum.accumulate serves all groups at once because the ends are shifted
    # by group * span (span exceeds every index): a later group's shifted ends are
    # all larger than an earlier group's, so the maximum restarts at each group.
    span = np.int64(max(int(i1.max()), 0) + 1)
    shift = group.astype(np.int64) * span
    shifted_end = np.maximum.accumulate(shift + i1)
    reach = np.empty_like(shifted_end)
    reach[0] = -1
    same = group[1:] == group[:-1]
    reach[1:] = np.where(same, shifted_end[:-1] - shift[1:], -1)
    # an interval opens a new union unless it starts at or before the reach of its group
    opens = i0 > reach
    overlapping = ~opens & (i0 < reach)
    starts = np.flatnonzero(opens)
    lasts = np.append(starts[1:] - 1, len(i0) - 1)
    merged_end = shifted_end[lasts] - shift[lasts]
    return Intervals(group[starts], i0[starts], merged_end), group[overlapping]


def group_start_order(group: np.ndarray, i0: np.ndarray) -> np.ndarray:
    """Indices sorting intervals by (group, start), as ``np.lexsort((i0, group))`` does
    (ties, intervals of one group with one start, may come in any order: ``merge`` gives
    the same).

    Segments are usually listed by start, and a batch has fewer than 65,536 groups
    (speakers, or (speaker, emotion) items): then a stable sort by group alone does it,
    and numpy sorts 16-bit values stably by radix, several times faster than the others.
    Otherwise one integer key, group * span + start, with span above every start.
    """
    if len(group) and 0 <= int(group.min()) and int(group.max()) < 1 << 16 and (i0[1:] >= i0[:-1]).all():
        return np.argsort(group.astype(np.uint16), kind="stable")
    span = int(i0.max()) + 1 if len(i0) else 1
    return np.argsort(group.astype(np.int64) * span + i0)


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
    # the k-th pair of interval j is region number lo[j] + k among ``regions``
    first = np.repeat(lo - np.cumsum(count) + count, count)
    return which, regions[first + np.arange(len(which))]


@dataclass(frozen=True)
class Active:
    """The groups active in each of a list of regions, region by region: the ``k``-th
    region's are ``group[first[k] : first[k] + count[k]]``, in increasing order."""

    group: np.ndarray
    #: per active group, the position of its region in the list
    position: np.ndarray
    count: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.group)


def listed_before(listed: np.ndarray) -> np.ndarray:
    """Per grid point ``x``, the number of regions before it that ``listed`` (a mask over
    the regions) marks: an interval ``[i0, i1)`` holds the listed regions at positions
    ``below[i0] .. below[i1] - 1`` of the list."""
    below = np.zeros(len(listed) + 1, np.int64)
    np.cumsum(listed, out=below[1:])
    return below


def active(iv: Intervals, below: np.ndarray) -> Active:
    """The groups of the intervals active in each of a list of regions (``below``:
    ``listed_before`` of it). The intervals of one group must not overlap (``merge``):
    then a group is active at most once per region.
    """
    n_listed = int(below[-1])
    if len(iv) == 0 or n_listed == 0:
        empty = np.zeros(0, np.int64)
        count = np.zeros(n_listed, np.int64)
        return Active(empty, empty, count, count.copy())
    lo = below[iv.i0]
    n_in = below[iv.i1] - lo
    # every (position, group) of an active interval, as one integer key position * span
    # + group: keys are distinct (a group once per region), so that sorting them, which
    # numpy does much faster than an argsort, puts them in (position, group) order
    span = int(iv.group.max()) + 1
    key_type = np.int32 if n_listed * span < 1 << 31 else np.int64
    # each key's interval: one repeat, then gathers (cheaper than a repeat each)
    of_interval = np.repeat(np.arange(len(iv)), n_in)
    key = np.arange(len(of_interval), dtype=key_type)
    key += (lo - (np.cumsum(n_in) - n_in)).astype(key_type)[of_interval]
    key *= key_type(span)
    key += iv.group.astype(key_type)[of_interval]
    key.sort()
    # integer division by a scalar is fast in numpy, its remainder is not
    position = (key // key_type(span)).astype(np.int64)
    count = np.bincount(position, minlength=n_listed)
    return Active(key - position * span, position, count, np.cumsum(count) - count)
