"""Rendering of ``teer compare``: each system's rates, the difference, its interval, the p-value."""
from __future__ import annotations

import csv
import io
import json

from .bootstrap import Difference, Settings
from .components import Report
from .render import header_lines, rounded_row


def to_dict(report_a: Report, report_b: Report, result: dict[str, Difference], settings: Settings,
            names: tuple[str, str]) -> dict:
    return {
        "settings": dict(report_a.settings),
        "bootstrap": {**settings.to_dict(len(report_a.files)), "paired": True,
                      "p_value": "two-sided: min(1, 2 min(#{d<=0}+1, #{d>=0}+1) / (N+1))"},
        "systems": {"A": {"path": names[0], "total": rounded_row(report_a.row(report_a.total)),
                          **({"mean": rounded_row(report_a.mean())} if report_a.average == "files" else {})},
                    "B": {"path": names[1], "total": rounded_row(report_b.row(report_b.total)),
                          **({"mean": rounded_row(report_b.mean())} if report_b.average == "files" else {})}},
        "difference": {k: d.to_dict() for k, d in result.items()},
    }


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}"


def render(report_a: Report, report_b: Report, result: dict[str, Difference], settings: Settings,
           fmt: str, names: tuple[str, str] = ("A", "B")) -> str:
    if fmt == "json":
        data = to_dict(report_a, report_b, result, settings, names)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    comments = [*header_lines(report_a), f"# A: {names[0]}", f"# B: {names[1]}",
                f"# paired {settings.describe(len(report_a.files))}; p two-sided from the resampled A-B"]
    if fmt == "csv":
        out = io.StringIO()
        out.write("".join(f"{line}\n" for line in comments))
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["rate", "A", "B", "difference", "CI_low", "CI_high", "p"])
        for k, d in result.items():
            lo, hi = d.interval if d.interval is not None else (None, None)
            writer.writerow([k] + ["n/a" if v is None else repr(v) for v in (d.a, d.b, d.difference, lo, hi, d.p)])
        return out.getvalue()
    pct = f"{100 * settings.confidence:g}%"
    header = ["rate", "A %", "B %", "A-B %", f"{pct} CI of A-B", "p"]
    body = []
    for k, d in result.items():
        ci = "n/a" if d.interval is None else f"[{_pct(d.interval[0])}, {_pct(d.interval[1])}]"
        body.append([k, _pct(d.a), _pct(d.b), _pct(d.difference), ci,
                     "n/a" if d.p is None else f"{d.p:.4f}"])
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = list(comments)
    for row in [header] + body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines) + "\n"
