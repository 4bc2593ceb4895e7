"""Reports as text: an aligned table, JSON or CSV."""
from __future__ import annotations

from . import ticks
from .components import Report, is_rate

#: the formats of a report (``render``): ``--format`` of score, analyze and compare
OUTPUT_FORMATS = ("table", "json", "csv")
#: seconds in JSON and CSV output are exact decimals of ticks (``teer.ticks``: 1 ns, 9
#: decimals); rates are computed from the exact sums and are not rounded
SECOND_DECIMALS = ticks.DIGITS


def round_seconds(value: float | None) -> ticks.Seconds | None:
    """A number of seconds as ``Seconds`` (exact already, or a float to the nearest tick;
    None stays None), written as its exact decimal."""
    if value is None:
        return None
    return value if isinstance(value, ticks.Seconds) else ticks.Seconds(ticks.of_value(float(value)))


class CsvWriter:
    """``csv.writer``'s rows (quoted where needed, ``\n`` line ends), a cell holding ``#``
    quoted too: the CSV outputs start with ``#`` comments, and
    ``pandas.read_csv(path, comment="#")`` would cut an unquoted ``a#b`` at its ``#``."""

    SPECIAL = frozenset(',"\r\n#')

    def __init__(self, out):
        self.out = out

    def writerow(self, row) -> None:
        self.out.write(",".join(self._cell(str(cell)) for cell in row) + "\n")

    def _cell(self, text: str) -> str:
        if self.SPECIAL.isdisjoint(text) and text == text.strip():
            return text
        return '"' + text.replace('"', '""') + '"'


def rounded_row(row: dict) -> dict:
    """A row of figures with its seconds rounded (``round_seconds``) and its rates as they are."""
    return {k: v if is_rate(k) else round_seconds(v) for k, v in row.items()}


def header_lines(report: Report) -> list[str]:
    """The settings line, the notes and the skipped files: what every output starts with."""
    return [settings_line(report)] + [f"# {note}" for note in report.notes] + skipped_lines(report)


def settings_line(report: Report) -> str:
    """One line naming every setting in force, printed above every table."""
    parts = [f"{k.replace('_', ' ')}: {v}" for k, v in report.settings.items()]
    return "# teer | " + " | ".join(parts)


def skipped_lines(report: Report) -> list[str]:
    """``# skipped (reason): file, file, ...``, one line per reason, every file named."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in sorted(report.skipped.items()):
        by_reason.setdefault(reason, []).append(name)
    return [f"# skipped ({reason}): {', '.join(names)}" for reason, names in by_reason.items()]


def _rows(report: Report, per_file: bool) -> list[tuple[str, dict]]:
    """Rows of figures: the files if asked, then the total, or the mean when averaging files."""
    accounted = report.accounted()
    rows = [(name, report.row(accounted[name])) for name in sorted(accounted)] if per_file else []
    last = ("MEAN", report.mean()) if report.average == "files" else ("TOTAL", report.row(report.total))
    return rows + [last]


def figure_text(key: str, value: float | None) -> str:
    """A figure as the table and the HTML report show it: a rate in percent, seconds, two
    decimals each; ``n/a`` for None."""
    if value is None:
        return "n/a"
    return f"{100 * value:.2f}" if is_rate(key) else f"{value:.2f}"


def accounting_line(report: Report) -> str:
    """The scored-time accounting of the total in one line: the reference speech, what
    each step removed, and TOTAL, which they add up to."""
    total = report.total
    steps = "".join(f" - {label} {figure_text(key, total[key])} s" for key, label in ACCOUNTING_LABELS.items())
    if report.skips_files:
        steps += f" - skipped files {figure_text('REMOVED_SKIPPED', total.REMOVED_SKIPPED)} s"
    share = f" ({100 * total.TOTAL / total.SPEECH:.1f} % of it)" if total.SPEECH > 0 else ""
    return f"# scored time: reference speech {figure_text('SPEECH', total.SPEECH)} s{steps} = TOTAL " \
           f"{figure_text('TOTAL', total.TOTAL)} s{share}"


#: the removal steps of ``components.ACCOUNTING`` as the table's accounting line names them
ACCOUNTING_LABELS = {"REMOVED_UEM": "outside the UEM", "REMOVED_NOSCORE": "no-score zones",
                     "REMOVED_REGIONS": "region filter", "REMOVED_COLLAR": "collars"}


def as_table(report: Report, per_file: bool = False) -> str:
    keys = report.columns
    header = ["file"] + [f"{k} %" if is_rate(k) else f"{k} s" for k in keys]
    body = [[name] + [figure_text(k, c[k]) for k in keys] for name, c in _rows(report, per_file)]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    lines = header_lines(report) + [accounting_line(report)]
    for row in [header] + body:
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(row, widths))))
    return "\n".join(lines) + "\n"


def json_data(report: Report, per_file: bool = True) -> dict:
    """The report as JSON data (seconds as ``Seconds``: ``ticks.dumps`` writes them exactly)."""
    data = report.to_dict()
    for key in ("total", "mean"):
        if key in data:
            data[key] = rounded_row(data[key])
    data["files"] = {name: rounded_row(row) for name, row in data["files"].items()}
    if report.notes:
        data["settings"]["notes"] = list(report.notes)
    if not per_file:
        data["files"] = {}
        data["speaker_mapping"] = {}
    return data


def as_json(report: Report, per_file: bool = True) -> str:
    return ticks.dumps(json_data(report, per_file), indent=2, ensure_ascii=False) + "\n"


def as_csv(report: Report, per_file: bool = False, comments: tuple[str, ...] = ()) -> str:
    """CSV with rates as fractions and seconds; it starts with the table's settings line,
    notes and skipped files as ``#`` comments (then ``comments``), so that the file says
    how it was scored (``pandas.read_csv(path, comment="#")`` reads it)."""
    import io

    out = io.StringIO()
    out.write("".join(f"{line}\n" for line in header_lines(report) + [f"# {c}" for c in comments]))
    writer = CsvWriter(out)
    writer.writerow(["file", *report.fields])
    for name, c in _rows(report, per_file):
        row = rounded_row({k: c[k] for k in report.fields})
        writer.writerow([name] + ["n/a" if row[k] is None else repr(row[k]) for k in report.fields])
    return out.getvalue()


def render(report: Report, fmt: str, per_file: bool) -> str:
    """The report in ``fmt`` (table, json, csv). JSON always lists the files."""
    if fmt == "json":
        return as_json(report, per_file=True)
    if fmt == "csv":
        return as_csv(report, per_file)
    return as_table(report, per_file)
