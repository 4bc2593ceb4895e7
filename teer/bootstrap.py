"""Confidence intervals by resampling files, and paired comparison of two systems.

The unit of resampling is the file (a conversation): errors within a file are
not independent, files are. A bootstrap resample draws as many files as there
are, with replacement (numpy ``Generator.multinomial`` gives how many times each
file is drawn); its components are the **sums** of the drawn files' seconds and
its rates are computed from those sums, exactly as for the report itself (never
an average of per-file rates). The interval is the percentile interval: the
(1 − c)/2 and (1 + c)/2 quantiles of the resampled rates (resamples where a rate
is undefined, e.g. AGREE = 0 for EERa, are left out).

**Paired comparison** (``compare``): both systems are scored on the same files
and every resample draws the same files for both, so that what the two have in
common (hard files) cancels. For each rate, Δ = rate(A) − rate(B); the interval
is the percentile interval of the resampled Δ*; the two-sided p-value is

    p = min(1, 2 · min(#{Δ* ≤ 0} + 1, #{Δ* ≥ 0} + 1) / (N + 1))

with N the number of resamples in which Δ is defined: twice the bootstrap
probability of the tail beyond zero, with the usual +1 so that it is never 0.
It is below 1 − c roughly when the interval excludes 0. Identical systems get 1.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .components import RATES, SECONDS, Report

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
# resamples drawn at once: bounds the (block x files) count matrix
_BLOCK_CELLS = 1 << 22


@dataclass
class Settings:
    resamples: int = DEFAULT_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        if int(self.resamples) < 1:
            raise ValueError(f"the number of bootstrap resamples must be at least 1, not {self.resamples}")
        if not 0 < float(self.confidence) < 1:
            raise ValueError(f"the confidence must be between 0 and 1 (exclusive), not {self.confidence}")

    def to_dict(self, n_files: int) -> dict:
        return {"resamples": int(self.resamples), "confidence": float(self.confidence),
                "seed": int(self.seed), "unit": "file", "files": n_files,
                "method": "percentile, components re-summed per resample"}

    def describe(self, n_files: int) -> str:
        return (f"bootstrap: {100 * self.confidence:g}% percentile intervals, {self.resamples} resamples "
                f"of {n_files} file(s), seed {self.seed}")


def component_matrix(report: Report, files: list[str] | None = None) -> np.ndarray:
    """files x components (in ``components.SECONDS`` order) of a report, in seconds."""
    names = sorted(report.files) if files is None else files
    return np.array([[getattr(report.files[f], k) for k in SECONDS] for f in names],
                    dtype=np.float64).reshape(len(names), len(SECONDS))


def rates(sums: np.ndarray, emotions: bool = True) -> dict[str, np.ndarray]:
    """Each rate from rows of summed components (NaN where undefined), like ``Components``."""
    c = {k: sums[..., i] for i, k in enumerate(SECONDS)}

    def ratio(num, den):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, num / den, np.nan)

    out = {
        "TEER": ratio(c["MS"] + c["FA"] + c["CONF_emo"], c["TOTAL"]),
        "sTEER": ratio(c["MS"] + c["FA"] + c["CONF_emo_spk"], c["TOTAL"]),
        "EERa": ratio(c["CONF_emo"], c["AGREE"]),
        "sEERa": ratio(c["CONF_emo_spk"], c["AGREE"]),
        "DER": ratio(c["MS"] + c["FA"] + c["CONF_spk"], c["TOTAL"]),
    }
    if not emotions:
        for k in ("TEER", "sTEER", "EERa", "sEERa"):
            out[k] = np.full_like(out[k], np.nan)
    return out


def resample_counts(n_files: int, resamples: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Blocks of (resamples x files) draw counts; each row sums to ``n_files``."""
    block = max(1, _BLOCK_CELLS // max(n_files, 1))
    p = np.full(n_files, 1.0 / n_files)
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        yield rng.multinomial(n_files, p, size=size)
        done += size


def resampled_sums(matrices: list[np.ndarray], settings: Settings) -> list[np.ndarray]:
    """For each files x components matrix, the (resamples x components) sums, same draws for all."""
    n_files = matrices[0].shape[0]
    rng = np.random.default_rng(settings.seed)
    out: list[list[np.ndarray]] = [[] for _ in matrices]
    for counts in resample_counts(n_files, int(settings.resamples), rng):
        counts = counts.astype(np.float64)
        for acc, m in zip(out, matrices):
            acc.append(counts @ m)
    return [np.concatenate(acc) for acc in out]


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi)


def intervals(report: Report, settings: Settings) -> dict[str, tuple[float, float] | None]:
    """Percentile interval of every rate, resampling the report's files (None where undefined)."""
    _check_sums(report)
    if not report.files:
        return {k: None for k in RATES}
    (sums,) = resampled_sums([component_matrix(report)], settings)
    resampled = rates(sums, report.total.emotions)
    return {k: percentile_interval(resampled[k], settings.confidence) if report.total[k] is not None else None
            for k in RATES}


def _check_sums(report: Report) -> None:
    if report.average != "sums":
        raise ValueError("bootstrap intervals resample summed components (rates of sums); they are not "
                         "available for a mean of per-file rates (--average files, or the eder preset)")


@dataclass
class Difference:
    """One rate of two systems, their difference A − B, its interval and p-value."""

    a: float | None
    b: float | None
    difference: float | None
    interval: tuple[float, float] | None
    p: float | None

    def to_dict(self) -> dict:
        return {"A": self.a, "B": self.b, "difference": self.difference,
                "interval": None if self.interval is None else list(self.interval), "p": self.p}


def p_value(deltas: np.ndarray) -> float | None:
    """Two-sided bootstrap p-value of Δ = 0 (see the module docstring)."""
    finite = deltas[np.isfinite(deltas)]
    if len(finite) == 0:
        return None
    below = int(np.count_nonzero(finite <= 0))
    above = int(np.count_nonzero(finite >= 0))
    return min(1.0, 2 * (min(below, above) + 1) / (len(finite) + 1))


def compare(report_a: Report, report_b: Report, settings: Settings) -> dict[str, Difference]:
    """Paired bootstrap over files of two reports scored on the same files."""
    _check_sums(report_a)
    if set(report_a.files) != set(report_b.files):
        only = sorted(set(report_a.files) ^ set(report_b.files))
        raise ValueError(f"the two systems are not scored on the same files (e.g. {only[:3]})")
    files = sorted(report_a.files)
    emotions = report_a.total.emotions and report_b.total.emotions
    out = {}
    if files:
        sums_a, sums_b = resampled_sums([component_matrix(report_a, files), component_matrix(report_b, files)],
                                        settings)
        ra, rb = rates(sums_a, emotions), rates(sums_b, emotions)
    for k in RATES:
        a, b = report_a.total[k], report_b.total[k]
        if a is None or b is None or not files:
            out[k] = Difference(a, b, None, None, None)
            continue
        delta = ra[k] - rb[k]
        out[k] = Difference(a, b, a - b, percentile_interval(delta, settings.confidence), p_value(delta))
    return out


# --------------------------------------------------------------------------
# rendering


def render_with_intervals(report: Report, cis: dict, settings: Settings, fmt: str, per_file: bool) -> str:
    """The report as ``teer.render`` writes it, plus the intervals of the total's rates.

    JSON gains the top-level keys ``intervals`` (``{"TEER": [lo, hi] or null, ...}``)
    and ``bootstrap`` (the settings); a table gains a comment line and two rows
    (low and high end, rates only); CSV gains the rows ``CI_low`` and ``CI_high``.
    """
    import csv
    import io
    import json

    from . import render
    from .components import KEYS

    n_files = len(report.files)
    if fmt == "json":
        data = json.loads(render.as_json(report))
        data["intervals"] = {k: None if v is None else list(v) for k, v in cis.items()}
        data["bootstrap"] = settings.to_dict(n_files)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    pct = f"{100 * settings.confidence:g}%"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for end, name in ((0, "CI_low"), (1, "CI_high")):
            writer.writerow([name] + [("n/a" if cis[k] is None else repr(cis[k][end])) if k in RATES else ""
                                      for k in KEYS])
        return render.as_csv(report, per_file) + out.getvalue()
    header = ["interval"] + [f"{k} %" for k in RATES]
    body = [[f"{pct} CI {name}"] + ["n/a" if cis[k] is None else f"{100 * cis[k][end]:.2f}" for k in RATES]
            for end, name in ((0, "low"), (1, "high"))]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = [f"# {settings.describe(n_files)}"]
    for row in [header] + body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return render.as_table(report, per_file) + "\n".join(lines) + "\n"
