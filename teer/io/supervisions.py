"""Lhotse supervision manifests (``supervisions*.jsonl``, gzipped or not), read without lhotse.

Each line is one ``SupervisionSegment`` as lhotse writes it:
``{"id", "recording_id", "start", "duration", "channel", "speaker", "text", ...,
"custom": {"emotion": "hap"}}``. ``recording_id`` is the file id, ``start`` and
``duration`` are seconds, ``speaker`` is required. The emotion is
``custom.emotion`` or a top-level ``emotion`` (both: they must agree); a
supervision without one has no emotion (a manifest without any is scored for DER
only), and ``"<NA>"`` means none as in RTTM. Other keys are ignored. A segment's
``origin`` is its line number.

In Python, ``teer.score`` also takes a ``lhotse.SupervisionSet`` (or a list of
``SupervisionSegment``), read through its ``to_dicts()`` by the same code.
"""
from __future__ import annotations

from typing import Iterable, Mapping

from ..segments import InputError, SegmentTable
from .formats import Format
from .jsonl import SUPERVISION_KEYS, first_object, is_supervision, json_lines, line_problems
from .table import as_columns, labelled_table
from ..ticks import Seconds, dumps
from .values import Locate, json_label, json_type, to_ticks

_NAMES = ("start", "duration")


def recognise(data: bytes) -> bool:
    return is_supervision(first_object(data)[0])


def _emotion(value: dict, source: str, where: int | str) -> str | None:
    custom = value.get("custom")
    if custom is not None and not isinstance(custom, Mapping):
        raise InputError(source, where, f"key 'custom' must be an object, found {json_type(custom)}")
    found = [v for v in ((custom or {}).get("emotion"), value.get("emotion")) if v is not None]
    if not found:
        return None
    labels = [json_label(v, "emotion", source, where) for v in found]
    if len(set(labels)) > 1:
        raise InputError(source, where, f"custom.emotion {labels[0]!r} and emotion {labels[1]!r} differ")
    return None if labels[0].lower() == "<na>" else labels[0]


def _row(where: int | str, value: object, source: str) -> tuple:
    """(file, start, duration, speaker, emotion) of one supervision."""
    if not isinstance(value, Mapping):
        raise InputError(source, where, f"expected a supervision object, found {json_type(value)}")
    for key in SUPERVISION_KEYS + ("speaker",):
        if value.get(key) is None:
            state = "missing" if key not in value else "null"
            hint = " (teer scores who spoke when: every supervision needs a speaker)" if key == "speaker" else ""
            raise InputError(source, where, f"{state} key {key!r}{hint}")
    return (json_label(value["recording_id"], "recording_id", source, where, "file id"),
            to_ticks(value["start"], source, where, "start"), to_ticks(value["duration"], source, where, "duration"),
            json_label(value["speaker"], "speaker", source, where), _emotion(value, source, where))


def _table(rows: Iterable[tuple[int | str, int, object]], source: str, locate: Locate) -> SegmentTable:
    """The table of ``(where, origin, supervision)`` rows."""
    found = [_row(where, value, source) + (origin,) for where, origin, value in rows]
    return labelled_table(source, locate, *as_columns(found, 6), is_duration=True, names=_NAMES)


def parse_supervisions(data: bytes, source: str) -> tuple[SegmentTable, Locate]:
    """The segments of a supervision manifest; a segment's origin is its line number."""
    return _table(((n, n, value) for n, value in json_lines(data, source)), source, int), int


def problems(data: bytes, source: str) -> tuple[SegmentTable, Locate, list[str]]:
    return line_problems(data, source, _row, is_duration=True, names=_NAMES)


def from_supervisions(supervisions, source: str = "<supervisions>") -> SegmentTable:
    """A ``lhotse.SupervisionSet`` (or any iterable of ``SupervisionSegment``) as a table;
    messages name a supervision by its index (``supervision [3]``)."""
    dicts = supervisions.to_dicts() if hasattr(supervisions, "to_dicts") else (s.to_dict() for s in supervisions)

    def locate(index: int) -> str:
        return f"supervision [{index}]"

    return _table(((locate(i), i, d) for i, d in enumerate(dicts)), source, locate)


def write_supervisions(table: SegmentTable, path_or_file) -> None:
    """The table as a supervision manifest (one JSON object a line; emotion in ``custom``)."""
    from ..segments import NO_EMOTION
    from .writing import write_text

    lines = []
    for i, (f, s, e, k, m) in enumerate(zip(table.file.tolist(), table.start.tolist(), table.end.tolist(),
                                            table.speaker.tolist(), table.emotion.tolist())):
        # times as the exact decimals of their ticks: they read back as the same ticks
        item = {"id": f"{table.files[f]}-{i}", "recording_id": table.files[f], "start": Seconds(s),
                "duration": Seconds(e - s),
                "channel": 0, "speaker": table.speakers[k]}
        if m != NO_EMOTION:
            item["custom"] = {"emotion": table.emotions[m]}
        lines.append(dumps(item, ensure_ascii=False, allow_nan=False) + "\n")
    write_text(path_or_file, "".join(lines))


FORMAT = Format("Lhotse supervisions", recognise=recognise, read=parse_supervisions, problems=problems,
                write=write_supervisions)
