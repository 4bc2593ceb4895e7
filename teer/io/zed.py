"""SpeechBrain's ZED annotation JSON (Zaion Emotion Dataset, emotion diarization).

``{"<utterance id>": {"duration": d, "emotion": [{"emo": label, "start": s, "end": e}], ...}}``

Each utterance is one speaker (named as the utterance) over ``[0, duration]``
seconds; ``emotion`` lists its emotion events (ZED has exactly one per
utterance; teer reads any number). Other keys (``wav``, ``frame_label``, ...)
are ignored. The table's ``durations`` holds each utterance's duration: the
``eder`` preset scores ``[0, duration]`` and labels the time outside the events
neutral. Times may be numbers or numeric strings. A segment's ``origin`` is a
running index over all events in order.
"""
from __future__ import annotations

from ..messages import events_past_duration
from ..segments import InputError, SegmentTable
from .table import labelled_table
from .. import ticks
from .values import Locate, expect_object, grouped_locate, json_type, require_keys, to_ticks

ZED_KEYS = ("duration", "emotion")
EVENT_KEYS = ("emo", "start", "end")


def looks_like(entry: object) -> bool:
    """Whether a file's entry is meant as a ZED annotation (has any of the keys)."""
    return isinstance(entry, dict) and any(key in entry for key in ZED_KEYS)


def parse_zed(doc: dict, source: str) -> tuple[SegmentTable, Locate]:
    """Segments (the emotion events) of a decoded ZED annotation, with the durations."""
    files, starts, ends, emotions = [], [], [], []
    durations: dict[str, int] = {}
    offsets: list[int] = []
    names: list[str] = []
    for file_id, entry in doc.items():
        where = f"utterance {file_id!r}"
        expect_object(entry, ZED_KEYS, source, where)
        require_keys(entry, ZED_KEYS, source, where)
        duration = to_ticks(entry["duration"], source, where, "duration")
        if not duration > 0:
            raise InputError(source, where, f"duration {ticks.text(duration)} is not a positive number")
        durations[file_id] = duration
        events = entry["emotion"]
        if not isinstance(events, list):
            raise InputError(source, where, f"'emotion' must be a list of events, found {json_type(events)}")
        offsets.append(len(starts))
        names.append(file_id)
        for i, event in enumerate(events):
            at = f"{where} emotion[{i}]"
            if not isinstance(event, dict):
                raise InputError(source, at, f"an event must be an object, found {json_type(event)}")
            require_keys(event, EVENT_KEYS, source, at)
            if not isinstance(event["emo"], str) or not event["emo"]:
                raise InputError(source, at, f"'emo' must be a non-empty string, found {event['emo']!r}")
            files.append(file_id)
            starts.append(to_ticks(event["start"], source, at, "start"))
            ends.append(to_ticks(event["end"], source, at, "end"))
            emotions.append(event["emo"])

    locate = grouped_locate(offsets, names, lambda name, i: f"utterance {name!r} emotion[{i}]")
    # one speaker per utterance, named after it (every event has an emotion)
    table = labelled_table(source, locate, files, starts, ends, files, emotions, is_duration=False,
                           names=("start", "end"))
    late = [name for name, end in zip(files, ends) if end > durations[name]]
    if late:
        table.warnings.append(events_past_duration(source, len(late), late[0]))
    table.durations = durations
    # an utterance without events is still one of this side (all neutral under eder)
    known = set(table.files)
    table.files += [name for name in names if name not in known]
    return table, locate
