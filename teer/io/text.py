"""Reading a file's bytes, and checking that it is text a reader can take (UTF-8, no NUL)."""
from __future__ import annotations

import os
import stat

from ..segments import InputError

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
