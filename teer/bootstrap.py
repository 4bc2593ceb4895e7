"""Confidence intervals by resampling files, and paired comparison of two systems.

The unit of resampling is the file (a conversation): errors within a file are
not independent, files are. A bootstrap resample draws as many files as there
are, with replacement (numpy ``Generator.multinomial`` gives how many times each
file is drawn); its components are the **sums** of the drawn files' seconds and
its rates are computed from those sums, exactly as for the report itself. Where
the report's figure is the mean of per-file rates (``average="files"``, the eder
preset), a resample's figure is the mean of the drawn files' rates instead (a file
drawn twice counts twice; files where a rate is undefined are left out of its
mean). The interval is the percentile interval: the
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

import math
import numbers
import warnings
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from . import messages
from .components import SECONDS, Report, is_rate, rates_of_arrays
from .segments import OptionError

DEFAULT_RESAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95
DEFAULT_SEED = 0
#: the most resamples: their rates are all kept (about 100 bytes each) for the percentiles,
#: which are stable to well below a percent long before
MAX_RESAMPLES = 1_000_000
# resamples drawn at once: bounds the (block x files) count matrix
_BLOCK_CELLS = 1 << 22
#: below this many files, a bootstrap over files is warned about: the resamples are few
#: distinct multisets of a handful of conversations, and the interval reflects little
#: more than which files happen to be there
MIN_FILES = 10


@dataclass
class Settings:
    resamples: int = DEFAULT_RESAMPLES
    confidence: float = DEFAULT_CONFIDENCE
    seed: int = DEFAULT_SEED

    def __post_init__(self):
        if isinstance(self.resamples, bool) or not isinstance(self.resamples, numbers.Integral):
            raise TypeError(f"the number of bootstrap resamples must be an integer, not {self.resamples!r}")
        # (OptionError: the command line names --bootstrap and --confidence)
        if not 1 <= self.resamples <= MAX_RESAMPLES:
            raise OptionError("bootstrap", f"must be between 1 and {MAX_RESAMPLES:,} (every resample's rates are "
                              f"kept for the percentiles), not {self.resamples}", "the number of bootstrap resamples")
        if not 0 < float(self.confidence) < 1:
            raise OptionError("confidence", f"must be between 0 and 1 (exclusive), not {self.confidence}",
                              "the confidence")

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
    return rates_of_arrays({k: sums[..., i] for i, k in enumerate(SECONDS)}, emotions)


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


def rate_names(report: Report) -> list[str]:
    """The rates the report gives (the five, or those of the preset's columns)."""
    return [k for k in report.columns if is_rate(k)]


def file_rates(report: Report, files: list[str], names: list[str]) -> np.ndarray:
    """files x rates of a report's per-file rates, NaN where a rate is undefined."""
    rows = [report.row(report.files[f]) for f in files]
    return np.array([[np.nan if r[k] is None else r[k] for k in names] for r in rows],
                    dtype=np.float64).reshape(len(files), len(names))


def resampled_figures(reports: list[Report], files: list[str], settings: Settings) -> list[dict[str, np.ndarray]]:
    """Each report's figures in every resample (the same draws for all): rates of the
    re-summed components, or the mean of the drawn files' rates when averaging files."""
    if all(r.average == "sums" for r in reports):
        sums = resampled_sums([component_matrix(r, files) for r in reports], settings)
        return [rates(m, r.total.emotions) for m, r in zip(sums, reports)]
    names = [rate_names(r) for r in reports]
    matrices = [file_rates(r, files, n) for r, n in zip(reports, names)]
    rng = np.random.default_rng(settings.seed)
    out: list[list[np.ndarray]] = [[] for _ in reports]
    for counts in resample_counts(len(files), int(settings.resamples), rng):
        counts = counts.astype(np.float64)
        for acc, m in zip(out, matrices):
            defined = np.isfinite(m)
            total = counts @ np.where(defined, m, 0.0)
            weight = counts @ defined.astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                acc.append(np.where(weight > 0, total / weight, np.nan))
    return [{k: np.concatenate(acc)[:, i] for i, k in enumerate(n)} for acc, n in zip(out, names)]


def percentile_interval(values: np.ndarray, confidence: float) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return None
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(finite, [alpha, 1 - alpha])
    return float(lo), float(hi)


def few_files(n_files: int) -> list[str]:
    """A warning when ``n_files`` is too few for a bootstrap over files to mean much."""
    if n_files >= MIN_FILES:
        return []
    # the distinct multisets of n_files drawn from n_files
    distinct = math.comb(2 * n_files - 1, n_files) if n_files > 0 else 1
    return [messages.bootstrap_few_files(n_files, MIN_FILES, distinct)]


def _warn(messages: list[str]) -> None:
    from .checks import TeerWarning

    for message in messages:
        warnings.warn(message, TeerWarning, stacklevel=3)


def intervals(report: Report, settings: Settings) -> dict[str, tuple[float, float] | None]:
    """Percentile interval of every rate, resampling the report's files (None where undefined).

    Warns (``teer.TeerWarning``) when there are too few files (``few_files``)."""
    names = rate_names(report)
    _warn(few_files(len(report.files)))
    if not report.files:
        return {k: None for k in names}
    (resampled,) = resampled_figures([report], sorted(report.files), settings)
    figures = report.figures()
    return {k: percentile_interval(resampled[k], settings.confidence) if figures[k] is not None else None
            for k in names}


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
    """Paired bootstrap over files of two reports scored on the same files.

    Warns (``teer.TeerWarning``) when there are too few files (``few_files``)."""
    if set(report_a.files) != set(report_b.files):
        only = sorted(set(report_a.files) ^ set(report_b.files))
        raise ValueError(f"the two systems are not scored on the same files (e.g. {only[:3]})")
    files = sorted(report_a.files)
    _warn(few_files(len(files)))
    out = {}
    if files:
        ra, rb = resampled_figures([report_a, report_b], files, settings)
    figures_a, figures_b = report_a.figures(), report_b.figures()
    for k in rate_names(report_a):
        a, b = figures_a[k], figures_b[k]
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
    import io

    from . import render, ticks
    names = rate_names(report)
    n_files = len(report.files)
    if fmt == "json":
        data = render.json_data(report)
        data["intervals"] = {k: None if v is None else list(v) for k, v in cis.items()}
        data["bootstrap"] = settings.to_dict(n_files)
        return ticks.dumps(data, indent=2, ensure_ascii=False) + "\n"
    pct = f"{100 * settings.confidence:g}%"
    if fmt == "csv":
        out = io.StringIO()
        writer = render.CsvWriter(out)
        for end, name in ((0, "CI_low"), (1, "CI_high")):
            writer.writerow([name] + [("n/a" if cis[k] is None else repr(cis[k][end])) if k in cis else ""
                                      for k in report.columns])
        return render.as_csv(report, per_file, comments=(settings.describe(n_files),)) + out.getvalue()
    header = ["interval"] + [f"{k} %" for k in names]
    body = [[f"{pct} CI {name}"] + ["n/a" if cis[k] is None else f"{100 * cis[k][end]:.2f}" for k in names]
            for end, name in ((0, "low"), (1, "high"))]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = [f"# {settings.describe(n_files)}"]
    for row in [header] + body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return render.as_table(report, per_file) + "\n".join(lines) + "\n"
