"""Shared helpers for the recipe stages: errors, atomic writes, JSON lines, segment files.

Every stage reports bad input with :class:`RecipeError` and turns it into one
line on stderr with :func:`report_error`::

    iemocap: error: FILE:LINE: problem

Outputs are never half-written: single files go through a temporary name in
the same directory and ``os.replace``; a stage that writes several files does
so inside :func:`atomic_output_dir`, which stages them and moves them into
place only when the whole block succeeded.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Callable, Iterator, Mapping, Sequence

from teer.io.writing import file_mode

if TYPE_CHECKING:
    from teer.segments import SegmentTable

PROG = "iemocap"


class RecipeError(Exception):
    """Bad input or configuration; ``str(err)`` is ``FILE:LINE: problem``."""

    def __init__(self, source: str | os.PathLike | None, line: int | None, problem: str):
        self.source = None if source is None else str(source)
        self.line = line
        self.problem = problem
        where = ""
        if self.source is not None:
            where = self.source if line is None else f"{self.source}:{line}"
            where += ": "
        super().__init__(f"{where}{problem}")


def report_error(err: BaseException) -> int:
    """Print ``iemocap: error: ...`` to stderr and return exit status 2."""
    print(f"{PROG}: error: {err}", file=sys.stderr)
    return 2


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write`` on a temporary file next to ``path``, then rename it to ``path``.

    A path that cannot be written (a directory in its way, no permission, a full
    disk) raises :class:`RecipeError` naming it; the temporary file is removed.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise RecipeError(path, None, f"cannot write: {_reason(err)}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode(str(path)))
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise RecipeError(path, None, f"cannot write: {_reason(err)}") from None
        raise
    return path


def _reason(err: OSError) -> str:
    """An OSError's message without the path (the caller names the path)."""
    return err.strerror or str(err)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    return atomic_write(path, lambda fh: fh.write(text.encode(encoding)))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 1) -> Path:
    """Write ``obj`` as JSON (UTF-8, non-ASCII kept) atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


@contextlib.contextmanager
def teer_errors() -> Iterator[None]:
    """Turn ``teer.InputError`` (bad data or a path teer cannot use) into :class:`RecipeError`."""
    from teer.segments import InputError

    try:
        yield
    except InputError as err:
        raise RecipeError(err.source, err.location, err.problem) from None


def read_segments(path: str | os.PathLike) -> SegmentTable:
    """A segment file (RTTM, with or without emotion labels, or JSON) read by ``teer.io``.

    Bad content raises :class:`RecipeError` naming the file and line.
    """
    from teer.io import load

    with teer_errors():
        return load(path)


def write_segments(path: str | os.PathLike, table: SegmentTable,
                   extra: Mapping[str, Sequence] | None = None) -> Path:
    """Write ``table`` through ``teer.io``: RTTM for a ``.rttm`` path, else SegLST JSON
    (with ``extra`` keys per segment, see ``teer.io.seglst.format_seglst``).

    Atomic, as every recipe output; the directory is made. A path that cannot be
    written or a label RTTM cannot hold raises :class:`RecipeError`.
    """
    from teer.io import write_rttm, write_seglst

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RecipeError(path, None, f"cannot write: {_reason(err)}") from None
    with teer_errors():
        if path.suffix == ".rttm":
            write_rttm(table, path)
        else:
            write_seglst(table, path, extra)
    return path


def seglst_table(rows: Sequence[Mapping[str, Any]], source: str = "<turns>") -> SegmentTable:
    """SegLST rows (``session_id``, ``start_time``, ``end_time``, ``speaker``, ``emotion``;
    None or ``"<NA>"``: no emotion) as a teer ``SegmentTable``."""
    from teer.io import from_records

    with teer_errors():
        return from_records(
            [{"file": r["session_id"], "start": r["start_time"], "end": r["end_time"], "speaker": r["speaker"],
              "emotion": None if r["emotion"] in (None, "<NA>") else r["emotion"]} for r in rows], source=source)


def write_turns(path: str | os.PathLike, rows: Sequence[Mapping[str, Any]]) -> Path:
    """SegLST rows written through ``teer.io``; their other keys (``words``,
    ``utterance_id``, ...) are kept, after teer's."""
    from teer.io.seglst import SEGLST_KEYS

    own = [key for key in dict.fromkeys(key for r in rows for key in r) if key not in SEGLST_KEYS]
    return write_segments(path, seglst_table(rows, source=str(path)),
                          {key: [r.get(key) for r in rows] for key in own})


def read_jsonl(path: str | os.PathLike) -> list[tuple[int, Any]]:
    """``(line number, value)`` for each non-blank line of a JSON-lines file.

    A file that cannot be read, a line that is not UTF-8 or not JSON, or JSON
    nested too deeply to read raises :class:`RecipeError` naming the line.
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise RecipeError(path, None, f"cannot read: {_reason(err)}") from None
    rows = []
    for number, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            raise RecipeError(path, number, f"not UTF-8 text (byte {err.start + 1})") from None
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise RecipeError(path, number, f"not JSON: {err.msg}") from None
        except RecursionError:
            raise RecipeError(path, number, "JSON nested too deeply") from None
    return rows


@contextlib.contextmanager
def atomic_output_dir(out: str | os.PathLike) -> Iterator[Path]:
    """Stage several output files and publish them together.

    Yields a fresh staging directory inside ``out``; write the outputs there
    under their final relative names. On normal exit each staged file is moved
    over its final name in ``out`` (``os.replace``, same file system); on an
    exception the staging directory is removed and ``out`` is left as it was.
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    except FileExistsError:
        raise RecipeError(out, None, "cannot write the outputs here: not a directory") from None
    except OSError as err:
        raise RecipeError(out, None, f"cannot write the outputs here: {_reason(err)}") from None
    try:
        yield stage
        for src in sorted(p for p in stage.rglob("*") if p.is_file()):
            dst = out / src.relative_to(stage)
            try:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            except OSError as err:
                raise RecipeError(dst, None, f"cannot write: {_reason(err)}") from None
    finally:
        shutil.rmtree(stage, ignore_errors=True)
