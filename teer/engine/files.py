"""Files and batches: one vocabulary of file ids for every input, the files on one side
only, and the batches of whole files that ``score`` sweeps one at a time.

Files are independent: a file's sums do not depend on which other files are swept with it,
so that batches (and ``--jobs``) give the sums of one sweep of all files (the
summation-order rule, ``teer.engine``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from ..segments import SegmentTable, concat_vocab, distinct, remap

#: {file: [(start, end), ...]} in ticks (``teer.inputs.as_uem`` converts seconds)
Uem = Mapping[str, Sequence[tuple[int, int]]]


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


def file_index(ref: SegmentTable, hyp: SegmentTable, noscore: SegmentTable | None,
                extra: Sequence[str]) -> FileIndex:
    tables = [ref, hyp] + ([noscore] if noscore is not None else [])
    files, maps = concat_vocab(tables + [_names_table(extra)], "files")
    codes = [remap(t.file, m) for t, m in zip(tables, maps)]
    n_files = len(files)
    return FileIndex(files, {name: i for i, name in enumerate(files)}, codes,
                     np.bincount(codes[0], minlength=n_files) > 0, np.bincount(codes[1], minlength=n_files) > 0)


def batches(ref, hyp, noscore, uem, index: FileIndex, scored: np.ndarray, in_uem: np.ndarray,
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
    """The file vocabulary a sweep of ``tables`` uses (``file_index``'s order)."""
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


@dataclass(frozen=True)
class FilesApart:
    """Files on one side only (counts for ``teer.messages.file_warnings``): the files only in
    the hypothesis, whether the UEM covers any of them (they are then scored), and the
    reference files the UEM leaves out."""

    only_hyp: list[str]
    only_hyp_in_uem: bool
    not_in_uem: list[str]

    @classmethod
    def of(cls, index: FileIndex, reference_files: Sequence[str] | None, in_uem: np.ndarray,
           has_uem: bool) -> FilesApart:
        """Files only in the hypothesis, and reference files the UEM leaves out.

        The reference's files are those with segments, and ``reference_files`` (a
        reference whose non-target speech was dropped still had the file)."""
        files = index.files
        ref_files = index.has_ref
        if reference_files is not None:
            wanted = set(reference_files)
            ref_files = ref_files | np.fromiter((f in wanted for f in files), bool, len(files))
        only_hyp = np.flatnonzero(index.has_hyp & ~ref_files)
        missing = [files[i] for i in np.flatnonzero(ref_files & ~in_uem)] if has_uem else []
        return cls([files[i] for i in only_hyp], bool(in_uem[only_hyp].any()), missing)


def files_apart(ref: SegmentTable, hyp: SegmentTable, uem: Uem | None = None, *,
                scored_files: Sequence[str] | None = None,
                reference_files: Sequence[str] | None = None) -> FilesApart:
    """``Result.files_apart`` of ``score``, for inputs scored in parts: ``ref`` and ``hyp``
    need only one row per file."""
    index = file_index(ref, hyp, None, list(uem or ()) + list(scored_files or ()))
    return FilesApart.of(index, reference_files, index.flags(uem or ()), uem is not None)
