"""Pieces every reader shares: reading files, numbers, time checks, label encoding."""
from __future__ import annotations

import bisect
import math
import os
import re
import stat
from typing import Callable, Hashable, Iterable, Sequence

import numpy as np

from ..segments import MAX_TIME, NO_EMOTION, InputError, SegmentTable, Vocab

#: Maps a segment's origin to where it is, for messages: a line number (RTTM, UEM)
#: or a string such as "segment [3]" (JSON).
Locate = Callable[[int], "int | str"]

_UTF8_BOM = b"\xef\xbb\xbf"


def read_bytes(path: str | os.PathLike) -> tuple[bytes, str]:
    """The file's bytes (UTF-8 BOM removed) and its name for messages."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            data = f.read() if stat.S_ISREG(os.fstat(f.fileno()).st_mode) else _read_stream(f, source)
    except FileNotFoundError:
        raise InputError(source, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, None, "is a directory") from None
    except PermissionError:
        raise InputError(source, None, "permission denied") from None
    except OSError as err:
        raise InputError(source, None, f"cannot read ({err.strerror or err})") from None
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    return data, source


def _read_stream(f, source: str) -> bytes:
    """A pipe or a device, read a block at a time: one that yields NUL bytes (/dev/zero,
    /dev/urandom) is no text file and is refused at its first block, not read forever."""
    blocks = []
    while True:
        block = f.read(1 << 20)
        if not block:
            return b"".join(blocks)
        blocks.append(block)
        if b"\x00" in block:
            check_encoding(b"".join(blocks), source)  # raises, with the line


def check_text(data: bytes, source: str) -> str:
    """Reject binary files and non-UTF-8 text; return the decoded text."""
    check_encoding(data, source)
    return data.decode("utf-8")


def check_encoding(data: bytes, source: str) -> None:
    """``check_text`` without keeping the text: pure ASCII (the usual case) is
    checked without decoding, which saves a copy of the file in memory."""
    nul = data.find(b"\x00")
    if nul >= 0:
        # UTF-16 text is full of NULs; say so, since the fix (re-encode) differs
        # from the fix for a binary file (wrong path).
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise InputError(source, None, "not UTF-8 (looks like UTF-16; convert it to UTF-8)")
        raise InputError(source, _line_of(data, nul), "not a text file (contains NUL bytes)")
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = data[err.start]
        raise InputError(source, _line_of(data, err.start),
                         f"not UTF-8 (invalid byte 0x{bad:02x})") from None


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


# One rule for numbers in every format: ASCII decimal, optional sign, fraction and
# exponent (no "1_0", no non-ASCII digits, no hexadecimal); "inf" and "nan" are read
# so that the message can say "not a finite number".
_NUMBER = r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))"
_NUMBER_STR = re.compile(_NUMBER + r"\Z")
_NUMBER_BYTES = re.compile(_NUMBER.encode() + rb"\Z")


def is_number(token: str | bytes) -> bool:
    """Whether ``token`` is a number as teer reads them (ASCII decimal, see ``_NUMBER``)."""
    return (_NUMBER_BYTES if isinstance(token, bytes) else _NUMBER_STR).match(token) is not None


def to_float(value: object, source: str, location: int | str, name: str) -> float:
    """One time value from a token or a JSON value; non-finite values pass (see check_times)."""
    # bool is an int subclass, but true/false as a time is surely a mistake.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # a JSON integer beyond float range
            raise InputError(source, location, f"{name} {_short(str(value))} is not a finite number") from None
    if isinstance(value, (str, bytes)):
        if is_number(value):
            return float(value)
        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        raise InputError(source, location, f"{name} {_short(shown)!r} is not a number"
                         + (" (ASCII decimal digits only)" if _python_float(shown) else ""))
    raise InputError(source, location, f"{name} must be a number, found {json_type(value)}")


# A label is printed in tables and messages and written as UTF-8: no control
# characters (a newline would break a line-oriented output) and no lone surrogates
# (from JSON "\ud800" escapes; they cannot be encoded).
_BAD_LABEL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def check_label(label: str, source: str, location: int | str | None, what: str) -> str:
    """``label`` if it has no control character nor lone surrogate, else ``InputError``."""
    if _BAD_LABEL.search(label):
        check_labels([label], np.zeros(1, np.int32), np.zeros(1, np.int64), source, lambda _: location, what)
    return label


def check_labels(labels: Sequence[str], codes: np.ndarray, origin: np.ndarray, source: str,
                 locate: Locate, what: str) -> None:
    """Raise for the first label with a control character or a lone surrogate, naming
    the first segment that carries it."""
    for code, label in enumerate(labels):
        bad = _BAD_LABEL.search(label)
        if bad is None:
            continue
        rows = np.flatnonzero(codes == code)
        where = locate(int(origin[rows[0]])) if len(rows) else None
        kind = "a lone surrogate" if "\ud800" <= bad.group() <= "\udfff" else "a control character"
        raise InputError(source, where, f"{what} {_short(label)!r} contains {kind} ({bad.group()!r})")


def _python_float(text: str) -> bool:
    """Whether Python's float() reads ``text`` (as "1_0" or "١٠", which teer does not)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _short(text: str, limit: int = 40) -> str:
    """A value cut for a message (a 5000-digit number is not worth printing)."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def json_type(value: object) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def expect_object(entry: object, keys: Sequence[str], source: str, where: str) -> None:
    """A JSON value that must be an object (with ``keys``): an error naming it otherwise."""
    if not isinstance(entry, dict):
        raise InputError(source, where, f"expected an object with keys {', '.join(keys)}, found {json_type(entry)}")


def grouped_locate(offsets: list[int], names: list[str], where: Callable[[str, int], str]) -> Locate:
    """Locate a running index over groups (files) given each group's first index and name:
    ``where(name, index within the group)``."""
    def locate(origin: int) -> str:
        k = bisect.bisect_right(offsets, origin) - 1
        return where(names[k], origin - offsets[k])

    return locate


def describe(location: int | str) -> str:
    """A location as words inside a sentence: ``line 12`` or ``segment [3]``."""
    return f"line {location}" if isinstance(location, int) else location


def check_times(start: np.ndarray, second: np.ndarray, origin: np.ndarray, *,
                is_duration: bool, names: tuple[str, str], source: str,
                locate: Locate) -> np.ndarray:
    """Validate start times and durations (RTTM) or end times (JSON, UEM).

    Raises for the first bad row in file order; returns the mask of rows with
    zero length, which each format treats in its own way.
    """
    length = second if is_duration else second - start
    # onset + duration can overflow to inf even when both are finite.
    end = start + second if is_duration else second
    bad_start = ~np.isfinite(start)
    bad_second = ~np.isfinite(second) | ~np.isfinite(end)
    negative_start = start < 0
    negative_length = length < 0
    too_late = end > MAX_TIME
    bad = bad_start | bad_second | negative_start | negative_length | too_late
    if bad.any():
        i = int(np.argmax(bad))
        where = locate(int(origin[i]))
        s, x = float(start[i]), float(second[i])
        if bad_start[i]:
            problem = f"{names[0]} {s!r} is not a finite number"
        elif bad_second[i]:
            problem = (f"{names[1]} {x!r} is not a finite number" if not math.isfinite(x)
                       else f"{names[0]} + {names[1]} is not a finite number")
        elif negative_start[i]:
            problem = f"negative {names[0]} {s!r}"
        elif negative_length[i] and is_duration:
            problem = f"negative {names[1]} {x!r}"
        elif negative_length[i]:
            problem = f"{names[1]} {x!r} is before {names[0]} {s!r}"
        else:
            what = f"{names[0]} + {names[1]}" if is_duration else names[1]
            problem = f"{what} {float(end[i])!r} is beyond the largest time teer accepts ({MAX_TIME:.0f} s)"
        raise InputError(source, where, problem)
    return length == 0


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
                no_emotion: Callable[[Hashable], bool]) -> SegmentTable:
    """Validate times, drop zero-length segments with a warning, and assemble the table."""
    start = np.asarray(start, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    origin = np.asarray(origin, dtype=np.int64)
    zero = check_times(start, second, origin, is_duration=is_duration, names=names,
                       source=source, locate=locate)
    warnings: list[str] = []
    keep = None
    if zero.any():
        n = int(zero.sum())
        first = describe(locate(int(origin[np.argmax(zero)])))
        plural = "s" if n > 1 else ""
        warnings.append(f"{source}: skipped {n} zero-duration segment{plural} (first at {first})")
        keep = ~zero
        start, second, origin = start[keep], second[keep], origin[keep]
    file_vocab, file_codes = _finish_labels(*files, keep, None)
    spk_vocab, spk_codes = _finish_labels(*speakers, keep, None)
    emo_vocab, emo_codes = _finish_labels(*emotions, keep, no_emotion)
    for vocab, codes, what in ((file_vocab, file_codes, "file id"), (spk_vocab, spk_codes, "speaker"),
                               (emo_vocab, emo_codes, "emotion")):
        check_labels(vocab, codes, origin, source, locate, what)
    end = start + second if is_duration else second
    return SegmentTable(file_vocab, spk_vocab, emo_vocab, file_codes, start, end,
                        spk_codes, emo_codes, origin, source, warnings)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` as UTF-8 so that ``path`` holds either the old or the whole new content.

    Writes a temporary file next to ``path`` and renames it over ``path``; on
    failure the temporary file is removed and ``InputError`` names ``path``.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` so that ``path`` holds either the old or the whole new content.

    A new path or a regular file is written atomically: a temporary file next to it,
    then renamed over it (removed on any error or interruption that lets Python run).
    A symbolic link is followed: its target is written, the link stays. A device or a
    FIFO (``/dev/null``, ``/dev/stdout``, a pipe) is written directly, never replaced;
    so is a file with several hard links, which a rename would split from the others.
    """
    import tempfile  # only when writing: reading does not need it

    target = os.fspath(path)
    try:
        real = os.path.realpath(target)
        try:
            info = os.stat(real)
        except FileNotFoundError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise InputError(target, None, "cannot write: is a directory")
        if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_nlink > 1):
            regular = stat.S_ISREG(info.st_mode)
            with open(real, "r+b" if regular else "wb") as f:
                f.write(data)
                if regular:
                    f.truncate()
            return
    except OSError as err:
        raise InputError(target, None, f"cannot write ({err.strerror or err})") from None
    directory = os.path.dirname(real)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(real)}.",
                                   suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file 0600; give the result the mode a plain open() would.
        os.chmod(tmp, _existing_mode(real))
        os.replace(tmp, real)
        tmp = None
    except OSError as err:
        raise InputError(target, None, f"cannot write ({err.strerror or err})") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _existing_mode(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        # Reading the umask means setting it; there is no other portable way.
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(target, text: str) -> None:
    """Write to a path atomically, or to an open text file as is."""
    if hasattr(target, "write"):
        target.write(text)
    else:
        atomic_write_text(target, text)


def target_name(target) -> str:
    if hasattr(target, "write"):
        return str(getattr(target, "name", "<stream>"))
    return os.fspath(target)


def check_writable_label(label: str, what: str, target: str) -> None:
    """RTTM fields are whitespace-separated: a label with spaces cannot be written."""
    if not label or any(c.isspace() for c in label):
        raise InputError(target, None, f"cannot write {what} {label!r} to RTTM: "
                         "labels must be non-empty and contain no whitespace")


def flatten(chunks: Iterable[np.ndarray], dtype) -> np.ndarray:
    chunks = list(chunks)
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


def rows_table(files, starts, durs, speakers, emotions, origins, source: str) -> SegmentTable:
    """The good rows a problem lister kept, as a table (zero-duration ones skipped, with a warning)."""
    keep = [i for i, d in enumerate(durs) if d > 0]
    table = SegmentTable.from_columns([files[i] for i in keep], [starts[i] for i in keep],
                                      [starts[i] + durs[i] for i in keep], [speakers[i] for i in keep],
                                      [emotions[i] for i in keep], [origins[i] for i in keep], source)
    skipped = len(durs) - len(keep)
    if skipped:
        table.warnings.append(f"{source}: skipped {skipped} zero-duration segment{'s' if skipped > 1 else ''}")
    return table
