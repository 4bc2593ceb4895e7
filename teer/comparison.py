"""Rendering of ``teer compare``: each system's rates, the difference, its interval, the p-value."""
from __future__ import annotations

import io

from . import ticks
from .bootstrap import Difference, Settings
from .components import Report
from .render import CsvWriter, header_lines, rounded_row


def system_warnings(report_a: Report, report_b: Report) -> list[tuple[str, str]]:
    """Each warning once, with the system(s) it is about: ``"A"``, ``"B"`` or ``"A and B"``
    (a warning about the reference or the options comes with both)."""
    out = []
    for message in dict.fromkeys(report_a.warnings + report_b.warnings):
        systems = [name for name, r in (("A", report_a), ("B", report_b)) if message in r.warnings]
        out.append((" and ".join(systems), message))
    return out


def per_file(report_a: Report, report_b: Report, rates) -> list[tuple[str, str, float | None, float | None,
                                                                       float | None]]:
    """Per file (sorted) and rate: A, B and A - B (None where a rate is not available)."""
    rows = []
    for name in sorted(set(report_a.files) | set(report_b.files)):
        for rate in rates:
            a, b = (r.files[name].rate(rate) if name in r.files else None for r in (report_a, report_b))
            rows.append((name, rate, a, b, None if a is None or b is None else a - b))
    return rows


def _files_dict(report_a: Report, report_b: Report, rates) -> dict:
    out: dict = {}
    for name, rate, a, b, d in per_file(report_a, report_b, rates):
        out.setdefault(name, {"A": {}, "B": {}, "difference": {}})
        out[name]["A"][rate], out[name]["B"][rate], out[name]["difference"][rate] = a, b, d
    return out


def to_dict(report_a: Report, report_b: Report, result: dict[str, Difference], settings: Settings,
            names: tuple[str, str], files: bool = False) -> dict:
    data = {
        "settings": dict(report_a.settings),
        "bootstrap": {**settings.to_dict(len(report_a.files)), "paired": True,
                      "p_value": "two-sided: min(1, 2 min(#{d<=0}+1, #{d>=0}+1) / (N+1))"},
        "systems": {"A": {"path": names[0], "total": rounded_row(report_a.total_row()),
                          **({"mean": rounded_row(report_a.mean())} if report_a.average == "files" else {})},
                    "B": {"path": names[1], "total": rounded_row(report_b.total_row()),
                          **({"mean": rounded_row(report_b.mean())} if report_b.average == "files" else {})}},
        "difference": {k: d.to_dict() for k, d in result.items()},
        "warnings": [{"systems": systems, "message": message}
                     for systems, message in system_warnings(report_a, report_b)],
    }
    if files:
        data["files"] = _files_dict(report_a, report_b, list(result))
    return data


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}"


def render(report_a: Report, report_b: Report, result: dict[str, Difference], settings: Settings,
           fmt: str, names: tuple[str, str] = ("A", "B"), files: bool = False) -> str:
    """The comparison as a table, JSON or CSV; ``files`` adds A, B and A - B of each file
    (JSON: a ``files`` object; CSV: a first column ``file``, ``TOTAL`` on the total's rows;
    table: a second table, a row per file and rate)."""
    if fmt == "json":
        data = to_dict(report_a, report_b, result, settings, names, files)
        return ticks.dumps(data, indent=2, ensure_ascii=False) + "\n"
    comments = [*header_lines(report_a), f"# A: {names[0]}", f"# B: {names[1]}",
                f"# paired {settings.describe(len(report_a.files))}; p two-sided from the resampled A-B"]
    if fmt == "csv":
        comments += [f"# warning ({systems}): {message}"
                     for systems, message in system_warnings(report_a, report_b)]
    if fmt == "csv":
        out = io.StringIO()
        out.write("".join(f"{line}\n" for line in comments))
        writer = CsvWriter(out)
        first = ["file"] if files else []
        writer.writerow(first + ["rate", "A", "B", "difference", "CI_low", "CI_high", "p"])
        for k, d in result.items():
            lo, hi = d.interval if d.interval is not None else (None, None)
            writer.writerow((["TOTAL"] if files else []) + [k] + ["n/a" if v is None else repr(v)
                                                                  for v in (d.a, d.b, d.difference, lo, hi, d.p)])
        if files:
            for name, rate, a, b, d in per_file(report_a, report_b, list(result)):
                writer.writerow([name, rate] + ["n/a" if v is None else repr(v) for v in (a, b, d)]
                                + ["n/a"] * 3)
        return out.getvalue()
    pct = f"{100 * settings.confidence:g}%"
    header = ["rate", "A %", "B %", "A-B %", f"{pct} CI of A-B", "p"]
    body = []
    for k, d in result.items():
        ci = "n/a" if d.interval is None else f"[{_pct(d.interval[0])}, {_pct(d.interval[1])}]"
        body.append([k, _pct(d.a), _pct(d.b), _pct(d.difference), ci,
                     "n/a" if d.p is None else f"{d.p:.4f}"])
    lines = list(comments) + _aligned(header, body, 1)
    if files:
        rows = [[name, rate, _pct(a), _pct(b), _pct(d)] for name, rate, a, b, d in per_file(report_a, report_b,
                                                                                           list(result))]
        lines += ["", "# per file"] + _aligned(["file", "rate", "A %", "B %", "A-B %"], rows, 2)
    return "\n".join(lines) + "\n"


def _aligned(header: list[str], body: list[list[str]], text_columns: int) -> list[str]:
    """Rows with the first ``text_columns`` columns left-aligned and the others right-aligned."""
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    return ["  ".join(c.ljust(w) if i < text_columns else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))
            for row in [header] + body]
