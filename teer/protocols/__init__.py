"""Protocols: how each preset prepares its tables, which files it scores, how it combines runs.

A preset (``teer.presets``) sets option values and names its protocol; the protocol
is the rest of what the preset means. One module each:

- ``literal`` (``wu2023``): emotion labels compared as they are, every file scored;
- ``hungarian`` (``ser-align``): SER-Align's script, three runs whose emotion labels
  are mapped per file, files without a hypothesis or a target emotion skipped;
- ``first_letter`` (``eder``): one speaker per file, neutral fill, first letters.

The interface is ``base.Protocol``; ``docs/protocols.md`` says how to add one.
"""
from __future__ import annotations

from .base import Prepared, Protocol, Tables
from .first_letter import FirstLetter
from .hungarian import Hungarian
from .literal import Literal

__all__ = ["PROTOCOLS", "Prepared", "Protocol", "Tables", "get"]

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (Literal(), Hungarian(), FirstLetter())}


def get(name: str) -> Protocol:
    """The protocol a preset names (``teer.presets.Preset.protocol``)."""
    return PROTOCOLS[name]
