"""The registry of segment-file formats: how each is recognised, read, written and checked.

Each format module declares a ``Format`` (``rttm.FORMAT``, ``jsonfile.FORMAT``);
``teer.io.FORMATS`` lists them in the order they are tried, and ``teer.io``
(reading) and ``teer.validation`` (listing every problem) dispatch through it.
Adding a format is a new module with its ``FORMAT`` and one entry in
``teer.io.FORMATS``; the streamed RTTM readers, ``teer validate`` and the command
line's help texts read the list from there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..segments import SegmentTable
from .values import Locate

#: the JSON shapes teer reads, for messages and documentation
JSON_SHAPES = (
    'SegLST [{"session_id", "start_time", "end_time", "speaker", "emotion"}, ...]',
    '{"<file id>": [{"start", "end", "speaker", "emotion"}, ...]}',
    'ZED annotation {"<utterance id>": {"duration", "emotion": [{"emo", "start", "end"}]}}',
    'frame labels {"<file id>": {"window", "stride", "labels": [...]}}',
)


@dataclass(frozen=True)
class Format:
    """A segment-file format."""

    name: str
    #: whether content is in this format (the formats are tried in order)
    recognise: Callable[[bytes], bool]
    #: ``(data, source) -> (table, locate)``; raises ``InputError`` at the first problem;
    #: ``locate`` turns a segment's ``origin`` into the place shown in messages
    read: Callable[[bytes, str], tuple[SegmentTable, Locate]]
    #: ``(data, source) -> (table of the good segments, locate, problems)``: every bad
    #: line or segment, one message each (``teer validate``); raises ``InputError`` when
    #: nothing can be read
    problems: Callable[[bytes, str], tuple[SegmentTable, Locate, list[str]]]
    #: ``(table, path or text file)``: write a table in this format
    write: Callable
    #: whether content that starts with ``head`` may be in this format, where ``recognise``
    #: needs the whole content to tell (JSON); None: ``recognise(head)``. RTTM, the format
    #: tried last, is read in pieces only where no other format may claim the first piece
    may_start: Callable[[bytes], bool] | None = None

    def may_claim(self, head: bytes) -> bool:
        """Whether content that starts with ``head`` may be in this format."""
        return (self.may_start or self.recognise)(head)
