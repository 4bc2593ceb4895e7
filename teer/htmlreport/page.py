"""The HTML page of ``teer report``: one file, its style, script and data inside it.

The tables are written here as plain HTML (readable without the script); the script
(``report.js``) makes them sortable and draws each file's timeline as SVG from a JSON
block of its own, parsed only when the file is shown, so that a large corpus opens fast.
The figures are the report's own, as ``teer score --format json`` and
``teer analyze --format json`` write them (``teer-data`` holds both, for checking).
"""
from __future__ import annotations

import html
import json
from importlib import resources
from typing import Sequence
from urllib.parse import quote

from .. import __version__
from ..analysis import Analysis, confusion_rows, emotion_rows, render as render_analysis, speaker_rows
from ..components import Report, is_rate
from ..render import ACCOUNTING_LABELS, as_json, figure_text, rounded_row, settings_line, skipped_lines
from .timeline import BANDS, UNSCORED, timelines

_PERCENT = frozenset({"recall", "precision", "ERR %", "sERR %"})


def page(scoring, analysis: Analysis | None, *, reference: str, hypothesis: str,
         files: Sequence[str] | None = None, notes: Sequence[str] = ()) -> str:
    """The whole page of a scoring run (``teer.api.run``) and its analysis (None: left out,
    ``notes`` say why); ``files``: the files whose timelines it holds (default: all)."""
    report = scoring.report
    names = list(scoring.sweep.files) if files is None else list(files)
    lines = timelines(scoring, names)
    data = {
        "score": json.loads(as_json(report)),
        "analysis": None if analysis is None else json.loads(render_analysis(analysis, "json")),
        "emotions": list(scoring.sweep.emotions),
        "timelines": names,
        "bands": [name for name, _ in BANDS],
        "unscored": list(UNSCORED),
        # the legend names the kinds of unscored time the timelines have
        "unscored_shown": sorted({k for line in lines.values() for k in line["grey"][2::3]}),
    }
    title = f"teer report: {hypothesis} against {reference}"
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
        f"<title>{_e(title)}</title>\n<style>\n{_asset('report.css')}</style>\n</head>\n",
        "<body data-ready=\"0\" data-errors=\"0\" data-timelines=\"0\">\n",
        # first of all, so that any error of the script below is counted and shown
        "<script>window.addEventListener('error',function(e){var b=document.body;"
        "b.setAttribute('data-errors',String(+b.getAttribute('data-errors')+1));"
        "var p=document.getElementById('script-errors');if(p){p.hidden=false;"
        "p.textContent+=(e.message||'error')+'\\n';}});</script>\n",
        "<pre id=\"script-errors\" class=\"warning\" hidden></pre>\n",
        _header(reference, hypothesis),
        _summary(report, notes),
        _file_table(report, set(names)),
        _timeline_section(names),
        _analysis(analysis, set(names)),
        _json_block("teer-data", data),
    ]
    parts += [_json_block(f"teer-file-{i}", lines[name]) for i, name in enumerate(names)]
    parts += [f"<script>\n{_asset('report.js')}</script>\n</body>\n</html>\n"]
    return "".join(parts)


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _json_block(element_id: str, value) -> str:
    # "<" only occurs inside JSON strings, where \u003c reads back the same: no "</script>"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f"<script type=\"application/json\" id=\"{element_id}\">{text}</script>\n"


def _header(reference: str, hypothesis: str) -> str:
    return ("<header>\n<h1>teer report</h1>\n"
            f"<p class=\"inputs\">reference <code>{_e(reference)}</code> · hypothesis <code>{_e(hypothesis)}</code>"
            f" · teer {_e(__version__)}</p>\n"
            "<nav><a href=\"#summary\">summary</a> <a href=\"#files\">files</a> <a href=\"#timeline\">timeline</a>"
            " <a href=\"#analysis\">confusions</a></nav>\n</header>\n")


def _summary(report: Report, notes: Sequence[str]) -> str:
    figures = rounded_row(report.figures())
    label = "mean over files" if report.average == "files" else "total"
    cards = "".join(
        f"<div class=\"card\"><div class=\"value\" data-key=\"{_e(k)}\" data-v=\"{_v(figures[k])}\">"
        f"{figure_text(k, figures[k])}{' %' if figures[k] is not None else ''}</div>"
        f"<div class=\"name\">{_e(k)}</div></div>"
        for k in report.columns if is_rate(k))
    seconds = [k for k in report.columns if not is_rate(k)]
    table = ("<table class=\"numbers\"><tr>" + "".join(f"<th>{_e(k)} s</th>" for k in seconds) + "</tr><tr>"
             + "".join(_figure_cell(k, figures[k]) for k in seconds) + "</tr></table>")
    total = rounded_row(report.row(report.total))
    labels = {**ACCOUNTING_LABELS, **({"REMOVED_SKIPPED": "skipped files"} if report.skips_files else {})}
    steps = "".join(f"<th>− {_e(label)}</th>" for label in labels.values())
    removed = "".join(_figure_cell(k, total[k]) for k in labels)
    share = (f"{100 * report.total.TOTAL / report.total.SPEECH:.1f} % of the reference speech is scored"
             if report.total.SPEECH > 0 else "no reference speech")
    accounting = ("<h3>Scored time</h3>\n<table class=\"numbers\" id=\"accounting\"><tr><th>reference speech s</th>"
                  f"{steps}<th>= TOTAL s</th></tr><tr>{_figure_cell('SPEECH', total['SPEECH'])}{removed}"
                  f"{_figure_cell('TOTAL', total['TOTAL'])}</tr></table>\n"
                  f"<p class=\"quiet\">Seconds of reference speech (each speaker's time), removed step by step "
                  f"from what the steps before left; {share}.</p>")
    said = ([("note", n) for n in list(report.notes) + list(notes)]
            + [("note", line[2:]) for line in skipped_lines(report)]
            + [("warning", w) for w in report.warnings])
    messages = ("<ul class=\"messages\">" + "".join(f"<li class=\"{kind}\">{kind}: {_e(text)}</li>"
                                                    for kind, text in said) + "</ul>") if said else \
        "<p class=\"quiet\">No warnings.</p>"
    return ("<section id=\"summary\">\n<h2>Summary</h2>\n"
            f"<pre class=\"settings\">{_e(settings_line(report))}</pre>\n"
            f"<p class=\"quiet\">{len(report.files)} file(s) scored; rates of the {label}.</p>\n"
            f"<div class=\"cards\">{cards}</div>\n{table}\n{accounting}\n<h3>Warnings and notes</h3>\n"
            f"{messages}\n</section>\n")


def _v(value) -> str:
    """A figure as the page keeps it for sorting and checking: JSON's number, or null."""
    return "null" if value is None else json.dumps(value)


def _figure_cell(key: str, value) -> str:
    """A table cell of one figure: shown as ``teer score``'s table shows it, kept as JSON's number."""
    return f"<td data-key=\"{_e(key)}\" data-v=\"{_v(value)}\">{figure_text(key, value)}</td>"


def _file_table(report: Report, with_timeline: set[str]) -> str:
    keys = report.fields  # the reported columns, then the scored-time accounting
    head = "<th data-type=\"text\">file</th>" + "".join(
        f"<th>{_e(k)} {'%' if is_rate(k) else 's'}</th>" for k in keys)
    rows = []
    accounted = report.accounted()  # the scored files, and the skipped ones
    for name in sorted(accounted):
        row = rounded_row(report.row(accounted[name]))
        cell = (f"<a href=\"#file={quote(name, safe='')}\">{_e(name)}</a>" if name in with_timeline else _e(name))
        rows.append(f"<tr data-file=\"{_e(name)}\"><td data-v=\"{_e(json.dumps(name))}\">{cell}</td>"
                    + "".join(_figure_cell(k, row[k]) for k in keys) + "</tr>")
    last = ("MEAN" if report.average == "files" else "TOTAL", rounded_row(report.figures()))
    foot = (f"<tr><th>{last[0]}</th>"
            + "".join(_figure_cell(k, last[1][k]) for k in keys)
            + "</tr>")
    return ("<section id=\"files\">\n<h2>Files</h2>\n"
            "<p class=\"quiet\">Click a column to sort; a file's name opens its timeline.</p>\n"
            f"<div class=\"scroll\"><table class=\"sortable numbers\" id=\"file-table\"><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{chr(10).join(rows)}\n</tbody><tfoot>{foot}</tfoot></table></div>\n</section>\n")


def _timeline_section(names: Sequence[str]) -> str:
    options = "".join(f"<option value=\"{_e(n)}\">{_e(n)}</option>" for n in names)
    return ("<section id=\"timeline\">\n<h2>Timeline</h2>\n"
            "<div class=\"picker\"><label>file <select id=\"file-select\">" + options + "</select></label> "
            "<button type=\"button\" id=\"prev-file\">previous</button> "
            "<button type=\"button\" id=\"next-file\">next</button> "
            "<a href=\"#all\" id=\"all-files\">draw every file</a></div>\n"
            "<p class=\"quiet\">Wheel or +/− zooms, drag or shift+wheel pans, a click on the overview below a "
            "timeline moves there. Hover over a segment, band or grey span for its details.</p>\n"
            "<div id=\"legend\"></div>\n<div id=\"viewer\">"
            + ("" if names else "<p class=\"quiet\">No timeline in this page (see --files).</p>")
            + "</div>\n</section>\n")


def _analysis(analysis: Analysis | None, with_timeline: set[str]) -> str:
    if analysis is None:
        return ("<section id=\"analysis\">\n<h2>Emotion confusions</h2>\n"
                "<p class=\"quiet\">Not available (see the notes above).</p>\n</section>\n")
    header, rows = confusion_rows(analysis)
    n = len(analysis.confusion.labels)
    body = []
    for i, row in enumerate(rows):
        total = row[-1]
        cells = []
        for j, value in enumerate(row[1:], start=1):
            share = value / total if total > 0 and j <= n + 1 else 0.0
            style = f" style=\"background:rgba(49,130,189,{0.85 * share:.3f})\"" if share > 0 else ""
            strong = " class=\"right\"" if i == j - 1 and i < n else ""
            cells.append(f"<td{style}{strong}>{value:.2f}</td>")
        body.append(f"<tr><th>{_e(row[0])}</th>{''.join(cells)}</tr>")
    matrix = ("<div class=\"scroll\"><table class=\"numbers confusion\"><thead><tr>"
              + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr></thead><tbody>"
              + "".join(body) + "</tbody></table></div>")
    return ("<section id=\"analysis\">\n<h2>Emotion confusions</h2>\n"
            "<p class=\"quiet\">Seconds, as <code>teer analyze</code>: rows are the reference, columns the "
            "hypothesis; cells shaded by their share of the row. TEER = (off-diagonal + missed + false alarm) "
            "/ TOTAL.</p>\n" + matrix
            + "\n<h2>Per reference speaker</h2>\n<p class=\"quiet\">ERR = MS + CONF_emo; "
              "sERR = TOTAL − CORRECT_emo_spk; seconds, rates in %.</p>\n"
            + _table(*speaker_rows(analysis), "speaker-table", footer=True, links=with_timeline)
            + "\n<h2>Per reference emotion</h2>\n<p class=\"quiet\">ERR = MS + CONF; recall, precision and "
              "ERR in %.</p>\n"
            + _table(*emotion_rows(analysis), "emotion-table") + "\n</section>\n")


def _table(header: list[str], rows: list[list], table_id: str, footer: bool = False,
           links: set[str] = frozenset()) -> str:
    """A sortable table; a ``file`` cell naming one of ``links`` links to its timeline."""
    def cell(key: str, value) -> str:
        if isinstance(value, str):
            shown = (f"<a href=\"#file={quote(value, safe='')}\">{_e(value)}</a>" if key == "file" and value in links
                     else _e(value))
            return f"<td data-v=\"{_e(json.dumps(value))}\">{shown}</td>"
        shown = "n/a" if value is None else f"{100 * value:.2f}" if key in _PERCENT else f"{value:.2f}"
        return f"<td data-v=\"{_v(value)}\">{shown}</td>"

    text = ' data-type="text"'
    head = "".join(f"<th{text if rows and isinstance(rows[0][i], str) else ''}>{_e(h)}</th>"
                   for i, h in enumerate(header))

    def tr(row: list) -> str:
        return "<tr>" + "".join(cell(k, v) for k, v in zip(header, row)) + "</tr>"

    # a last row of totals (the false alarms of the speaker table) stays last when sorting
    body, foot = (rows[:-1], rows[-1:]) if footer else (rows, [])
    return (f"<div class=\"scroll\"><table class=\"sortable numbers\" id=\"{table_id}\"><thead><tr>{head}</tr>"
            f"</thead><tbody>{''.join(map(tr, body))}</tbody><tfoot>{''.join(map(tr, foot))}</tfoot></table></div>")
