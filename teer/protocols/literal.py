"""Emotion labels compared as they are (the ``wu2023`` preset: Wu, Zhang & Woodland 2023).

The tables are swept as given: one run on the speakers and emotions, every file of
either side scored (a file of the reference only is missed speech, of the hypothesis
only false alarm). The only preparation is for ``non_target="drop"``: the scored
time stays that of the reference as given.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from .. import messages
from .base import Prepared, Protocol, Tables, extents

if TYPE_CHECKING:
    from ..options import ScoringOptions


class Literal(Protocol):
    name: ClassVar[str] = "literal"
    streams = True
    literal_labels = True

    def prepare(self, tables: Tables, options: ScoringOptions) -> Prepared:
        uem, warnings = tables.uem, []
        if options.non_target == "drop":
            emptied = sorted(tables.given_ref.file_names() - tables.ref.file_names())
            if emptied:
                warnings.append(messages.files_without_scored_emotions(emptied))
            if uem is None:
                # the scored time stays that of the reference as given, so that system speech
                # where non-target speech was dropped is false alarm, not unscored
                given = tables.given_ref
                uem = extents(given, (given, tables.hyp) if options.uem_default == "union" else (given,))
        return Prepared({"speaker": (tables.ref, tables.hyp)}, uem, tables.given_files(), warnings=warnings)
