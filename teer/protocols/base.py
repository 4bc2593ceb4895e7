"""The interface every protocol implements, and the pieces several of them share.

A protocol is what a preset does beyond setting option values (``teer.presets``):
how it prepares the reference and hypothesis tables for the sweep, which files it
scores or skips, and how it combines the components of its runs. ``teer.pipeline``
applies the emotion map and the emotion set to the inputs, then hands the
tables to the preset's protocol (``prepare``), sweeps each run it returns and
asks it to ``combine`` the runs' components; the checks of the inputs ask it
which time it scores (``checked_time``) and whether it compares labels
literally. One module per protocol; ``teer.protocols.PROTOCOLS`` lists them.
"""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ..components import KEYS, Components
from ..segments import SegmentTable

if TYPE_CHECKING:
    from ..options import ScoringOptions

#: {file: [(start, end), ...]} in ticks
Uem = Mapping[str, Sequence[tuple[int, int]]]


@dataclass
class Tables:
    """What a protocol is given: the tables with the emotion map and emotion set applied."""

    #: the reference as given (no emotion map, no emotion set)
    given_ref: SegmentTable
    #: the reference with the emotion map and the emotion set applied
    ref: SegmentTable
    #: the hypothesis with the emotion map applied
    hyp: SegmentTable
    #: the files the hypothesis names (also those without a segment)
    hypothesis_files: Sequence[str]
    #: the UEM given, in ticks (``teer.inputs.as_uem``), or None
    uem: Uem | None
    #: the UEM as the caller gave it (a path, a mapping or None), for the settings
    uem_given: Any
    #: files the reference covers without a segment (``teer.api.score_tables``)
    reference_files: Sequence[str] = ()

    def given_files(self, skipped: Mapping[str, str] = {}) -> list[str]:
        """The reference's files (those it names without a segment included), less ``skipped``."""
        return sorted((self.given_ref.file_names() | set(self.reference_files)) - set(skipped))


@dataclass
class Prepared:
    """What the sweep scores: the runs, each a (reference, hypothesis) pair, over ``uem``."""

    #: ``"speaker"``, the run on the speakers and emotions (MS, FA, TOTAL, AGREE, CONF_*), first;
    #: other runs give a confusion of theirs to ``combine``
    runs: dict[str, tuple[SegmentTable, SegmentTable]]
    #: the scored time (ticks), or None: ``uem_default`` chooses it per file
    uem: Uem | None
    #: the reference's files, as the sweep's ``reference_files``
    given_files: list[str]
    #: files not scored, each with the reason
    skipped: dict[str, str] = field(default_factory=dict)
    #: warnings about what the protocol did to the inputs
    warnings: list[str] = field(default_factory=list)
    #: warnings said last, after those of the accounting (the files skipped)
    last_warnings: list[str] = field(default_factory=list)
    #: the scored time as the settings say it, or None: said from the UEM option (``uem_setting``)
    uem_described: str | None = None


class Protocol(ABC):
    """How a preset prepares its runs and combines them (one instance per protocol)."""

    #: the name a preset gives (``teer.presets.Preset.protocol``)
    name: ClassVar[str]
    #: whether inputs may be read and swept a batch of files at a time (``teer.stream``): only
    #: where ``prepare`` returns the tables it is given (it may choose the scored time, the
    #: files and warnings), since each batch is swept on the inputs' own tables
    streams: ClassVar[bool] = False
    #: whether emotion labels are compared as they are (the label spelling checks apply)
    literal_labels: ClassVar[bool] = False
    #: whether files on one side only are skipped (else: a reference-only file is missed speech)
    skips_files: ClassVar[bool] = False
    #: whether a hypothesis without any emotion label is scored on emotions all the same
    labels_hypothesis_itself: ClassVar[bool] = False
    #: whether CONF_emo maps emotion labels (the analyses, which compare them literally, say so)
    maps_emotions: ClassVar[bool] = False
    #: the report's columns, and notes that say why others are left out
    columns: ClassVar[tuple[str, ...]] = KEYS
    notes: ClassVar[tuple[str, ...]] = ()

    def checked_time(self, given_ref: SegmentTable, uem: Uem | None) -> tuple[Uem | None, set[str]]:
        """The scored time and the reference's files, as the checks of the inputs see them."""
        return uem, given_ref.file_names()

    @abstractmethod
    def prepare(self, tables: Tables, options: ScoringOptions) -> Prepared:
        """The runs to sweep, their scored time and files, and what was skipped."""

    def dropped(self, mapped_ref: SegmentTable, scored: Sequence[str], options: ScoringOptions
                ) -> SegmentTable | None:
        """The reference (emotion map applied) whose speech the emotion set dropped, for the
        accounting of every second (``teer.accounting.add_dropped``); None: nothing dropped."""
        return mapped_ref if options.non_target == "drop" else None

    def skipped_accounts(self, mapped_ref: SegmentTable, skipped: Mapping[str, str], options: ScoringOptions,
                         emotions: bool) -> dict[str, Components]:
        """The accounting of each file ``prepare`` skipped: its reference speech, all of it
        REMOVED_SKIPPED (``teer.accounting.skipped_files``); none by default."""
        return {}

    def combine(self, sums_of: dict[str, dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
        """The per-file sums of the report from those of each run."""
        return sums_of["speaker"]


def extents(given_ref: SegmentTable, tables: Sequence[SegmentTable]) -> dict:
    """Per reference file (as given, before dropping), the extent of the segments of
    positive length that ``tables`` hold in it."""
    names = sorted(given_ref.file_names())
    index = {name: i for i, name in enumerate(names)}
    lo = np.full(len(names), np.iinfo(np.int64).max)
    hi = np.full(len(names), np.iinfo(np.int64).min)
    for table in tables:
        codes = np.asarray([index.get(f, -1) for f in table.files], dtype=np.int64)
        if len(table) == 0 or len(codes) == 0:
            continue
        file = codes[table.file]
        keep = (file >= 0) & (table.end > table.start)
        np.minimum.at(lo, file[keep], table.start[keep])
        np.maximum.at(hi, file[keep], table.end[keep])
    return {name: [(int(lo[i]), int(hi[i]))] for i, name in enumerate(names) if hi[i] > lo[i]}


def uem_setting(uem: Any, uem_default: str) -> str:
    """The scored time as the report's settings say it: the UEM given, or the default's extent."""
    if uem is None:
        return "reference extent" if uem_default == "reference" else "reference and hypothesis extent"
    if isinstance(uem, Mapping):
        return "given"
    return os.fspath(uem)

