"""Checking input files: every problem found (not only the first), and what the file holds.

A file is first read with the ordinary readers (``teer.io``). When they stop at
an error, the file is checked again one line (RTTM) or one segment (JSON) at a
time with the same checks (``teer.io._common``: numbers, times; the JSON
segment reader), so that each bad line or segment is reported once, with its
first problem; the good ones are counted. Problems that stop reading the whole
file (unreadable, not UTF-8, not valid JSON) are reported alone.

With ``role="reference"`` the checks that ``teer score`` applies to a reference
are added: it must have segments, and emotion labels on all of them or none.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from .io import _common, rttm
from .io._common import check_text, check_times, read_bytes, to_float
from .segments import NO_EMOTION, InputError, SegmentTable, reference_problems

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
    try:
        data, source = read_bytes(path)
        check_text(data, source)
    except InputError as err:
        result.problems.append(str(err))
        return result
    from .io import is_json as sniff_json
    from .io import parse_json, parse_rttm

    is_json = sniff_json(data)
    result.format = "JSON" if is_json else "RTTM"

    try:
        table, locate = parse_json(data, source) if is_json else (parse_rttm(data, source), int)
    except InputError as reader_error:
        try:
            table, locate, problems = (_json_rows(data, source) if is_json else _rttm_rows(data, source))
        except InputError as err:  # the whole file is unreadable (e.g. not valid JSON)
            result.problems.append(str(err))
            return result
        # whatever the line-by-line check misses, the reader's own error is a problem:
        # validate never says OK for a file that teer score refuses
        result.problems += problems or [str(reader_error)]
    result.warnings += table.warnings
    if role == "reference":
        result.problems += [str(problem) for problem in reference_problems(table, locate)]
    result.counts = counts(table)
    return result


def _rttm_rows(data: bytes, source: str):
    """RTTM line by line: every bad SPEAKER line is a problem; the good ones make the table."""
    files, speakers, emotions, starts, durs, origins = [], [], [], [], [], []
    problems = []
    foreign = False  # only the first line of another format is reported: a CSV file is one problem
    for number, line in enumerate(data.split(b"\n"), 1):
        fields = line.split()
        try:
            if rttm.is_skipped(fields, source, number):
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
            onset = to_float(fields[3], source, number, "onset")
            dur = to_float(fields[4], source, number, "duration")
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
    return _table(files, starts, durs, speakers, emotions, origins, source), int, problems


def _json_rows(data: bytes, source: str):
    """JSON segment by segment, with the segment reader of ``teer.io.seglst``."""
    from .io import frames, parse_json, seglst, zed

    doc = seglst.decode_json(data, source)  # not JSON, or a file id twice: the reader's own message
    if isinstance(doc, dict) and doc and (frames.looks_like(next(iter(doc.values())))
                                          or zed.looks_like(next(iter(doc.values())))):
        parse_json(data, source)  # ZED annotations and frame labels: the reader's own message
    if isinstance(doc, list):
        groups = [(None, doc, "session_id", "start_time", "end_time", seglst._locate_in_list)]
    elif isinstance(doc, dict) and not ("session_id" in doc or "start_time" in doc):
        groups = [(name, segs, None, "start", "end", lambda i, f=name: f"segment {f}[{i}]")
                  for name, segs in doc.items()]
    else:
        seglst.parse_json(data, source)  # raises the reader's message for the wrong shape
        raise InputError(source, None, "not a segment file")
    columns: tuple[list, ...] = ([], [], [], [], [], [])
    problems = []
    where_of: list[str] = []
    for file_id, segments, file_key, start_key, end_key, where in groups:
        if not isinstance(segments, list):
            problems.append(str(InputError(source, f"file {file_id!r}",
                                           f"expected a list of segments, found {_common.json_type(segments)}")))
            continue
        for i, seg in enumerate(segments):
            try:
                row = seglst._rows([seg], source, lambda _, i=i: where(i), start_key=start_key,
                                   end_key=end_key, file_key=file_key, file_id=file_id)
                f, s, e, k, m = (col[0] for col in row)
                check_times(np.array([s]), np.array([e]), np.array([0]), is_duration=False,
                            names=("start time", "end time"), source=source, locate=lambda _, i=i: where(i))
            except InputError as err:
                problems.append(str(err))
                continue
            for out, value in zip(columns, (f, s, e - s, k, m, len(where_of))):
                out.append(value)
            where_of.append(where(i))
    files, starts, durs, speakers, emotions, origins = columns
    table = _table(files, starts, durs, speakers, emotions, origins, source)
    return table, where_of.__getitem__, problems


def _table(files, starts, durs, speakers, emotions, origins, source) -> SegmentTable:
    keep = [i for i, d in enumerate(durs) if d > 0]
    table = SegmentTable.from_columns([files[i] for i in keep], [starts[i] for i in keep],
                                      [starts[i] + durs[i] for i in keep], [speakers[i] for i in keep],
                                      [emotions[i] for i in keep], [origins[i] for i in keep], source)
    skipped = len(durs) - len(keep)
    if skipped:
        table.warnings.append(f"{source}: skipped {skipped} zero-duration segment{'s' if skipped > 1 else ''}")
    return table


def counts(table: SegmentTable) -> dict:
    """Segments, files, speakers, emotions (segments and seconds each), speech and overlaps."""
    out = {"segments": int(len(table)), "files": 0, "speakers": 0, "emotions": {},
           "segments_without_emotion": int(np.count_nonzero(table.emotion == NO_EMOTION)),
           "speech": 0.0, "overlap": 0.0, "overlaps": 0, "same_speaker_overlaps": 0}
    if len(table) == 0:
        return out
    out["files"] = int(len(np.unique(table.file)))
    out["speakers"] = int(len(np.unique(table.file.astype(np.int64) * len(table.speakers) + table.speaker)))
    has = table.emotion != NO_EMOTION
    seconds = np.bincount(table.emotion[has], weights=(table.end - table.start)[has], minlength=len(table.emotions))
    number = np.bincount(table.emotion[has], minlength=len(table.emotions))
    out["emotions"] = {table.emotions[i]: {"segments": int(number[i]), "seconds": float(seconds[i])}
                       for i in np.argsort(table.emotions) if number[i]}
    from .engine import sweep as sweep_of

    sweep = sweep_of(table, SegmentTable.empty())
    speaking = sweep.n_ref >= 1
    overlapped = (sweep.n_ref >= 2) & (sweep.duration > 0)
    out["speech"] = float(sweep.duration[speaking].sum())
    out["overlap"] = float(sweep.duration[overlapped].sum())
    # stretches of overlapped speech: overlapped regions not continuing the one before
    previous = np.zeros(len(overlapped), bool)
    previous[1:] = overlapped[:-1] & (sweep.grid_file[1:] == sweep.grid_file[:-1])
    out["overlaps"] = int(np.count_nonzero(overlapped & ~previous))
    out["same_speaker_overlaps"] = int(sweep.ref.self_overlaps)
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
    return json.dumps({"ok": all(c.ok for c in checks), "files": [c.to_dict() for c in checks]},
                      indent=2, ensure_ascii=False) + "\n"
