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


@dataclass
class Report:
    """The result of scoring: settings in force, the total and each file."""

    settings: dict
    total: Components
    files: dict[str, Components]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: files left out of the scoring, with the reason (the ser-align preset skips
    #: files as SER-Align's script does)
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = {
            "settings": dict(self.settings),
            "total": self.total.to_dict(),
            "files": {name: c.to_dict() for name, c in self.files.items()},
        }
        if self.skipped:
            data["skipped"] = dict(self.skipped)
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
                      {**self.skipped, **other.skipped})

