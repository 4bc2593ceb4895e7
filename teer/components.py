"""Error components that add up across files, and the rates computed from their sums."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

RATES = ("TEER", "sTEER", "EERa", "sEERa", "DER")
SECONDS = ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL")
KEYS = RATES + SECONDS


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


@dataclass
class Components:
    """Seconds of each kind of error for one file or a sum of files.

    ``a + b`` adds the seconds; the rates are always computed from the sums,
    never averaged. ``emotions`` is false when the reference carries no emotion
    labels: then the emotion rates are ``None`` (not available).
    """

    MS: float = 0.0
    FA: float = 0.0
    CONF_emo: float = 0.0
    CONF_spk: float = 0.0
    CONF_emo_spk: float = 0.0
    AGREE: float = 0.0
    TOTAL: float = 0.0
    emotions: bool = field(default=True, compare=False)

    def __add__(self, other: "Components") -> "Components":
        if not isinstance(other, Components):
            return NotImplemented
        values = {k: getattr(self, k) + getattr(other, k) for k in SECONDS}
        return Components(**values, emotions=self.emotions and other.emotions)

    def __radd__(self, other):
        if other == 0:  # lets sum() start from its default 0
            return self
        return self.__add__(other)

    @property
    def TEER(self) -> float | None:
        if not self.emotions:
            return None
        return _ratio(self.MS + self.FA + self.CONF_emo, self.TOTAL)

    @property
    def sTEER(self) -> float | None:
        if not self.emotions:
            return None
        return _ratio(self.MS + self.FA + self.CONF_emo_spk, self.TOTAL)

    @property
    def DER(self) -> float | None:
        return _ratio(self.MS + self.FA + self.CONF_spk, self.TOTAL)

    @property
    def EERa(self) -> float | None:
        if not self.emotions:
            return None
        return _ratio(self.CONF_emo, self.AGREE)

    @property
    def sEERa(self) -> float | None:
        if not self.emotions:
            return None
        return _ratio(self.CONF_emo_spk, self.AGREE)

    def __getitem__(self, key: str) -> float | None:
        if key not in KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(KEYS)

    def to_dict(self) -> dict[str, float | None]:
        """Exactly the keys TEER sTEER EERa sEERa DER (fractions) and the seconds."""
        return {k: self[k] for k in KEYS}


def is_rate(key: str) -> bool:
    """Whether a column is a rate (a fraction) rather than seconds."""
    return key in RATES or key == "EDER"


@dataclass
class Report:
    """The result of scoring: settings in force, the total and each file.

    ``total`` holds the summed components (rates from the sums). With
    ``average == "files"`` the reported figure is instead ``mean()``: each
    column averaged over the files. ``columns`` are the keys reported
    (``KEYS``; the eder preset reports ``EDER``, a file's TEER, and the
    components that mean something under it).
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

    def row(self, c: Components) -> dict[str, float | None]:
        """The reported columns of one file or a sum of files."""
        return {k: c.TEER if k == "EDER" else c[k] for k in self.columns}

    def mean(self) -> dict[str, float | None]:
        """Each column averaged over the files ("macro average"): a rate over the files
        where it is defined (None if it is nowhere), seconds over all files."""
        rows = [self.row(c) for c in self.files.values()]
        out: dict[str, float | None] = {}
        for k in self.columns:
            values = [r[k] for r in rows if r[k] is not None]
            out[k] = sum(values) / len(values) if values else None
        return out

    def figures(self) -> dict[str, float | None]:
        """The reported figures: ``mean()`` when averaging files, else the total's."""
        return self.mean() if self.average == "files" else self.row(self.total)

    def to_dict(self) -> dict:
        data = {
            "settings": dict(self.settings),
            "total": self.row(self.total),
            "files": {name: self.row(c) for name, c in self.files.items()},
        }
        if self.skipped:
            data["skipped"] = dict(self.skipped)
        if self.average == "files":
            data["mean"] = self.mean()
        return data

    def __add__(self, other: "Report") -> "Report":
        """Combine reports of disjoint file sets scored with the same settings."""
        if self.settings != other.settings:
            raise ValueError("cannot add reports computed with different settings")
        common = set(self.files) & set(other.files)
        if common:
            raise ValueError(f"both reports score file(s) {sorted(common)[:3]}")
        return Report(self.settings, self.total + other.total, {**self.files, **other.files},
                      self.warnings + other.warnings, sorted(set(self.notes + other.notes)),
                      {**self.skipped, **other.skipped}, self.average, self.columns)

