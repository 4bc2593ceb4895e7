"""The sweep: one vectorised pass over all files that yields every error component.

``score`` (``scoring``) is the one entry point. It sweeps whole files, all at once or in
batches (files are independent: ``files``), and each sweep (``scoring.sweep``) is a
sequence of named steps, each returning a complete value:

1. ``files.file_index``: one vocabulary of file ids for both sides, the UEM and the
   no-score zones;
2. ``scoring._scored_time``: the UEM, or each file's extent;
3. ``grid.grid_of``: every boundary (segments, UEM, collars, no-score zones) of every file
   on one sorted grid keyed by (file, time); intervals become index ranges ``[i0, i1)`` on
   it (``teer.intervals``), region ``r`` being the span between grid points ``r`` and
   ``r + 1`` of one file;
4. ``sides.side_of``: each side's speakers, their merged speech and per-region counts
   (counted on the coarser regions that collars split, ``sides.Coarse``);
5. the evaluated regions (in the UEM) and the scored ones (outside collars and no-score
   zones, of the chosen kind);
6. ``together.together_of``: where both sides speak, each side's active speakers and
   (speaker, emotion) items, listed region by region (``intervals.active``), and the pairs
   of speakers active together, found on the coarser regions that collars split;
7. the speaker mapping (``teer.matcher``, its own module);
8. ``matching.matched_pairs`` (``matching.matched_of_profiles`` where each segment counts):
   per region, how many active reference speakers can be paired with a hypothesis speaker
   of the same emotion (``sides.agrees``), the mapped speaker, or both;
9. ``scoring.Sweep.components``: the regions added up per file (the formulas of the
   components are there; the rates in ``teer.components``).

The engine returns counts (components in ticks, files on one side only, self-overlaps,
seconds of hedging); the wording of warnings is ``teer.messages``'.

The summation-order rule. Several paths compute the same quantity (fast paths beside
general ones; all files at once or in batches; one process or ``jobs``), and they give
identical results, bit for bit, because every sum adds the same terms in the same order,
whichever path computed it: per-file sums run over a file's regions in grid order
(``scoring.Sweep.components``, ``scoring._per_file_sums``), the pair sums of the mapping
over each pair's entries in region order (``together._refine``), and batches are added in
batch order (``scoring.score``). Sums of ticks are integers, exact in any order; the rule
binds the float ones (the seconds of hedged speech, added batch by batch; float terms in
``_per_file_sums``) and keeps every path's terms the same, so that no path can drift. The
comments at each sum say which order it keeps. See docs/algorithm.md.
"""
from __future__ import annotations

from .files import FilesApart, Uem, batch_table, files_apart
from .grid import Grid
from .matching import Matched, max_matching
from .scoring import Result, Sweep, SweepOptions, SweepSettings, score, speaker_mapping, sweep
from .sides import Side, agrees

__all__ = ["FilesApart", "Grid", "Matched", "Result", "Side", "Sweep", "SweepOptions", "SweepSettings", "Uem",
           "agrees", "batch_table", "files_apart", "max_matching", "score", "speaker_mapping", "sweep"]
