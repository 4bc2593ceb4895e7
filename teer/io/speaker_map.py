"""Fixed speaker mappings: lines ``file hyp_speaker ref_speaker`` (whitespace or commas)."""
from __future__ import annotations

import os

from ..segments import InputError
from .text import check_text, read_bytes


class SpeakerMap(dict):
    """``{(file, hyp speaker): ref speaker}`` that remembers where each entry came from,
    so that an entry naming nothing can be reported with its line."""

    def __init__(self, source: str = "speaker_map") -> None:
        super().__init__()
        self.source = source
        self.lines: dict[tuple[str, str], int] = {}

    def where(self, key: tuple[str, str]) -> int | str:
        return self.lines.get(key, f"entry {key!r}")


def read_speaker_map(path: str | os.PathLike) -> SpeakerMap:
    """``{(file, hyp speaker): ref speaker}`` from a mapping file."""
    data, source = read_bytes(path)
    lines = check_text(data, source).splitlines()
    mapping = SpeakerMap(source)
    reverse: dict[tuple[str, str], str] = {}
    for number, line in enumerate(lines, 1):
        fields = line.replace(",", " ").split()
        if not fields or fields[0].startswith(("#", ";;")):
            continue
        if len(fields) != 3:
            raise InputError(source, number, f"expected 3 fields (file hyp_speaker ref_speaker), found {len(fields)}")
        file, hyp, ref = fields
        if (file, hyp) in mapping:
            raise InputError(source, number, f"hypothesis speaker {hyp!r} of {file!r} is mapped twice")
        if (file, ref) in reverse:
            raise InputError(source, number, f"reference speaker {ref!r} of {file!r} is mapped twice")
        mapping[(file, hyp)] = ref
        mapping.lines[(file, hyp)] = number
        reverse[(file, ref)] = hyp
    return mapping
