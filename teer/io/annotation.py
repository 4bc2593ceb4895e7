"""pyannote.core objects as segment tables.

Convention: an ``Annotation`` whose labels are ``(speaker, emotion)`` tuples;
a plain label is a speaker without emotion. The file id is the annotation's
``uri`` (or the key, when a dict of annotations is given).
"""
from __future__ import annotations

from typing import Mapping

from ..segments import SegmentTable


def _split(label) -> tuple[str, str | None]:
    if isinstance(label, tuple):
        if len(label) != 2:
            raise ValueError(f"annotation label {label!r} is not a (speaker, emotion) pair")
        speaker, emotion = label
        return str(speaker), None if emotion is None else str(emotion)
    return str(label), None


def from_annotations(annotations, uri: str | None = None) -> SegmentTable:
    """One ``Annotation`` or a ``{file id: Annotation}`` mapping as a segment table."""
    if not isinstance(annotations, Mapping):
        name = uri or getattr(annotations, "uri", None) or "<annotation>"
        annotations = {name: annotations}
    files, starts, ends, speakers, emotions = [], [], [], [], []
    for name, annotation in annotations.items():
        for segment, _, label in annotation.itertracks(yield_label=True):
            speaker, emotion = _split(label)
            files.append(str(name))
            starts.append(segment.start)
            ends.append(segment.end)
            speakers.append(speaker)
            emotions.append(emotion)
    return SegmentTable.from_columns(files, starts, ends, speakers, emotions, source="<annotation>")


def to_annotations(table: SegmentTable) -> dict:
    """A segment table as ``{file id: Annotation}`` with (speaker, emotion) labels."""
    from pyannote.core import Annotation, Segment

    result: dict = {}
    for k, rec in enumerate(table.records()):
        annotation = result.setdefault(rec["file"], Annotation(uri=rec["file"]))
        label = rec["speaker"] if rec["emotion"] is None else (rec["speaker"], rec["emotion"])
        annotation[Segment(rec["start"], rec["end"]), k] = label
    return result
