"""Checking input files: every problem found (not only the first), and what the file holds.

A file is first read with the ordinary reader of its format (``teer.io.detect``).
When it stops at an error, the format's problem lister (``Format.problems``)
checks the file one line (RTTM) or one segment (JSON) at a time with the same
checks, so that each bad line or segment is reported once, with its first
problem; the good ones are counted. Problems that stop reading the whole
file (unreadable, not UTF-8, not valid JSON) are reported alone.

With ``role="reference"`` the checks that ``teer score`` applies to a reference
are added: it must have segments, and emotion labels on all of them or none.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .io.text import check_encoding, read_bytes
from .segments import NO_EMOTION, InputError, SegmentTable, reference_problems
from .ticks import Seconds, dumps, exact_sum

ROLES = ("hypothesis", "reference")


@dataclass
class FileCheck:
    """The result of checking one file."""

    path: str
    format: str = "?"
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"path": self.path, "format": self.format, "ok": self.ok, "problems": list(self.problems),
                "warnings": list(self.warnings), "counts": dict(self.counts)}


def check_file(path: str | os.PathLike, role: str = "hypothesis") -> FileCheck:
    """Check one RTTM or JSON segment file; never raises for bad content."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    result = FileCheck(os.fspath(path))
    from .io import other_format, rttm

    # A good RTTM file (the large ones are RTTM) is read in pieces and never held whole;
    # a file with any problem is read again whole, to list every problem with its line.
    table = rttm.read_streamed(path, other_format)
    if table is not None:
        result.format = rttm.FORMAT.name
        return _checked(result, table, int, role)
    try:
        data, source = read_bytes(path)
        check_encoding(data, source)  # without decoding: a copy of a large file is not needed
    except InputError as err:
        result.problems.append(str(err))
        return result
    from .io import detect

    form = detect(data)
    result.format = form.name
    try:
        table, locate = form.read(data, source)
    except InputError as reader_error:
        try:
            table, locate, problems = form.problems(data, source)
        except InputError as err:  # the whole file is unreadable (e.g. not valid JSON)
            result.problems.append(str(err))
            return result
        # whatever the line-by-line check misses, the reader's own error is a problem:
        # validate never says OK for a file that teer score refuses
        result.problems += problems or [str(reader_error)]
    return _checked(result, table, locate, role)


def _checked(result: FileCheck, table: SegmentTable, locate, role: str) -> FileCheck:
    """``result`` completed from the table read: its warnings, the reference's own rules, counts."""
    result.warnings += table.warnings
    if role == "reference":
        result.problems += [str(problem) for problem in reference_problems(table, locate)]
    result.counts = counts(table)
    return result


def counts(table: SegmentTable) -> dict:
    """Segments, files, speakers, emotions (segments and seconds each), speech and overlaps."""
    out = {"segments": int(len(table)), "files": 0, "speakers": 0, "emotions": {},
           "segments_without_emotion": int(np.count_nonzero(table.emotion == NO_EMOTION)),
           "speech": Seconds(0), "overlap": Seconds(0), "overlaps": 0, "same_speaker_overlaps": 0}
    if len(table) == 0:
        return out
    out["files"] = int(len(np.unique(table.file)))
    out["speakers"] = int(len(np.unique(table.file.astype(np.int64) * len(table.speakers) + table.speaker)))
    has = table.emotion != NO_EMOTION
    # exact sums of ticks (Python integers: no overflow, no float noise)
    seconds = [0] * len(table.emotions)
    for emotion, length in zip(table.emotion[has].tolist(), (table.end - table.start)[has].tolist()):
        seconds[emotion] += length
    number = np.bincount(table.emotion[has], minlength=len(table.emotions))
    out["emotions"] = {table.emotions[i]: {"segments": int(number[i]), "seconds": Seconds(seconds[i])}
                       for i in np.argsort(table.emotions) if number[i]}
    from .engine import batch_table
    from .engine import sweep as sweep_of
    from .engine.scoring import BATCH_SEGMENTS

    # whole files swept in batches, as teer score does: memory stays bounded by the batch
    order = np.argsort(table.file, kind="stable")
    sorted_file = table.file[order]
    size = np.bincount(table.file, minlength=len(table.files))
    batch = (np.cumsum(size) - size) // BATCH_SEGMENTS
    for b in np.unique(batch[size > 0]).tolist():
        lo, hi = int(np.searchsorted(batch, b)), int(np.searchsorted(batch, b, "right"))
        rows = order[np.searchsorted(sorted_file, lo):np.searchsorted(sorted_file, hi)]
        sweep = sweep_of(batch_table(table, rows, table.file[rows] - lo, table.files[lo:hi]),
                         SegmentTable.empty())
        speaking = sweep.n_ref >= 1
        overlapped = (sweep.n_ref >= 2) & (sweep.duration > 0)
        out["speech"] = Seconds(out["speech"].ticks + exact_sum(sweep.duration[speaking]))
        out["overlap"] = Seconds(out["overlap"].ticks + exact_sum(sweep.duration[overlapped]))
        # stretches of overlapped speech: overlapped regions not continuing the one before
        previous = np.zeros(len(overlapped), bool)
        previous[1:] = overlapped[:-1] & (sweep.grid_file[1:] == sweep.grid_file[:-1])
        out["overlaps"] += int(np.count_nonzero(overlapped & ~previous))
        out["same_speaker_overlaps"] += int(sweep.ref.self_overlaps)
    return out


# --------------------------------------------------------------------------
# rendering


def as_text(checks: list[FileCheck]) -> str:
    lines = []
    for c in checks:
        status = "OK" if c.ok else f"{len(c.problems)} problem{'s' if len(c.problems) != 1 else ''}"
        lines.append(f"{c.path}: {status} ({c.format})")
        lines += [f"  {p}" for p in c.problems]
        lines += [f"  warning: {w}" for w in c.warnings]
        n = c.counts
        if n:
            emotions = ", ".join(f"{k} {v['segments']}" for k, v in n["emotions"].items()) or "none"
            valid = "valid " if c.problems else ""
            lines.append(f"  {n['segments']} {valid}segments, {n['files']} files, {n['speakers']} speakers, "
                         f"{len(n['emotions'])} emotions ({emotions}), "
                         f"{n['segments_without_emotion']} segments without emotion")
            lines.append(f"  speech {n['speech']:.2f} s, overlapped speech {n['overlap']:.2f} s in "
                         f"{n['overlaps']} stretches, {n['same_speaker_overlaps']} same-speaker overlaps")
    bad = [c for c in checks if not c.ok]
    lines.append(f"# {len(checks)} file(s) checked, {len(bad)} with problems "
                 f"({sum(len(c.problems) for c in bad)} problems)")
    return "\n".join(lines) + "\n"


def as_json(checks: list[FileCheck]) -> str:
    return dumps({"ok": all(c.ok for c in checks), "files": [c.to_dict() for c in checks]},
                 indent=2, ensure_ascii=False) + "\n"
