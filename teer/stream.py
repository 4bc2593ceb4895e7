"""Large RTTM inputs scored a batch of files at a time, so that memory does not grow with the corpus.

An RTTM file above ``STREAM_BYTES`` whose lines are grouped by file id (every file
id's SPEAKER lines in one run, the usual layout) is not read into one table: a
first pass keeps where each file's lines are and what the checks on the whole input
need, and its segments in a temporary file (``teer.io.rttm_batches``); then batches of about ``READ_BATCH_SEGMENTS`` segments
(both sides) are read, scored and dropped (``score``). Files are independent
and each batch holds whole files, so the per-file components, the sums and every
warning are those of scoring the whole tables, bit for bit. A file whose ids are
not grouped is read whole, as a smaller file is: that costs a second reading and
the memory of the whole table.
"""
from __future__ import annotations

import os
import stat
from typing import Any, Sequence, Union

import numpy as np

from . import accounting, checks, engine, protocols
from .components import SUMS
from .emotions import apply_map, restrict
from .io.rttm_batches import GroupedRttm
from .parallel import ordered_map, pair
from .segments import SegmentTable

#: an RTTM file larger than this is read a batch of files at a time where its file ids are grouped
STREAM_BYTES = 64 << 20
#: segments of both sides read in a batch of files (the engine sweeps each in its own smaller
#: batches of ``engine.scoring.BATCH_SEGMENTS``)
READ_BATCH_SEGMENTS = 400_000


class InMemory:
    """A side held as one table, with the interface of ``GroupedRttm``."""

    def __init__(self, table: SegmentTable) -> None:
        self.skeleton = table
        self.files = table.files
        self.rows = np.bincount(table.file, minlength=len(table.files))
        self.order = np.arange(len(table.files))
        self._sorted = np.argsort(table.file, kind="stable")
        self._first = np.searchsorted(table.file[self._sorted], np.arange(len(table.files) + 1))
        self.position = {name: i for i, name in enumerate(table.files)}

    def close(self) -> None:
        pass

    def table(self, names: Sequence[str]) -> SegmentTable:
        t = self.skeleton
        codes = [self.position[name] for name in names]
        rows = np.concatenate([np.zeros(0, np.int64)] + [self._sorted[self._first[c]:self._first[c + 1]]
                                                          for c in codes])
        local = np.full(len(t.files), -1, np.int32)
        local[codes] = np.arange(len(codes), dtype=np.int32)
        return SegmentTable(list(names), t.speakers, t.emotions, local[t.file[rows]], t.start[rows], t.end[rows],
                            t.speaker[rows], t.emotion[rows], t.origin[rows], t.source)


Side = Union[GroupedRttm, InMemory]


def applies(options: Any) -> bool:
    """Whether a scoring run under these resolved options can read its inputs in batches:
    a protocol that needs no whole table (``teer.protocols.Protocol.streams``), and no fixed
    speaker mapping nor no-score table (which would need the whole tables for their checks)."""
    return protocols.get(options.preset.protocol).streams and options.speaker_map is None and options.noscore is None


def read_sides(sides: Sequence[tuple[Any, str]], jobs: int) -> list[SegmentTable | GroupedRttm]:
    """Paths read by ``teer.io.load_reference`` or ``load_hypothesis`` (both at once where
    ``jobs`` allows; what ``teer.inputs.as_table`` does with a path), or, for a
    large RTTM file grouped by file id (a reference with segments, all or none of them with an
    emotion), its ``GroupedRttm``."""
    # the spill files are made here, unlinked at once: a process that reads a side writes
    # into the one it inherits, and nothing is left behind however the run ends
    spills = [_spill() if _large(path) else None for path, _ in sides]
    try:
        found = list(pair(lambda: _read_side(sides[0], spills[0]), lambda: _read_side(sides[1], spills[1]), jobs,
                          room=table_room(sides[1][0])))
    except BaseException:
        for spill in spills:
            if spill is not None:
                spill.close()
        raise
    for k, spill in enumerate(spills):
        if isinstance(found[k], GroupedRttm):
            found[k].spill = spill
        elif spill is not None:
            spill.close()
    return found


def table_room(path: Any) -> int:
    """Room for the table of a file, in bytes: an RTTM line of at least 24 bytes is a row of
    36 bytes of columns, so twice the file's size (0 where it has none: not a regular file)."""
    try:
        status = os.stat(path)
    except (OSError, ValueError, TypeError):
        return 0
    return 2 * status.st_size + (1 << 20) if stat.S_ISREG(status.st_mode) else 0


def _spill():
    import tempfile  # only for large files: a small run does not load it

    return tempfile.TemporaryFile(prefix="teer-")


def _large(path: Any) -> bool:
    from .io.text import read_whole_only

    if read_whole_only(path):  # standard input and gzip are read whole
        return False
    try:
        return stat.S_ISREG(os.stat(path).st_mode) and os.path.getsize(path) > STREAM_BYTES
    except (OSError, ValueError):
        return False


def _read_side(side: tuple[Any, str], spill) -> SegmentTable | GroupedRttm:
    from .io import load_hypothesis, load_reference, other_format, rttm_batches

    path, role = side
    if spill is not None:
        found = rttm_batches.index(path, other_format, spill)
        if isinstance(found, GroupedRttm) and (role != "reference" or _good_reference(found.skeleton)):
            return found
        del found  # UNGROUPED, or a file with a problem: read whole, which raises it
    return load_reference(path) if role == "reference" else load_hypothesis(path)


def _good_reference(skeleton: SegmentTable) -> bool:
    has = skeleton.emotion >= 0
    return len(skeleton) > 0 and (has.all() or not has.any())


def batched(ref: SegmentTable | GroupedRttm, hyp: SegmentTable | GroupedRttm) -> tuple[Side, Side] | None:
    """The two sides, where one of them is read in batches; None where both are tables."""
    if not any(isinstance(side, GroupedRttm) for side in (ref, hyp)):
        return None
    return tuple(side if isinstance(side, GroupedRttm) else InMemory(side) for side in (ref, hyp))


def groups(ref: Side, hyp: Side, others: Sequence[str] = ()) -> list[list[str]]:
    """The files in batches of about ``READ_BATCH_SEGMENTS`` segments: the reference's files in
    its order, then the hypothesis's other files, then ``others`` (files in neither side)."""
    sizes: dict[str, int] = {}
    for side in (ref, hyp):
        for code, rows in zip(side.order.tolist(), side.rows[side.order].tolist()):
            name = side.files[code]
            sizes[name] = sizes.get(name, 0) + rows
    for name in others:
        sizes.setdefault(name, 0)
    out: list[list[str]] = [[]]
    total = 0
    for name, size in sizes.items():
        if total >= READ_BATCH_SEGMENTS:
            out.append([])
            total = 0
        out[-1].append(name)
        total += size
    return [names for names in out if names]


def tables(ref: Side, hyp: Side, names: Sequence[str]) -> tuple[SegmentTable, SegmentTable]:
    """Both sides' segments in the files ``names`` (each side's own files among them)."""
    return tuple(side.table([n for n in names if n in side.position]) for side in (ref, hyp))


def score(batches: tuple[Side, Side], options: Any, protocol: Any, uem_map, input_uem,
          ref: SegmentTable, hyp: SegmentTable, scored: Sequence[str], given_files: Sequence[str],
          build_options: dict, left_out: Sequence[str], jobs: int) -> tuple[Any, list[str], dict[str, float]]:
    """``engine.score`` and the time check of a run whose protocol streams (``applies``), on
    inputs read a batch of files at a time (``read_sides``): each batch gets the emotion map, the scored set
    and the sweep that the whole tables get. ``ref`` and ``hyp`` are the skeletons as
    scored (for the warnings about files); ``input_uem`` is the UEM given (the time check's).
    Also the seconds of the reference's ``left_out`` labels, added up batch by batch."""
    scored_set, given_set = set(scored), set(given_files)
    known = set(batches[0].position) | set(batches[1].position)
    batched_files = groups(*batches, [name for name in scored if name not in known])

    def sweep(names: list[str]):
        original_ref, part_hyp = tables(*batches, names)
        part_hyp = apply_map(part_hyp, options.emotion_map)
        mapped_ref = apply_map(original_ref, options.emotion_map)
        part_ref, zones, _ = restrict(mapped_ref, options.emotions, options.non_target)
        part_uem = None if uem_map is None else {n: uem_map[n] for n in names if n in uem_map}
        result = engine.score(part_ref, part_hyp, part_uem, scored_files=[n for n in names if n in scored_set],
                              reference_files=[n for n in names if n in given_set],
                              **{**build_options, "noscore": zones})
        dropped = protocol.dropped(mapped_ref, result.files, options)
        if dropped is not None:
            accounting.add_dropped(result.components, dropped, part_ref, result.files, options.same_speaker_overlap)
        return (result, checks.time_parts(original_ref, part_hyp, input_uem),
                accounting.labels_seconds(mapped_ref, left_out, options.same_speaker_overlap))

    position = {name: i for i, name in enumerate(scored)}
    sums = {name: np.zeros(len(scored), np.int64) for name in SUMS}
    overlaps, several, parts, mapping, inspected = [0, 0], 0.0, [], {}, []
    left_out_seconds = dict.fromkeys(left_out, 0.0)
    # batches are summed in order, whatever the number of processes: the sums are identical
    for result, time_part, seconds in ordered_map(sweep, batched_files, jobs):
        for label, value in seconds.items():
            left_out_seconds[label] += value
        at = np.asarray([position[name] for name in result.files], np.int64)
        for key, values in result.components.items():
            if values.dtype == object:
                sums[key] = sums[key].astype(object)
            sums[key][at] = values
        overlaps = [overlaps[0] + result.self_overlaps[0], overlaps[1] + result.self_overlaps[1]]
        several += result.hyp_several_emotions
        parts.append(time_part)
        mapping.update(result.mapping)
        inspected += result.inspected
    apart = engine.files_apart(ref, hyp, uem_map, scored_files=scored, reference_files=given_files)
    time_check = checks.time_warning(checks.TimeParts.join(parts))
    return (engine.Result(list(scored), sums, apart, None, (overlaps[0], overlaps[1]),
                          {name: mapping.get(name, {}) for name in scored}, several, inspected),
            time_check, left_out_seconds)
