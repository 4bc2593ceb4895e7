"""Reading a file's bytes, and checking that it is text a reader can take (UTF-8, no NUL)."""
from __future__ import annotations

import os
import stat
import sys

from ..segments import InputError

_UTF8_BOM = b"\xef\xbb\xbf"


#: the path that means standard input
STDIN = "-"
#: how standard input is named in messages
STDIN_SOURCE = "<stdin>"


def is_gzip(path: str | os.PathLike) -> bool:
    """Whether a path names gzip-compressed content (its name ends in ``.gz``)."""
    return os.fspath(path).lower().endswith(".gz")


def read_whole_only(path: object) -> bool:
    """Whether an input can only be read whole, not in pieces from a regular file:
    standard input and gzip-compressed files."""
    return isinstance(path, (str, os.PathLike)) and (os.fspath(path) == STDIN or is_gzip(path))


def check_stdin(*inputs: object) -> None:
    """``-`` (standard input) may stand for one input only: it can be read once."""
    named = [x for x in inputs if isinstance(x, (str, os.PathLike)) and os.fspath(x) == STDIN]
    if len(named) > 1:
        raise ValueError(f"'-' (standard input) is given for {len(named)} inputs: it can stand for one only")


def read_bytes(path: str | os.PathLike) -> tuple[bytes, str]:
    """The file's bytes (UTF-8 BOM removed) and its name for messages. ``-`` is standard
    input; a name ending in ``.gz`` is decompressed (gzip)."""
    source = os.fspath(path)
    if source == STDIN:
        return _without_bom(_read_stream(sys.stdin.buffer, STDIN_SOURCE)), STDIN_SOURCE
    try:
        with open(source, "rb") as f:
            if is_gzip(source):
                data = _gunzip(f, source)
            else:
                data = f.read() if stat.S_ISREG(os.fstat(f.fileno()).st_mode) else _read_stream(f, source)
    except FileNotFoundError:
        raise InputError(source, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(source, None, "is a directory") from None
    except PermissionError:
        raise InputError(source, None, "permission denied") from None
    except OSError as err:
        raise InputError(source, None, f"cannot read ({err.strerror or err})") from None
    return _without_bom(data), source


def _without_bom(data: bytes) -> bytes:
    return data[len(_UTF8_BOM):] if data.startswith(_UTF8_BOM) else data


def _gunzip(f, source: str) -> bytes:
    """A gzip file's content, read a block at a time as ``_read_stream`` reads (content of
    NUL bytes is refused at its first block); a file that is not gzip, or is cut short, is
    an error naming it."""
    import gzip
    import zlib

    try:
        return _read_stream(gzip.GzipFile(fileobj=f, mode="rb"), source)
    except gzip.BadGzipFile:
        raise InputError(source, None, "not a gzip file (the name ends in .gz)") from None
    except EOFError:
        raise InputError(source, None, "truncated gzip file (unexpected end of the compressed data)") from None
    except zlib.error as err:
        raise InputError(source, None, f"corrupt gzip file ({err})") from None


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
