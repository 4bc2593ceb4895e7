"""The grid: every boundary of every file as one sorted list of unique (file, time) points.

Intervals become index ranges ``[i0, i1)`` on it (``teer.intervals``), region ``r`` being
the span between grid points ``r`` and ``r + 1`` of one file. Equal times get one grid
point whatever their order in the input (``_file_time_order`` sorts exactly), so that
regions, and every sum over them, do not depend on input order. A bottom module: the
speaker mapping (``teer.matcher``) reads ``Grid`` too.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

#: grids of up to 2 ** this many points are sorted by one integer sort (``_packed_sort``); in
#: larger ones more distinct keys would tie without their last bits
PACKED_INDEX_BITS = 20


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


def grid_of(spans: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n_files: int
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
