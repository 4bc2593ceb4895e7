"""Writing files: atomically (the old or the whole new content, never half), and labels a format can hold."""
from __future__ import annotations

import os
import stat

from ..segments import InputError


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
        os.chmod(tmp, file_mode(real))
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


def file_mode(path: str) -> int:
    """The permission bits a file written at ``path`` should get: those of the file it
    replaces, else what a plain ``open()`` would give (0666 less the umask). Files made
    by ``tempfile.mkstemp`` are 0600 until given these."""
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
