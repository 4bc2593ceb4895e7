"""``teer report REF HYP -o report.html``: one self-contained HTML page to browse the errors.

The page holds the summary (settings, rates, warnings), a sortable table of the
files, the emotion confusion matrix and the per-speaker and per-emotion tables of
``teer analyze``, and each file's timeline: a lane per reference and hypothesis
speaker, segments coloured by emotion, unscored time greyed, bands of missed
speech, false alarm, emotion and speaker confusion; zoom and pan. Its figures are
those of ``teer score`` with the same options. No server or network is needed to
view it; ``--files`` keeps the timelines of some files only (a smaller page).
"""
from __future__ import annotations

import argparse

from . import Fail, add_average_arguments, add_scoring_arguments, scoring_options, segment_file_help
from .output import emit
from .running import warn

HELP = "one self-contained HTML page: summary, per-file table, confusions, interactive timelines"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", help=segment_file_help("reference"))
    p.add_argument("hypothesis", help=segment_file_help("system output"))
    add_scoring_arguments(p)
    add_average_arguments(p)
    p.add_argument("--files", metavar="LIST", dest="timeline_files",
                   help="draw the timelines of these files only (comma-separated file ids; default: every file)")
    p.add_argument("-o", "--output", metavar="FILE", required=True, help="the HTML page to write (atomically)")
    p.add_argument("--open", action="store_true", help="open the page in the web browser once written")


def run(args: argparse.Namespace) -> int:
    import os

    from ..analysis import analyze, literal_emotions_note
    from ..api import run as score_run
    from ..htmlreport.page import page

    # before anything is read: "-o scores.json" expects another output than a page
    extension = os.path.splitext(args.output)[1].lower()
    if extension not in ("", ".html", ".htm"):
        raise Fail(f"{args.output}: teer report writes an HTML page: name it .html (teer score and "
                   f"teer analyze write tables, JSON and CSV)")
    options = scoring_options(args)
    scoring = score_run(args.reference, args.hypothesis, uem=args.uem, options=options)
    warn(scoring.report.warnings)
    files = None
    if args.timeline_files is not None:
        files = list(dict.fromkeys(x.strip() for x in args.timeline_files.split(",") if x.strip()))
        unknown = [x for x in files if x not in scoring.sweep.files]
        if unknown or not files:
            raise Fail(f"--files: no file {unknown[0]!r} in the inputs" if unknown else "--files: no file id given")
    notes = literal_emotions_note(scoring)
    try:
        analysis = analyze(scoring)
    except ValueError as err:  # too many labels for a matrix: the page without it
        analysis, notes = None, notes + [f"no confusion tables: {err}"]
    emit(page(scoring, analysis, reference=args.reference, hypothesis=args.hypothesis, files=files, notes=notes),
         args.output)
    if args.open:
        import pathlib
        import webbrowser

        webbrowser.open(pathlib.Path(args.output).resolve().as_uri())
    return 0
