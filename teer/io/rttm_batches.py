"""A large RTTM file whose lines are grouped by file id, read a few files at a time.

``index`` reads the file once, in pieces (as ``rttm.read_streamed``), writes its
segments as fixed-size records to a spill file (a temporary file: the page cache, not
this process's memory, holds them) and keeps where each file id's records are. When
the SPEAKER lines of every file id form one run (the usual layout; the order of the
files does not matter), ``GroupedRttm.table(names)`` reads only those files' records:
the rows of those files in the table the whole-file reader gives, with the same line
numbers, label codes and zero-length rule. What checks on the whole input need (file
ids, the emotion labels of each file, each file's extent, the skipped segments) is
kept too: ``GroupedRttm.skeleton`` has one row per (file, emotion label) and the
whole table's vocabularies.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Callable, Hashable, Iterable, Sequence

import numpy as np

from ..segments import NO_EMOTION, SegmentTable, Vocab, distinct
from . import rttm
from .table import flatten, skipped_warning
from .values import check_label, check_times

#: what ``index`` returns for a file whose file ids do not each form one run of lines
UNGROUPED = "ungrouped"

_NEVER = np.iinfo(np.int64).max


#: one SPEAKER line as the first pass writes it to the spill file
RECORD = np.dtype([("start", "<i8"), ("duration", "<i8"), ("origin", "<i8"), ("file", "<i4"),
                   ("speaker", "<i4"), ("emotion", "<i4")])


@dataclass
class GroupedRttm:
    """Where each file id's segments are in the spill file, and what the checks need of it."""

    source: str
    #: the whole table's vocabulary of file ids and, per file id, its index below
    files: list[str]
    #: per file id: its first record in the spill file and its records (zero-length ones included)
    first: np.ndarray
    rows: np.ndarray
    #: the file ids in the order of their runs (codes into ``files``)
    order: np.ndarray
    #: per label code of the records (file ids, speakers, emotions), the whole table's code (-1 for none)
    final: tuple[np.ndarray, np.ndarray, np.ndarray]
    skeleton: SegmentTable
    #: the records of every SPEAKER line, in the order of the file (``index``'s ``spill``)
    spill: IO[bytes] | None = None
    position: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.position = {name: i for i, name in enumerate(self.files)}

    def __getstate__(self) -> dict:
        # sent back from the process that read the file: the spill stays with its opener
        return {**self.__dict__, "spill": None}

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()

    def table(self, names: Sequence[str]) -> SegmentTable:
        """The segments of the files ``names`` (file ids of this file), ``files`` = ``names``,
        in the order of the file."""
        codes = np.asarray([self.position[name] for name in names], np.int64)
        first, rows = self.first[codes], self.rows[codes]
        order = np.argsort(first, kind="stable")
        first, rows = first[order], rows[order]
        # neighbouring runs are read at once
        heads = np.flatnonzero(np.r_[True, first[1:] != first[:-1] + rows[:-1]])[:len(first)]
        ends = np.r_[heads[1:], len(first)][:len(heads)]
        records = flatten([_read(self.spill, int(first[a]), int(first[b - 1] + rows[b - 1] - first[a]))
                           for a, b in zip(heads.tolist(), ends.tolist())], RECORD)
        records = records[records["duration"] != 0]
        local = np.full(len(self.files), -1, np.int32)
        local[codes] = np.arange(len(codes), dtype=np.int32)
        start = np.ascontiguousarray(records["start"])
        return SegmentTable(list(names), self.skeleton.speakers, self.skeleton.emotions,
                            local[self.final[0][records["file"]]], start, start + records["duration"],
                            self.final[1][records["speaker"]], self.final[2][records["emotion"]],
                            np.ascontiguousarray(records["origin"]), self.source)


def _read(spill: IO[bytes], first: int, count: int) -> np.ndarray:
    """``count`` records from the ``first``; at an offset, not at the file's position, which
    processes forked from one another share."""
    size, at = count * RECORD.itemsize, first * RECORD.itemsize
    if hasattr(os, "pread"):
        chunks, got = [], 0
        while got < size:
            chunk = os.pread(spill.fileno(), size - got, at + got)
            if not chunk:
                raise OSError(f"{spill.name}: the spill file ended early")
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
    else:  # no fork there, so no shared position
        spill.seek(at)
        data = spill.read(size)
    return np.frombuffer(data, RECORD)


def index(path: str | os.PathLike, other_format: Callable[[bytes], bool],
          spill: IO[bytes]) -> GroupedRttm | str | None:
    """A ``GroupedRttm`` of a regular RTTM file, its segments written to ``spill`` (a binary
    file open for writing), ``UNGROUPED`` where a file id's lines form several runs, or
    None where the whole-file reader must run (as for ``rttm.read_streamed``: the file
    cannot be opened, ``other_format`` claims its start, a piece is not UTF-8 text, any
    line or label is bad: that reader then gives the error; or ``spill`` cannot be written)."""
    def read(pieces: Iterable[bytes], source: str, _: IO[bytes]) -> GroupedRttm | str:
        found = _index(pieces, source, spill)
        spill.flush()
        if isinstance(found, GroupedRttm):
            found.spill = spill
        return found

    return rttm.read_in_pieces(path, other_format, read)


class _Runs:
    """The runs of SPEAKER lines of one file id, gathered piece by piece."""

    def __init__(self) -> None:
        self.file: list[int] = []
        self.first: list[int] = []
        self.rows: list[int] = []
        self.lo: list[int] = []  # ticks
        self.hi: list[int] = []
        self.seen: set[int] = set()
        self.total = 0

    def add(self, file: np.ndarray, start: np.ndarray, end: np.ndarray) -> bool:
        """Add a piece's rows; False where a file id starts a second run."""
        if not len(file):
            return True
        bounds = np.r_[0, np.flatnonzero(file[1:] != file[:-1]) + 1]
        speech = end > start  # the extent counts segments of positive length, as the engine's
        lo = np.minimum.reduceat(np.where(speech, start, np.iinfo(np.int64).max), bounds)
        hi = np.maximum.reduceat(np.where(speech, end, np.iinfo(np.int64).min), bounds)
        rows = np.diff(np.r_[bounds, len(file)])
        codes = file[bounds].tolist()
        k = 1 if self.file and codes[0] == self.file[-1] else 0
        if k:  # the piece continues the last run
            self.rows[-1] += int(rows[0])
            self.lo[-1] = min(self.lo[-1], int(lo[0]))
            self.hi[-1] = max(self.hi[-1], int(hi[0]))
        new = codes[k:]
        if len(set(new)) < len(new) or not self.seen.isdisjoint(new):
            return False
        self.seen.update(new)
        self.file += new
        self.first += (self.total + bounds[k:]).tolist()
        self.rows += rows[k:].tolist()
        self.lo += lo[k:].tolist()
        self.hi += hi[k:].tolist()
        self.total += len(file)
        return True


def _first_kept(firsts: np.ndarray, codes: np.ndarray, kept: np.ndarray, origin: np.ndarray,
                size: int) -> np.ndarray:
    """``firsts`` (per label code, the line of its first kept row) updated with a piece's rows."""
    if len(firsts) < size:
        firsts = np.r_[firsts, np.full(size - len(firsts), _NEVER)]
    rows = np.flatnonzero(kept & (firsts[codes] == _NEVER))
    if len(rows):
        order = np.argsort(codes[rows], kind="stable")
        sorted_codes = codes[rows][order]
        head = np.r_[True, sorted_codes[1:] != sorted_codes[:-1]]
        firsts[sorted_codes[head]] = origin[rows[order[head]]]
    return firsts


def _final(vocab: Vocab, firsts: np.ndarray, missing: Callable[[Hashable], bool] | None,
           source: str, what: str) -> tuple[list[str], np.ndarray]:
    """The whole table's vocabulary (the labels of kept rows in first-seen order, as
    ``table.build_table`` numbers them) and, per code of ``vocab``, the code in it."""
    values = list(vocab.index)
    firsts = np.r_[firsts, np.full(len(values) - len(firsts), _NEVER)]
    used = np.flatnonzero(firsts < _NEVER)
    used = used[np.argsort(firsts[used], kind="stable")]
    mapping = np.full(len(values), NO_EMOTION, np.int32)
    out: list[str] = []
    for code in used.tolist():
        if missing is not None and missing(values[code]):
            continue
        mapping[code] = len(out)
        out.append(check_label(values[code].decode("utf-8"), source, None, what))
    return out, mapping


def _index(pieces: Iterable[bytes], source: str, spill: IO[bytes]) -> GroupedRttm | str:
    vocabs = (Vocab(), Vocab(), Vocab())
    runs = _Runs()
    firsts = [np.zeros(0, np.int64) for _ in range(3)]
    pairs = []
    zeros, first_zero = 0, 0
    line = 1
    for piece in pieces:
        start, dur, origin, *labels = rttm._columns([piece], source, len(piece), vocabs=vocabs, line=line)
        zero = check_times(start, dur, origin, is_duration=True, names=rttm._NAMES, source=source, locate=int)
        if zero.any():
            if not zeros:
                first_zero = int(origin[np.argmax(zero)])
            zeros += int(zero.sum())
        if not runs.add(labels[0][1], start, start + dur):
            return UNGROUPED
        kept = ~zero
        for k, (vocab, codes) in enumerate(labels):
            firsts[k] = _first_kept(firsts[k], codes, kept, origin, len(vocab.index))
        pairs.append(distinct((labels[0][1][kept].astype(np.int64) << 32) | labels[2][1][kept]))
        records = np.empty(len(start), RECORD)
        for name, column in zip(RECORD.names, (start, dur, origin, *(codes for _, codes in labels))):
            records[name] = column
        spill.write(records.tobytes())
        line += piece.count(b"\n")
    files, file_final = _final(vocabs[0], firsts[0], None, source, "file id")
    speakers, speaker_final = _final(vocabs[1], firsts[1], None, source, "speaker")
    emotions, emotion_final = _final(vocabs[2], firsts[2], rttm._no_emotion, source, "emotion")

    run_file = file_final[np.asarray(runs.file, np.int64)]
    has = run_file >= 0  # a file id whose segments all have zero length is not in the table
    first, rows = np.zeros(len(files), np.int64), np.zeros(len(files), np.int64)
    first[run_file[has]] = np.asarray(runs.first, np.int64)[has]
    rows[run_file[has]] = np.asarray(runs.rows, np.int64)[has]
    lo, hi = np.zeros(len(files), np.int64), np.zeros(len(files), np.int64)
    lo[run_file[has]] = np.asarray(runs.lo, np.int64)[has]
    hi[run_file[has]] = np.asarray(runs.hi, np.int64)[has]
    no_speech = ~(hi > lo)
    lo[no_speech] = hi[no_speech] = 0

    key = distinct(flatten(pairs, np.int64))
    file = file_final[key >> 32]
    emotion = emotion_final[key & 0xFFFFFFFF]
    warnings = [skipped_warning(source, zeros, first_zero)] if zeros else []
    skeleton = SegmentTable(files, speakers, emotions, file.astype(np.int32), lo[file], hi[file],
                            np.zeros(len(file), np.int32), emotion.astype(np.int32),
                            np.zeros(len(file), np.int64), source, warnings)
    return GroupedRttm(source, files, first, rows, run_file[has], (file_final, speaker_final, emotion_final),
                       skeleton)
