"""Error components that add up across files, and the rates computed from their sums.

This module is the one home of both: ``SECONDS`` names the components (the
engine fills them per region, ``Components`` adds them across files) and
``RATES`` writes each rate's formula once. ``Components`` and the bootstrap
(``teer.bootstrap``) both compute rates from ``RATES``, so a new rate is one
entry here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Mapping

import numpy as np

from .ticks import Seconds, ticks_of

SECONDS = ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL")
#: the scored-time accounting, in seconds of reference speech (each speaker's time, counted as
#: TOTAL counts it): SPEECH before anything is removed, then what each step removes from what
#: the steps before it left, in this order; SPEECH minus the four REMOVED_ is TOTAL
ACCOUNTING = ("SPEECH", "REMOVED_UEM", "REMOVED_NOSCORE", "REMOVED_REGIONS", "REMOVED_COLLAR")
#: the reference speech of the files a preset skips (ser-align: SER-Align's script skips
#: files), in SPEECH too; 0 in every scored file. Reported under the presets that skip files.
SKIPPED_SPEECH = "REMOVED_SKIPPED"


@dataclass(frozen=True)
class Rate:
    """A rate: the sum of some components divided by another component.

    ``emotions``: the rate is about emotions, so it is not available when the
    reference (or the hypothesis) carries no emotion labels.
    """

    name: str
    numerator: tuple[str, ...]
    denominator: str
    emotions: bool = True

    def of(self, values: Mapping[str, float], emotions: bool = True) -> float | None:
        """The rate of one set of components (None where undefined): exact sums of ticks
        divided once (Python rounds an integer quotient correctly)."""
        den = values[self.denominator]
        if (self.emotions and not emotions) or not den > 0:
            return None
        if isinstance(den, Seconds) and all(isinstance(values[k], Seconds) for k in self.numerator):
            return sum(values[k].ticks for k in self.numerator) / den.ticks
        return sum(values[k] for k in self.numerator) / den

    def of_arrays(self, values: Mapping[str, np.ndarray], emotions: bool = True) -> np.ndarray:
        """The rate of rows of components (NaN where undefined)."""
        den = values[self.denominator]
        num = sum(values[k] for k in self.numerator)
        if self.emotions and not emotions:
            return np.full(np.shape(den), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)


#: every rate teer reports, in report order (``Components.TEER`` etc. are read from here)
RATES = {rate.name: rate for rate in (
    Rate("TEER", ("MS", "FA", "CONF_emo"), "TOTAL"),
    Rate("sTEER", ("MS", "FA", "CONF_emo_spk"), "TOTAL"),
    Rate("EERa", ("CONF_emo",), "AGREE"),
    Rate("sEERa", ("CONF_emo_spk",), "AGREE"),
    Rate("DER", ("MS", "FA", "CONF_spk"), "TOTAL", emotions=False),
)}
#: rates reported under another name by a preset (the eder preset's EDER is a file's TEER)
ALIASES = {"EDER": "TEER"}
KEYS = tuple(RATES) + SECONDS
#: every sum a file's components hold (added across files)
SUMS = SECONDS + ACCOUNTING + (SKIPPED_SPEECH,)


def rates_of_arrays(values: Mapping[str, np.ndarray], emotions: bool = True) -> dict[str, np.ndarray]:
    """Every rate of rows of components (NaN where undefined), like ``Components``."""
    return {name: rate.of_arrays(values, emotions) for name, rate in RATES.items()}


@dataclass
class Components:
    """Seconds of each kind of error for one file or a sum of files, and the
    accounting of its scored time (``ACCOUNTING``: SPEECH minus the removed
    seconds is TOTAL).

    Each is a ``teer.ticks.Seconds``: a float that keeps its exact ticks (numbers given
    in seconds are converted once, to the nearest tick). ``a + b`` adds the ticks; the
    rates are always computed from the exact sums, never averaged. ``emotions`` is
    false when the reference carries no emotion labels: then the emotion rates are
    ``None`` (not available).
    """

    MS: float = 0.0
    FA: float = 0.0
    CONF_emo: float = 0.0
    CONF_spk: float = 0.0
    CONF_emo_spk: float = 0.0
    AGREE: float = 0.0
    TOTAL: float = 0.0
    SPEECH: float = 0.0
    REMOVED_UEM: float = 0.0
    REMOVED_NOSCORE: float = 0.0
    REMOVED_REGIONS: float = 0.0
    REMOVED_COLLAR: float = 0.0
    REMOVED_SKIPPED: float = 0.0
    emotions: bool = field(default=True, compare=False)

    def __post_init__(self):
        for k in SUMS:
            value = getattr(self, k)
            if not isinstance(value, Seconds):
                setattr(self, k, Seconds(ticks_of(value)))

    @classmethod
    def from_ticks(cls, emotions: bool = True, **ticks: int) -> "Components":
        """Components from their ticks (``SUMS`` keys; missing ones are 0)."""
        return cls(**{k: Seconds(ticks.get(k, 0)) for k in SUMS}, emotions=emotions)

    def __add__(self, other: "Components") -> "Components":
        if not isinstance(other, Components):
            return NotImplemented
        values = {k: Seconds(getattr(self, k).ticks + getattr(other, k).ticks) for k in SUMS}
        return Components(**values, emotions=self.emotions and other.emotions)

    def __radd__(self, other):
        if other == 0:  # lets sum() start from its default 0
            return self
        return self.__add__(other)

    def rate(self, name: str) -> float | None:
        """The rate ``name`` (a key of ``RATES`` or ``ALIASES``) of these components."""
        return RATES[ALIASES.get(name, name)].of(self.__dict__, self.emotions)

    def __getitem__(self, key: str) -> float | None:
        if key in SUMS:
            return getattr(self, key)
        if key in RATES:
            return self.rate(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(KEYS)

    def to_dict(self) -> dict[str, float | None]:
        """Exactly the keys TEER sTEER EERa sEERa DER (fractions) and the seconds."""
        return {k: self[k] for k in KEYS}


def is_rate(key: str) -> bool:
    """Whether a column is a rate (a fraction) rather than seconds."""
    return key in RATES or key in ALIASES


# ``Components.TEER``, ``.sTEER``, ...: one read-only property per rate of ``RATES``
for _name in RATES:
    setattr(Components, _name, property(lambda self, _name=_name: self.rate(_name),
                                        doc=f"{_name} of these components (None where undefined)"))
del _name


@dataclass
class Report:
    """The result of scoring: settings in force, the total and each file.

    ``total`` holds the summed components (rates from the sums). With
    ``average == "files"`` the reported figure is instead ``mean()``: each
    column averaged over the files. ``columns`` are the keys reported
    (``KEYS``; the eder preset reports ``EDER``, a file's TEER, and the
    components that mean something under it); a row also holds the scored-time
    accounting (``ACCOUNTING``; ``fields``).
    """

    settings: dict
    total: Components
    files: dict[str, Components]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: files left out of the scoring, with the reason (the ser-align preset skips
    #: files as SER-Align's script does)
    skipped: dict[str, str] = field(default_factory=dict)
    average: str = "sums"
    columns: tuple[str, ...] = KEYS
    #: per file, each hypothesis speaker and the reference speaker it is mapped to (None:
    #: none), as DER and sTEER compare them (md-eval's and spyder's speaker mapping)
    speaker_mapping: dict[str, dict[str, str | None]] = field(default_factory=dict)
    #: per skipped file (``skipped``), its accounting: its reference speech, all of it
    #: REMOVED_SKIPPED (in ``total`` too, not in ``files``: those are the scored files)
    skipped_files: dict[str, Components] = field(default_factory=dict)
    #: whether the preset's protocol skips files (``teer.protocols.Protocol.skips_files``: ser-align)
    protocol_skips_files: bool = False

    @property
    def skips_files(self) -> bool:
        """Whether the preset skips files (ser-align), so that rows hold REMOVED_SKIPPED."""
        return bool(self.skipped) or self.protocol_skips_files

    @property
    def fields(self) -> tuple[str, ...]:
        """The reported columns, then the scored-time accounting: the keys of a row."""
        return self.columns + ACCOUNTING + ((SKIPPED_SPEECH,) if self.skips_files else ())

    def accounted(self) -> dict[str, Components]:
        """Every file of the accounting: the scored ones (``files``), and the skipped ones
        (``skipped_files``) among them in name order."""
        if not self.skipped_files:
            return self.files
        return {name: self.files.get(name) or self.skipped_files[name]
                for name in sorted({*self.files, *self.skipped_files})}

    def row(self, c: Components) -> dict[str, float | None]:
        """The reported figures of one file or a sum of files (``fields``)."""
        return {k: c.rate(k) if is_rate(k) else c[k] for k in self.fields}

    def mean(self) -> dict[str, float | None]:
        """Each column averaged over the files ("macro average"): a rate over the files
        where it is defined (None if it is nowhere), seconds over all files."""
        rows = [self.row(c) for c in self.files.values()]
        out: dict[str, float | None] = {}
        for k in self.fields:
            values = [r[k] for r in rows if r[k] is not None]
            out[k] = sum(values) / len(values) if values else None
        return out

    @property
    def mean_only(self) -> bool:
        """The preset's figure is the mean over files and nothing else (eder: SpeechBrain's
        EDER is a mean): the total keeps its seconds, not rates of its own."""
        from .presets import PRESETS

        preset = PRESETS.get(self.settings.get("preset", ""))
        return self.average == "files" and preset is not None and "average" in preset.fixed

    def total_row(self) -> dict[str, float | None]:
        """The total's row as JSON and DataFrames give it: without rates where ``mean_only``
        (so that they hold one EDER, the mean's)."""
        row = self.row(self.total)
        return {k: v for k, v in row.items() if not is_rate(k)} if self.mean_only else row

    def figures(self) -> dict[str, float | None]:
        """The reported figures: ``mean()`` when averaging files, else the total's."""
        return self.mean() if self.average == "files" else self.row(self.total)

    def to_dict(self) -> dict:
        data = {
            "settings": dict(self.settings),
            "total": self.total_row(),
            "files": {name: self.row(c) for name, c in self.accounted().items()},
        }
        if self.skipped:
            data["skipped"] = dict(self.skipped)
        if self.average == "files":
            data["mean"] = self.mean()
        data["speaker_mapping"] = {name: dict(self.speaker_mapping.get(name, {})) for name in self.files}
        return data

    def to_dataframe(self):
        """The per-file rows and the total (and the mean, when averaging files) as a
        ``pandas.DataFrame`` indexed by file, with the reported columns and the scored-time
        accounting (``fields``, as in CSV): rates as fractions,
        seconds unrounded, ``NaN`` where a rate is not available."""
        import pandas as pd

        accounted = self.accounted()
        names = sorted(accounted)
        total = self.total_row()
        rows = [self.row(accounted[name]) for name in names] + [{k: total.get(k) for k in self.fields}]
        index = names + ["TOTAL"]
        if self.average == "files":
            rows.append(self.mean())
            index.append("MEAN")
        frame = pd.DataFrame([[float("nan") if r[k] is None else r[k] for k in self.fields] for r in rows],
                             index=pd.Index(index, name="file"), columns=list(self.fields), dtype=float)
        return frame

    def __add__(self, other: "Report") -> "Report":
        """Combine reports of disjoint file sets scored with the same settings."""
        if self.settings != other.settings:
            raise ValueError("cannot add reports computed with different settings")
        common = set(self.files) & set(other.files)
        if common:
            raise ValueError(f"both reports score file(s) {sorted(common)[:3]}")
        return Report(self.settings, self.total + other.total, {**self.files, **other.files},
                      self.warnings + other.warnings, sorted(set(self.notes + other.notes)),
                      {**self.skipped, **other.skipped}, self.average, self.columns,
                      {**self.speaker_mapping, **other.speaker_mapping},
                      {**self.skipped_files, **other.skipped_files}, self.protocol_skips_files)

