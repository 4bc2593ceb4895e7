"""Frame-wise system output in JSON: ``{"<file id>": {"window": w, "stride": s, "labels": [...]}}``.

Frame ``i`` of a file covers ``[i·stride, i·stride + window]`` seconds and has
the label ``labels[i]`` (a string). The frames become segments as SpeechBrain's
EDER makes them (``teer.framewise``: same-label neighbours merged, overlaps split
half and half); each file is one speaker, named as the file. A segment's
``origin`` is a running index over all files in order.
"""
from __future__ import annotations


import numpy as np

from .. import ticks
from ..framewise import check_frame_step, frame_segments
from ..segments import InputError, SegmentTable, Vocab
from .table import build_table
from .values import Locate, expect_object, grouped_locate, json_type

FRAME_KEYS = ("window", "stride", "labels")


def looks_like(entry: object) -> bool:
    """Whether a file's entry is meant as frame labels (has any of the keys)."""
    return isinstance(entry, dict) and any(key in entry for key in FRAME_KEYS)


def parse_frames(doc: dict, source: str) -> tuple[SegmentTable, Locate]:
    """Segments of a decoded frame-label document, and how to locate a segment."""
    labels = Vocab()
    files, speakers = Vocab(), Vocab()
    starts, ends, codes, file_codes = [], [], [], []
    offsets: list[int] = []
    names: list[str] = []
    total = 0
    for file_id, entry in doc.items():
        where = f"file {file_id!r}"
        expect_object(entry, FRAME_KEYS, source, where)
        for key in FRAME_KEYS:
            if key not in entry:
                raise InputError(source, where, f"missing key {key!r} (frame labels need "
                                 f"{', '.join(FRAME_KEYS)})")
        try:
            window, stride = check_frame_step(entry["window"], entry["stride"])
        except ValueError as err:
            raise InputError(source, where, str(err)) from None
        frames = entry["labels"]
        if not isinstance(frames, list):
            raise InputError(source, where, f"'labels' must be a list of strings, found {json_type(frames)}")
        for i, label in enumerate(frames):
            if not isinstance(label, str):
                raise InputError(source, f"{where} labels[{i}]",
                                 f"a frame label must be a string, found {json_type(label)}")
        start, end, code = frame_segments(labels.encode(frames), window, stride)
        offsets.append(total)
        names.append(file_id)
        total += len(start)
        starts.append(start)
        ends.append(end)
        codes.append(code)
        file_codes.append(np.full(len(start), files.encode([file_id])[0], dtype=np.int32))

    locate = grouped_locate(offsets, names, lambda name, i: f"file {name!r} segment [{i}]")
    file_column = _concat(file_codes, np.int32)
    speaker_codes = speakers.encode(names)[file_column] if len(file_column) else np.zeros(0, np.int32)
    table = build_table(
        source, locate, ticks.of_seconds(_concat(starts, np.float64)), ticks.of_seconds(_concat(ends, np.float64)),
        np.arange(total, dtype=np.int64), is_duration=False, names=("start", "end"),
        files=(files, file_column), speakers=(speakers, speaker_codes.astype(np.int32)),
        emotions=(labels, _concat(codes, np.int32)), no_emotion=lambda label: False)
    return table, locate


def _concat(chunks: list, dtype) -> np.ndarray:
    return np.concatenate(chunks).astype(dtype) if chunks else np.zeros(0, dtype=dtype)
