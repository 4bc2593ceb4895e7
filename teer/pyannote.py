"""TEER and sTEER as pyannote.metrics metrics (needs ``pip install "teer-scorer[pyannote]"``).

>>> from teer.pyannote import TimeWeightedEmotionErrorRate
>>> metric = TimeWeightedEmotionErrorRate()            # preset wu2023: collar 0.25, ...
>>> for reference, hypothesis in files:                 # doctest: +SKIP
...     metric(reference, hypothesis)                   # one file: its TEER
>>> abs(metric)                                         # doctest: +SKIP
>>> metric.report(display=True)                         # doctest: +SKIP
>>> metric.confidence_interval()                        # doctest: +SKIP

Annotations carry ``(speaker, emotion)`` labels (``teer.io.annotation``).
Each call scores one file with ``teer.score`` (the same engine as the command
line, not a second implementation), under the preset and options given to the
constructor. ``collar`` has teer's meaning: seconds removed on **each** side
of every reference boundary (pyannote's own ``collar`` is the total width).

The keywords of pyannote's ``IdentificationErrorRate`` mean what they mean there:
``skip_overlap=True`` scores only where at most one reference speaker speaks
(``regions="nonoverlap"``), and ``confusion``, ``miss`` and ``false_alarm`` weigh
the components in the rate. Any other keyword is a ``TypeError``. ``uem`` is a
``Timeline`` or a ``Segment``. Where the reference or the hypothesis of a file
has no emotion labels (plain speaker labels), the emotion rates are not
available, as in ``teer.score``: a ``TeerWarning`` says why, and ``confusion``,
``correct`` and the rate are NaN (so is the accumulated rate).

The components are those of pyannote's ``IdentificationErrorRate``: ``total``
(TOTAL), ``missed detection`` (MS), ``false alarm`` (FA), ``confusion``
(CONF_emo, or CONF_emo_spk for sTEER) and ``correct`` (AGREE − confusion).
As in pyannote.metrics, a file or total with no reference speech has the rate
0 (nothing to get wrong) or 1 (only false alarm), where teer's own reports say
"not available". ``teer_total`` gives teer's ``Components`` summed over the
files, for the other rates (EERa, sEERa, DER).
"""
from __future__ import annotations

import math
import warnings

from .checks import TeerWarning
from .extras import install_hint

try:
    from pyannote.metrics.base import BaseMetric
except ModuleNotFoundError as err:
    if not (err.name or "").startswith("pyannote"):
        raise
    raise ImportError(f"teer.pyannote needs pyannote.metrics: {install_hint('pyannote')}",
                      name=err.name) from None

from .api import score_tables
from .components import Components
from .io.annotation import from_annotations
from .messages import pyannote_without_emotions
from .options import resolve
from .presets import DEFAULT_PRESET

COMPONENTS = ["total", "correct", "missed detection", "false alarm", "confusion"]


class _TeerMetric(BaseMetric):
    _confusion = "CONF_emo"

    def __init__(self, preset: str = DEFAULT_PRESET, *, collar: float | None = None,
                 regions: str | None = None, uem_default: str | None = None, emotions=None,
                 emotion_map=None, non_target: str | None = None, skip_overlap: bool = False,
                 confusion: float = 1.0, miss: float = 1.0, false_alarm: float = 1.0):
        if not isinstance(skip_overlap, bool):
            raise TypeError(f"skip_overlap must be True or False, not {skip_overlap!r}")
        if skip_overlap:
            # pyannote.metrics' skip_overlap: score only where the reference does not overlap
            if regions not in (None, "nonoverlap"):
                raise ValueError(f"skip_overlap=True scores regions='nonoverlap', not regions={regions!r}")
            regions = "nonoverlap"
        for name, weight in (("confusion", confusion), ("miss", miss), ("false_alarm", false_alarm)):
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
                raise TypeError(f"{name} must be a finite number (a weight, as in pyannote.metrics), not {weight!r}")
        self.skip_overlap = skip_overlap
        self.confusion, self.miss, self.false_alarm = float(confusion), float(miss), float(false_alarm)
        self.options = resolve(preset, collar=collar, regions=regions, uem_default=uem_default,
                               emotions=emotions, emotion_map=emotion_map, non_target=non_target)
        if self.options.average != "sums":
            # pyannote.metrics sums components over files; this preset's figure is a mean of rates
            raise ValueError(f"preset {preset} reports a mean of per-file rates, which a pyannote.metrics "
                             f"metric (summed components) cannot give: use teer.score(..., preset={preset!r})")
        self.preset = self.options.preset
        super().__init__()

    @classmethod
    def metric_components(cls) -> list[str]:
        return list(COMPONENTS)

    def reset(self):
        super().reset()
        self.teer_results_: list[tuple[str, Components]] = []

    @property
    def teer_total(self) -> Components:
        """teer's components summed over every file scored so far."""
        return sum((c for _, c in self.teer_results_), Components())

    def compute_components(self, reference, hypothesis, uem=None, **kwargs) -> dict[str, float]:
        name = str(getattr(reference, "uri", None) or "<annotation>")
        ref = from_annotations({name: reference})
        hyp = from_annotations({name: hypothesis})
        uem_map = None
        if uem is not None:
            uem_map = {name: _uem_spans(uem)}
        elif len(ref) == 0:  # nothing to take an extent from: the union extent is the hypothesis's
            spans = [(s.start, s.end) for s in hypothesis.get_timeline().support()]
            scored = self.options.uem_default == "union" and spans
            uem_map = {name: [(spans[0][0], spans[-1][1])] if scored else []}
        # the file is the reference's even when the annotation is empty
        report = score_tables(ref, hyp, self.options, uem=uem_map, reference_files=[name])
        c = report.files.get(name, Components(emotions=report.total.emotions))
        self.teer_results_.append((name, c))
        confusion = getattr(c, self._confusion)
        if not c.emotions and any(len(side) and not side.has_emotions() for side in (ref, hyp)):
            # as teer.score: no emotion rate where a side has no emotion labels, not a TEER of 1
            for note in (n for n in report.notes if "not available" in n):
                warnings.warn(pyannote_without_emotions(self.name, name, note), TeerWarning, stacklevel=3)
            confusion = math.nan
        return {"total": c.TOTAL, "correct": c.AGREE - confusion, "missed detection": c.MS,
                "false alarm": c.FA, "confusion": confusion}

    def compute_metric(self, detail: dict[str, float]) -> float:
        numerator = (self.miss * detail["missed detection"] + self.false_alarm * detail["false alarm"]
                     + self.confusion * detail["confusion"])
        if math.isnan(numerator):  # the emotion rates are not available (no emotion labels)
            return math.nan
        if detail["total"] == 0:  # pyannote.metrics' convention
            return 0.0 if numerator == 0 else 1.0
        return numerator / detail["total"]


def _uem_spans(uem) -> list[tuple[float, float]]:
    """A pyannote ``Timeline`` or ``Segment`` as (start, end) spans."""
    from pyannote.core import Segment, Timeline

    if isinstance(uem, Segment):
        return [(uem.start, uem.end)] if uem else []
    if isinstance(uem, Timeline):
        return [(s.start, s.end) for s in uem.support()]
    raise TypeError(f"uem must be a pyannote.core Timeline or Segment, not {type(uem).__name__}")


class TimeWeightedEmotionErrorRate(_TeerMetric):
    """TEER = (missed detection + false alarm + emotion confusion) / total."""

    _confusion = "CONF_emo"

    @classmethod
    def metric_name(cls) -> str:
        return "TEER"


class SpeakerAttributedTEER(_TeerMetric):
    """sTEER: as TEER, but speech is right only with the right emotion and the right speaker."""

    _confusion = "CONF_emo_spk"

    @classmethod
    def metric_name(cls) -> str:
        return "sTEER"
