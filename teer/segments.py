"""Columnar segment storage shared by the readers and the scoring engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable, Sequence

import numpy as np

from . import ticks as _ticks

NO_EMOTION = -1

#: The largest time (seconds) teer accepts, about 136 years (``teer.ticks.MAX_TICKS``):
#: later times (and end = onset + duration beyond it) are an input error.
MAX_TIME = 2.0 ** 32


class InputError(ValueError):
    """Bad input. ``str(err)`` is the one-line message ``FILE:LINE: problem``."""

    def __init__(self, source: str, location: int | str | None, problem: str):
        self.source = source
        self.location = location
        self.problem = problem
        where = source if location is None else f"{source}:{location}"
        super().__init__(f"{where}: {problem}")

    def __reduce__(self):
        # pickled with its three fields (an error raised in a --jobs worker reaches the parent)
        return type(self), (self.source, self.location, self.problem)


class OptionError(ValueError):
    """An option value that breaks its rule (``teer.options.check_option``). ``str(err)`` is
    ``OPTION problem`` (``collar must be ...``; ``subject``, if given, in place of the name);
    the command line names the option as written there (``--collar must be ...``)."""

    def __init__(self, option: str, problem: str, subject: str | None = None):
        self.option = option
        self.problem = problem
        self.subject = subject
        super().__init__(f"{subject or option} {problem}")

    def __reduce__(self):
        return type(self), (self.option, self.problem, self.subject)


@dataclass
class SegmentTable:
    """Segments of many files as parallel numpy arrays.

    ``file``, ``speaker`` and ``emotion`` hold indices into the vocabularies
    ``files``, ``speakers`` and ``emotions``; ``emotion`` is ``NO_EMOTION`` (-1)
    where a segment has none. Speaker names are global strings: the same name
    in two files is looked up in the same vocabulary but the engine always
    keys speakers by (file, speaker). ``start`` and ``end`` are int64 ticks
    (``teer.ticks``: nanoseconds). ``origin`` gives, per segment, its line
    number (RTTM) or index (JSON) in ``source`` for messages.
    """

    files: list[str]
    speakers: list[str]
    emotions: list[str]
    file: np.ndarray
    start: np.ndarray
    end: np.ndarray
    speaker: np.ndarray
    emotion: np.ndarray
    origin: np.ndarray
    source: str = "<memory>"
    warnings: list[str] = field(default_factory=list)
    #: each file's duration in ticks where the format gives one (SpeechBrain's ZED
    #: annotation): the recording covers [0, duration]
    durations: dict[str, int] | None = None
    #: (start, end) as the float seconds given, for segments given as floats (the Python
    #: API): the ser-align preset compares them as pyannote's ``Segment`` does; None
    #: where the times were read from text (their floats are the ticks' nearest doubles)
    seconds: tuple[np.ndarray, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.start)

    @classmethod
    def empty(cls, source: str = "<memory>") -> "SegmentTable":
        i32 = np.zeros(0, dtype=np.int32)
        i64 = np.zeros(0, dtype=np.int64)
        return cls([], [], [], i32, i64, i64.copy(), i32.copy(), i32.copy(),
                   np.zeros(0, dtype=np.int64), source)

    @classmethod
    def from_columns(
        cls,
        files: Sequence[str],
        starts: Sequence[float] | np.ndarray,
        ends: Sequence[float] | np.ndarray,
        speakers: Sequence[str],
        emotions: Sequence[str | None],
        origin: Sequence[int] | np.ndarray | None = None,
        source: str = "<memory>",
        *,
        in_ticks: bool = False,
    ) -> "SegmentTable":
        """Build a table from per-segment columns (labels as strings; times in seconds,
        converted once to ticks by ``teer.ticks.of_seconds``, or already in ticks)."""
        file_vocab, file_idx = encode(files)
        spk_vocab, spk_idx = encode(speakers)
        has = [e is not None for e in emotions]
        emo_vocab, emo_idx = encode([e for e in emotions if e is not None])
        emotion = np.full(len(has), NO_EMOTION, dtype=np.int32)
        emotion[np.asarray(has, dtype=bool)] = emo_idx
        n = len(file_idx)
        seconds = None
        if not in_ticks:
            seconds = (np.asarray(starts, dtype=np.float64).reshape(n), np.asarray(ends, dtype=np.float64).reshape(n))
        return cls(
            files=file_vocab,
            speakers=spk_vocab,
            emotions=emo_vocab,
            file=file_idx,
            start=_as_ticks(starts, n, in_ticks) if seconds is None else _ticks.of_seconds(seconds[0]),
            end=_as_ticks(ends, n, in_ticks) if seconds is None else _ticks.of_seconds(seconds[1]),
            speaker=spk_idx,
            emotion=emotion,
            origin=(np.arange(1, n + 1, dtype=np.int64) if origin is None
                    else np.asarray(origin, dtype=np.int64)),
            source=source,
            seconds=seconds,
        )

    def records(self) -> list[dict]:
        """The segments as plain dicts (file, start, end, speaker, emotion), times in float seconds."""
        return [
            {
                "file": self.files[f],
                "start": s / _ticks.TICKS_PER_SECOND,
                "end": e / _ticks.TICKS_PER_SECOND,
                "speaker": self.speakers[k],
                "emotion": None if m == NO_EMOTION else self.emotions[m],
            }
            for f, s, e, k, m in zip(self.file.tolist(), self.start.tolist(), self.end.tolist(),
                                     self.speaker.tolist(), self.emotion.tolist())
        ]

    def select(self, mask: np.ndarray) -> "SegmentTable":
        """A table with the rows where ``mask`` is true (vocabularies kept)."""
        return SegmentTable(
            self.files, self.speakers, self.emotions, self.file[mask], self.start[mask],
            self.end[mask], self.speaker[mask], self.emotion[mask], self.origin[mask],
            self.source, list(self.warnings), self.durations,
            None if self.seconds is None else (self.seconds[0][mask], self.seconds[1][mask]),
        )

    def select_files(self, names: Iterable[str]) -> "SegmentTable":
        """A table with the segments of the files named (vocabularies kept; unknown names ignored)."""
        wanted = set(names)
        codes = [i for i, name in enumerate(self.files) if name in wanted]
        return self.select(np.isin(self.file, np.array(codes, dtype=self.file.dtype)))

    def relabel_emotions(self, emotions: list[str], emotion: np.ndarray) -> "SegmentTable":
        """A table with a new emotion vocabulary and per-segment indices."""
        return SegmentTable(
            self.files, self.speakers, list(emotions), self.file, self.start, self.end,
            self.speaker, np.asarray(emotion, dtype=np.int32), self.origin, self.source,
            list(self.warnings), self.durations, self.seconds,
        )

    def has_emotions(self) -> bool:
        """Whether any segment has an emotion label."""
        return bool((self.emotion != NO_EMOTION).any())

    def file_names(self) -> set[str]:
        return {self.files[i] for i in distinct(self.file).tolist()}


def _as_ticks(values, n: int, in_ticks: bool) -> np.ndarray:
    if in_ticks:
        return np.asarray(values, dtype=np.int64).reshape(n)
    return _ticks.of_seconds(np.asarray(values, dtype=np.float64).reshape(n))


def reference_problems(table: SegmentTable, locate=int) -> list[InputError]:
    """What makes a table unusable as a reference: no segments, or emotion labels on
    some segments but not on all (each segment without one is a problem).

    ``locate`` turns an ``origin`` into the location shown (a line number by default).
    The readers raise the first problem (``teer.io.load_reference``, ``teer.api``);
    ``teer validate`` lists them all.
    """
    if len(table) == 0:
        return [InputError(table.source, None, "reference has no segments")]
    missing = table.emotion == NO_EMOTION
    if not missing.any() or missing.all():
        return []
    return [InputError(table.source, locate(int(o)), "segment has no emotion label, but others do")
            for o in table.origin[missing]]


class _Codes(dict):
    """A dict that gives an unseen key the next code: lookups of known keys stay
    at C speed, and Python runs only once per distinct label."""

    __slots__ = ()

    def __missing__(self, key: Hashable) -> int:
        code = self[key] = len(self)
        return code


class Vocab:
    """Labels to dense codes in first-seen order, fed one column chunk at a time."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = _Codes()

    def encode(self, column: Sequence[Hashable]) -> np.ndarray:
        # One pass: each lookup of a new label numbers it (first-seen order).
        return np.fromiter(map(self.index.__getitem__, column), dtype=np.int32, count=len(column))


def encode(values: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values in first-seen order, and each value's index among them.

    The one label-to-code encoding (``Vocab``): readers, relabelling and vocabulary
    merges use it.
    """
    vocab = Vocab()
    codes = vocab.encode(values)
    return list(vocab.index), codes


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an integer array: ``np.unique`` without its import
    of ``numpy.ma`` (milliseconds of start-up that a small run does not otherwise pay)."""
    ordered = np.sort(values, kind="stable")
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def unique_inverse(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` of non-negative integers (the inverse as
    int64): by a count over the key range where that is small (speaker numbers, a
    batch's files times its speaker names), else by ``np.unique``'s sort."""
    size = int(key.max()) + 1 if len(key) else 0
    if size > 4 * len(key) + 4096:
        uniq, inverse = np.unique(key, return_inverse=True)
        return uniq, inverse.astype(np.int64).reshape(-1)
    present = np.zeros(size, bool)
    present[key] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present), rank[key]


def extents(codes: np.ndarray, start: np.ndarray, end: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per code ``0 .. n - 1``, the smallest ``start`` and the largest ``end`` of its rows
    (the dtype's largest and smallest value for a code without rows)."""
    return reduce_by_code(np.minimum, codes, start, n), reduce_by_code(np.maximum, codes, end, n)


def reduce_by_code(ufunc: np.ufunc, codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per code ``0 .. n - 1``, the ``np.minimum`` or ``np.maximum`` of its rows' ``values``
    (``inf`` or ``-inf`` for floats, the dtype's largest or smallest value for integers,
    for a code without rows).

    Rows grouped by code (a file's segments together, the usual input) are reduced
    group by group; others through ``ufunc.at``, several times slower. Minima and
    maxima are exact in any order: both ways give the same values.
    """
    if values.dtype.kind == "f":
        empty = np.inf if ufunc is np.minimum else -np.inf
    else:
        info = np.iinfo(values.dtype)
        empty = info.max if ufunc is np.minimum else info.min
    out = np.full(n, empty, dtype=values.dtype)
    if len(codes) == 0:
        return out
    if (codes[1:] >= codes[:-1]).all():
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        out[codes[first]] = ufunc.reduceat(values, first)
    else:
        ufunc.at(out, codes, values)
    return out


def concat_vocab(tables: Sequence[SegmentTable], attr: str) -> tuple[list[str], list[np.ndarray]]:
    """Merge one vocabulary (``files``, ``speakers`` or ``emotions``) across tables.

    Returns the merged vocabulary and, per table, the array that maps its old
    indices to the merged ones.
    """
    vocabs = [getattr(t, attr) for t in tables]
    merged, codes = encode([v for vocab in vocabs for v in vocab])
    bounds = np.cumsum([0] + [len(vocab) for vocab in vocabs])
    return merged, [codes[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def remap(codes: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """Apply an index mapping, keeping negative codes (missing labels) as they are."""
    if len(mapping) == 0 or np.array_equal(mapping, np.arange(len(mapping))):  # (tables that share a vocabulary)
        return codes.astype(np.int32)
    out = mapping[np.maximum(codes, 0)]
    return np.where(codes < 0, codes, out).astype(np.int32)
