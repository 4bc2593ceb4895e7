"""Building a segment table from a reader's columns."""
from __future__ import annotations

from typing import Callable, Hashable, Iterable, Sequence

import numpy as np

from ..messages import zero_duration_skipped
from ..segments import NO_EMOTION, SegmentTable, Vocab
from .values import Locate, check_labels, check_times, describe


def encode_column(column: Sequence[Hashable]) -> tuple[Vocab, np.ndarray]:
    """A whole label column: its vocabulary and codes, as ``build_table`` takes them."""
    vocab = Vocab()
    return vocab, vocab.encode(column)


def _finish_labels(vocab: Vocab, codes: np.ndarray, keep: np.ndarray | None,
                   missing: Callable[[Hashable], bool] | None) -> tuple[list[str], np.ndarray]:
    """Drop unused and missing entries, decode bytes, renumber in first-seen order."""
    values = list(vocab.index)
    if keep is not None:
        codes = codes[keep]
        # Rows were dropped: some labels may now be unused, and first-seen order
        # must be recomputed over the kept rows to match SegmentTable.from_columns.
        uniq, first = np.unique(codes, return_index=True)
        used = uniq[np.argsort(first, kind="stable")]
    else:
        used = np.arange(len(values))
    mapping = np.full(len(values), NO_EMOTION, dtype=np.int32)
    out: list[str] = []
    for code in used.tolist():
        value = values[code]
        if missing is not None and missing(value):
            continue
        mapping[code] = len(out)
        out.append(value.decode("utf-8") if isinstance(value, bytes) else value)
    if np.array_equal(mapping, np.arange(len(values))):
        return out, codes
    return out, mapping[codes]


def build_table(source: str, locate: Locate, start: np.ndarray, second: np.ndarray,
                origin: np.ndarray, *, is_duration: bool, names: tuple[str, str],
                files: tuple[Vocab, np.ndarray], speakers: tuple[Vocab, np.ndarray],
                emotions: tuple[Vocab, np.ndarray],
                no_emotion: Callable[[Hashable], bool], seconds: np.ndarray | None = None) -> SegmentTable:
    """Validate times (ticks), drop zero-length segments with a warning, and assemble the table
    (``seconds``: the (start, end) floats the format gave too, ``SegmentTable.seconds``)."""
    start = np.asarray(start, dtype=np.int64)
    second = np.asarray(second, dtype=np.int64)
    origin = np.asarray(origin, dtype=np.int64)
    zero = check_times(start, second, origin, is_duration=is_duration, names=names,
                       source=source, locate=locate)
    warnings: list[str] = []
    keep = None
    if zero.any():
        warnings.append(skipped_warning(source, int(zero.sum()), locate(int(origin[np.argmax(zero)]))))
        keep = ~zero
        start, second, origin = start[keep], second[keep], origin[keep]
        seconds = None if seconds is None else seconds[:, keep]
    file_vocab, file_codes = _finish_labels(*files, keep, None)
    spk_vocab, spk_codes = _finish_labels(*speakers, keep, None)
    emo_vocab, emo_codes = _finish_labels(*emotions, keep, no_emotion)
    for vocab, codes, what in ((file_vocab, file_codes, "file id"), (spk_vocab, spk_codes, "speaker"),
                               (emo_vocab, emo_codes, "emotion")):
        check_labels(vocab, codes, origin, source, locate, what)
    end = start + second if is_duration else second
    return SegmentTable(file_vocab, spk_vocab, emo_vocab, file_codes, start, end,
                        spk_codes, emo_codes, origin, source, warnings,
                        seconds=None if seconds is None else (seconds[0], seconds[1]))


def labelled_table(source: str, locate: Locate, files: Sequence[str], starts: Sequence[int],
                   seconds: Sequence[int], speakers: Sequence[str], emotions: Sequence[str | None],
                   origin: Sequence[int] | None = None, *, is_duration: bool, names: tuple[str, str],
                   floats: np.ndarray | None = None) -> SegmentTable:
    """``build_table`` of a reader's Python columns: labels as strings (an emotion None where
    there is none), times in ticks (``seconds`` the ends or the durations), ``origin`` by
    default each segment's index; ``floats`` the (start, end) floats given too."""
    return build_table(source, locate, np.array(starts, dtype=np.int64), np.array(seconds, dtype=np.int64),
                       np.arange(len(starts), dtype=np.int64) if origin is None else np.array(origin, dtype=np.int64),
                       is_duration=is_duration, names=names, files=encode_column(files),
                       speakers=encode_column(speakers), emotions=encode_column(emotions),
                       no_emotion=_is_none, seconds=floats)


def _is_none(label: Hashable) -> bool:
    return label is None


def as_columns(rows: Sequence[tuple], width: int) -> list[list]:
    """Rows of ``width`` values as that many columns (empty ones for no rows)."""
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


def skipped_warning(source: str, n: int, first: int | str) -> str:
    """The warning of a reader that skipped ``n`` zero-duration segments, the first at ``first``."""
    return zero_duration_skipped(source, n, describe(first))


def flatten(chunks: Iterable[np.ndarray], dtype) -> np.ndarray:
    chunks = list(chunks)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def rows_table(files, starts, durs, speakers, emotions, origins, source: str) -> SegmentTable:
    """The good rows a problem lister kept, as a table (zero-duration ones skipped, with a warning)."""
    keep = [i for i, d in enumerate(durs) if d > 0]
    table = SegmentTable.from_columns([files[i] for i in keep], [starts[i] for i in keep],
                                      [starts[i] + durs[i] for i in keep], [speakers[i] for i in keep],
                                      [emotions[i] for i in keep], [origins[i] for i in keep], source,
                                      in_ticks=True)
    skipped = len(durs) - len(keep)
    if skipped:
        table.warnings.append(zero_duration_skipped(source, skipped))
    return table
