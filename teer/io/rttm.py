"""RTTM: ``SPEAKER file chnl onset dur ortho stype name conf [slat]``.

The emotion label is the ``ortho`` field (6th); ``<NA>`` there means none.
The speaker is the ``name`` field (8th). Blank lines, ``;;`` and ``#``
comments and lines of the other RTTM record types are ignored; a line that is
none of these is an error (the file is in another format).
"""
from __future__ import annotations

import os
import stat
from typing import IO, Callable, Iterable, Iterator, TypeVar

import numpy as np

from ..segments import NO_EMOTION, InputError, SegmentTable, Vocab
from .table import build_table, rows_table
import re

from .. import ticks
from .text import check_encoding, read_bytes, read_whole_only
from .values import check_times, to_ticks
from .writing import check_writable_label, target_name, write_text
from .formats import Format
from . import rttm_bulk

_NAMES = ("onset", "duration")
# Column positions in a SPEAKER line.
_FILE, _ONSET, _DUR, _EMOTION, _SPEAKER = 1, 3, 4, 5, 7
# The fast path splits the file in pieces of about this size: the token lists
# of a whole large file cost more (memory traffic) than the extra bookkeeping,
# and pieces that stay in the CPU caches are fastest (64 KiB: ~10 % faster than 1 MiB).
_CHUNK = 1 << 16
# A stand-in token for each newline, so that a flat token list still shows
# where lines end. NUL cannot occur: check_encoding rejects files with NUL bytes.
_EOL = b"\x00"
# The bulk reader's pieces: its per-piece cost is a few hundred numpy calls, and pieces
# of this size amortise them while the arrays stay in the CPU caches.
_BULK = 1 << 18


#: the record types of NIST's RTTM (RT-09); teer reads SPEAKER lines and skips the others
RECORD_TYPES = frozenset(b"SEGMENT NOSCORE NO_RT_METADATA LEXEME NON-LEX NON-SPEECH FILLER EDIT IP SU CB "
                         b"A/P SPEAKER SPKR-INFO".split())
EXPECTED = ("teer reads RTTM (SPEAKER file chnl onset dur emotion stype speaker conf [slat]) "
            "or JSON (a SegLST list of segments, or {file id: [segments]})")


def _no_emotion(label: bytes) -> bool:
    return label.lower() == b"<na>"


def is_skipped(fields: list[bytes], source: str, number: int) -> bool:
    """Whether a line is a comment, blank or a record other than SPEAKER; any other
    line (a CSV row, a line of another format) is an error, so that a file in the
    wrong format is not read as an RTTM with no segments."""
    if not fields or fields[0].startswith((b";;", b"#")):
        return True
    if fields[0] == b"SPEAKER":
        return False
    if fields[0] in RECORD_TYPES:
        return True
    shown = fields[0].decode("utf-8", "replace")
    raise InputError(source, number, f"not an RTTM line ({shown[:40]!r} is not an RTTM record type); {EXPECTED}")


def read_rttm(path: str | os.PathLike) -> SegmentTable:
    """Read an RTTM file; ``origin`` holds each segment's 1-based line number."""
    data, source = read_bytes(path)
    return parse_rttm(data, source)


def parse_rttm(data: bytes, source: str) -> SegmentTable:
    """Parse RTTM content; ``source`` names it in messages."""
    check_encoding(data, source)
    start, dur, origin, files, speakers, emotions = _columns([data], source, len(data))
    return build_table(source, int, start, dur, origin, is_duration=True,
                       names=_NAMES, files=files, speakers=speakers, emotions=emotions,
                       no_emotion=_no_emotion)


# A file is read in pieces of about this size, so that its text is never held whole: at
# 10 M lines per side, the two files' text was 1.2 GB of the peak memory. A piece and its
# copies are alive at once: 1 MiB reads as fast as 16 MiB and keeps them out of the peak.
_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"


T = TypeVar("T")

class _NotText(Exception):
    """A piece of the file is not UTF-8 text: the whole-file reader says where."""


def read_streamed(path: str | os.PathLike, other_format: Callable[[bytes], bool]) -> SegmentTable | None:
    """``read_rttm`` reading the file in pieces, or None where the whole-file reader must run
    (see ``read_in_pieces``)."""
    return read_in_pieces(path, other_format, _table_of_pieces)


def _table_of_pieces(pieces: Iterator[bytes], source: str, f: IO[bytes]) -> SegmentTable:
    start, dur, origin, files, speakers, emotions = _columns(pieces, source, os.fstat(f.fileno()).st_size)
    return build_table(source, int, start, dur, origin, is_duration=True,
                       names=_NAMES, files=files, speakers=speakers, emotions=emotions,
                       no_emotion=_no_emotion)


def read_in_pieces(path: str | os.PathLike, other_format: Callable[[bytes], bool],
                   read: Callable[[Iterator[bytes], str, IO[bytes]], T]) -> T | None:
    """``read(pieces, source, file)`` over a regular file read in pieces, or None where the
    whole-file reader must run.

    None where the file cannot be opened, where ``other_format`` claims its start,
    where it is not a regular file, where a piece is not UTF-8 text or where reading
    fails (an error in the file included): the whole-file reader then gives the same
    table or the same error as always.
    """
    source = os.fspath(path)
    if read_whole_only(source):  # standard input, gzip
        return None
    try:
        # a pipe cannot be opened or read twice, devices have their own checks: files only
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None
        f = open(source, "rb")
    except OSError:
        return None
    with f:
        try:
            pieces = _pieces(f)
            first = next(pieces)
            if other_format(first):
                return None
            return read(_chain(first, pieces), source, f)
        except (InputError, _NotText, OSError):
            return None


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _pieces(f: IO[bytes]) -> Iterator[bytes]:
    """The file in pieces that end at line ends (but the last), the first without a UTF-8
    BOM; each checked to be UTF-8 text (a piece ends at a line end: no character is cut)."""
    rest = b""
    first = True
    while True:
        read = f.read(_BLOCK)
        data = rest + read if rest else read
        if first:
            first = False
            if data.startswith(_BOM):
                data = data[len(_BOM):]
        if not read:
            yield _text(data)
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            rest = data
            continue
        rest = data[cut:]
        yield _text(data[:cut])


def _text(piece: bytes) -> bytes:
    if b"\x00" in piece:
        raise _NotText
    if not piece.isascii():
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotText from None
    return piece


def _columns(blocks: Iterable[bytes], source: str, size: int | None = None,
             vocabs: tuple[Vocab, Vocab, Vocab] | None = None, line: int = 1):
    """Columns of the SPEAKER lines, read a piece of about ``_CHUNK`` bytes at a time.

    ``line`` is the number of the first line of ``blocks``; ``vocabs`` (file ids,
    speakers, emotions) code the labels, so that the parts of one file read in
    several calls share their codes (fresh ones by default).

    A piece of about ``_BULK`` bytes of the plainest shape (single spaces, plain
    decimals: the usual case) is read from its bytes by ``teer.io.rttm_bulk``. Any
    other is read ``_CHUNK`` bytes at a time: a chunk made only of SPEAKER lines with
    one field count from flat token lists with strided slices, so Python does per-line
    work only inside C loops; any other chunk (comments, blank lines, other line types, mixed
    field counts, bad numbers) is read line by line, which also names the first bad
    line: a comment costs the speed of its piece, not of the whole file. ``size``: the
    number of bytes of ``blocks`` together, where known.
    """
    vocabs = vocabs or (Vocab(), Vocab(), Vocab())
    label_columns = tuple(rttm_bulk.LabelColumn(vocab) for vocab in vocabs)
    columns = _Columns(size)
    for data in blocks:  # the whole content, or pieces of it that end at line ends
        for piece in _cut(data, _BULK):
            bulk = rttm_bulk.read_piece(piece, label_columns)
            if bulk is not None:
                start, dur, codes = bulk
                columns.add(start, dur, np.arange(line, line + len(start), dtype=np.int64), *codes)
                line += len(start)
                continue
            for chunk in _cut(piece, _CHUNK):
                lines = chunk.count(b"\n")
                start, dur, offset, labels = _piece_fast(chunk, lines) or _piece_slow(chunk, source, line)
                offset += line
                columns.add(start, dur, offset, *(vocab.encode(column) for vocab, column in zip(vocabs, labels)))
                line += lines
    start, dur, origin, *codes = columns.finish()
    return (start, dur, origin, *zip(vocabs, codes))


def _cut(data: bytes, size: int) -> Iterator[bytes]:
    """``data`` in pieces of about ``size`` bytes that end at line ends (a newline added
    to the last if it has none)."""
    n = len(data)
    pos = 0
    while pos < n:
        cut = data.find(b"\n", min(pos + size, n))
        cut = n if cut < 0 else cut + 1
        piece = data[pos:cut]
        pos = cut
        yield piece if piece.endswith(b"\n") else piece + b"\n"


#: the fewest bytes a SPEAKER line takes (9 one-character fields but the 7 of ``SPEAKER``,
#: 8 separators, the newline): a text of ``size`` bytes has at most ``size // 24 + 1`` segments
_SHORTEST_LINE = 24


class _Columns:
    """The columns ``_columns`` returns (onset, duration, line, three label codes), written
    into arrays as the pieces are read.

    With the size of the text known, each array is allocated once for the most segments
    that text can hold and cut to length at the end: memory the pieces never write to is
    never touched, so it takes no room, and no list of per-piece arrays is joined at the
    end (which held every column twice, and left the pieces' memory to the allocator)."""

    DTYPES = (np.int64, np.int64, np.int64, np.int32, np.int32, np.int32)

    def __init__(self, size: int | None):
        capacity = 1 << 12 if size is None else size // _SHORTEST_LINE + 1
        self.arrays = [np.empty(capacity, dtype) for dtype in self.DTYPES]
        self.n = 0

    def add(self, *values: np.ndarray) -> None:
        n, m = self.n, len(values[0])
        if n + m > len(self.arrays[0]):
            for a in self.arrays:
                # in place where the allocator can (refcheck: the arrays are never shared)
                a.resize(max(n + m, 2 * len(a)), refcheck=False)
        for a, v in zip(self.arrays, values):
            a[n:n + m] = v
        self.n = n + m

    def finish(self) -> list[np.ndarray]:
        for a in self.arrays:
            a.resize(self.n, refcheck=False)
        return self.arrays


def _piece_fast(chunk: bytes, lines: int):
    """(onsets, durations, line offsets, label columns) of a piece of only SPEAKER lines
    with one field count, else None."""
    tokens = chunk.replace(b"\n", b" " + _EOL + b" ").split()
    width = tokens.index(_EOL) + 1
    # Every line is exactly `width - 1` fields plus its end marker iff the
    # markers sit at every stride position (there are exactly `lines` of them).
    if (width not in (10, 11) or len(tokens) != width * lines
            or tokens[width - 1::width].count(_EOL) != lines
            or tokens[0::width].count(b"SPEAKER") != lines):
        return None
    onsets, durations = tokens[_ONSET::width], tokens[_DUR::width]
    # float() also reads "1_0" as 10, "inf" and non-ASCII digits: only plain decimals of
    # at most 9 digits after the point, without exponent, below 2**22 s (7 digits before
    # the point), whose nearest tick is then the decimal's (``teer.ticks``); any other
    # piece goes to the exact per-line reader
    if not _PLAIN_TIMES.fullmatch(b" ".join(onsets) + b" " + b" ".join(durations)):
        return None
    try:
        start = ticks.of_seconds(np.fromiter(map(float, onsets), np.float64, lines))
        dur = ticks.of_seconds(np.fromiter(map(float, durations), np.float64, lines))
    except ValueError:  # (".")
        return None
    return (start, dur, np.arange(lines, dtype=np.int64),
            [tokens[col::width] for col in (_FILE, _SPEAKER, _EMOTION)])


#: time tokens the token reader reads through float() (see ``_piece_fast``)
_PLAIN_TIMES = re.compile(rb"(?:[0-9]{0,6}(?:\.[0-9]{0,9})? )*[0-9]{0,6}(?:\.[0-9]{0,9})?")


def _piece_slow(chunk: bytes, source: str, first_line: int):
    """The same columns, line by line; ``InputError`` names the first bad line."""
    starts: list[int] = []
    durs: list[int] = []
    offsets: list[int] = []
    cols: tuple[list, list, list] = ([], [], [])
    for offset, line in enumerate(chunk.split(b"\n")):
        fields = line.split()
        number = first_line + offset
        if is_skipped(fields, source, number):
            continue
        if len(fields) < 9:
            raise InputError(source, number,
                             f"too few fields: expected 9 or 10, found {len(fields)}")
        if len(fields) > 10:
            raise InputError(source, number,
                             f"too many fields: expected 9 or 10, found {len(fields)}")
        starts.append(to_ticks(fields[_ONSET], source, number, _NAMES[0]))
        durs.append(to_ticks(fields[_DUR], source, number, _NAMES[1]))
        offsets.append(offset)
        for out, col in zip(cols, (_FILE, _SPEAKER, _EMOTION)):
            out.append(fields[col])
    return (np.array(starts, dtype=np.int64), np.array(durs, dtype=np.int64),
            np.array(offsets, dtype=np.int64), cols)


def format_rttm(table: SegmentTable, target: str = "<memory>") -> str:
    """The table as RTTM text (10 fields, ``<NA>`` where a segment has no emotion)."""
    for what, vocab, codes in (("file id", table.files, table.file),
                               ("speaker", table.speakers, table.speaker),
                               ("emotion", table.emotions, table.emotion)):
        # Only labels in use: a selected table keeps its whole vocabulary.
        for code in np.unique(codes).tolist():
            if code != NO_EMOTION:
                check_writable_label(vocab[code], what, target)
    lines = []
    for f, s, e, k, m in zip(table.file.tolist(), table.start.tolist(), table.end.tolist(),
                             table.speaker.tolist(), table.emotion.tolist()):
        emotion = "<NA>" if m == NO_EMOTION else table.emotions[m]
        # exact decimals of the ticks: they read back as the same ticks
        lines.append(f"SPEAKER {table.files[f]} 1 {ticks.text(s)} {ticks.text(e - s)} {emotion} "
                     f"<NA> {table.speakers[k]} <NA> <NA>\n")
    return "".join(lines)


def write_rttm(table: SegmentTable, path_or_file: str | os.PathLike | IO[str]) -> None:
    """Write the table as RTTM to a path (atomically) or an open text file."""
    target = target_name(path_or_file)
    write_text(path_or_file, format_rttm(table, target))


def problems(data: bytes, source: str) -> tuple[SegmentTable, Callable, list[str]]:
    """RTTM line by line: every bad SPEAKER line is a problem; the good ones make the table."""
    files, speakers, emotions, starts, durs, origins = [], [], [], [], [], []
    problems = []
    foreign = False  # only the first line of another format is reported: a CSV file is one problem
    for number, line in enumerate(data.split(b"\n"), 1):
        fields = line.split()
        try:
            if is_skipped(fields, source, number):
                continue
        except InputError as err:
            if not foreign:
                problems.append(str(err))
            foreign = True
            continue
        if not 9 <= len(fields) <= 10:
            few = "too few" if len(fields) < 9 else "too many"
            problems.append(str(InputError(source, number, f"{few} fields: expected 9 or 10, found {len(fields)}")))
            continue
        try:
            onset = to_ticks(fields[3], source, number, "onset")
            dur = to_ticks(fields[4], source, number, "duration")
            check_times(np.array([onset]), np.array([dur]), np.array([number]), is_duration=True,
                        names=("onset", "duration"), source=source, locate=int)
        except InputError as err:
            problems.append(str(err))
            continue
        files.append(fields[1].decode())
        speakers.append(fields[7].decode())
        emotion = fields[5].decode()
        emotions.append(None if emotion.lower() == "<na>" else emotion)
        starts.append(onset)
        durs.append(dur)
        origins.append(number)
    return rows_table(files, starts, durs, speakers, emotions, origins, source), int, problems


def read(data: bytes, source: str) -> tuple[SegmentTable, Callable]:
    """RTTM content as a table; locations are line numbers."""
    return parse_rttm(data, source), int


# RTTM is the format of any content no other format recognises (tried last)
FORMAT = Format("RTTM", recognise=lambda data: True, read=read, problems=problems, write=write_rttm)
