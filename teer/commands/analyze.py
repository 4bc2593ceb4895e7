"""``teer analyze REF HYP``: where the errors are.

The time-weighted emotion confusion matrix (reference emotion x hypothesis
emotion, with a missed column and a false-alarm row), and breakdowns per
reference speaker and per reference emotion, in seconds; ``--view mapping``: the
speaker mapping of each file. The definitions are
in ``teer.analysis``; the matrix decomposes TEER exactly:
TEER = (off-diagonal + missed + false alarm) / TOTAL.
"""
from __future__ import annotations

import argparse

from . import Fail, add_scoring_arguments, scoring_options, segment_file_help
from .output import add_output_arguments, emit
from .running import warn

HELP = "emotion confusion matrix and per-speaker / per-emotion breakdowns"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..analysis import ALL_VIEWS
    from ..render import OUTPUT_FORMATS

    p.add_argument("reference", help=segment_file_help("reference"))
    p.add_argument("hypothesis", help=segment_file_help("system output"))
    add_scoring_arguments(p)
    p.add_argument("--view", action="append", choices=ALL_VIEWS,
                   help="what to show: confusion, speaker, emotion, mapping (each hypothesis speaker's "
                        "reference speaker, per file) (repeatable; default the first three; CSV takes exactly one)")
    add_output_arguments(p, OUTPUT_FORMATS)


def run(args: argparse.Namespace) -> int:
    from ..analysis import VIEWS, combine, literal_emotions_note, part, render
    from ..api import analyze_batches
    from ..render import settings_line

    views = tuple(dict.fromkeys(args.view)) if args.view else VIEWS
    if args.format == "csv" and len(views) != 1:
        raise Fail("--format csv holds one table: give exactly one --view (confusion, speaker, emotion or mapping)")
    # batch by batch, as teer score: each batch's part of the analysis is kept, not its sweep
    options = scoring_options(args)
    scoring = analyze_batches(args.reference, args.hypothesis, part, uem=args.uem, options=options)
    warn(scoring.report.warnings)
    scoring.report.notes.extend(literal_emotions_note(scoring))
    header = "\n".join([settings_line(scoring.report)] + [f"# {note}" for note in scoring.report.notes])
    text = render(combine(scoring.inspected, scoring.report.speaker_mapping), args.format, views, header)
    if args.format == "json":
        import json

        settings = dict(scoring.report.settings)
        if scoring.report.notes:
            settings["notes"] = list(scoring.report.notes)
        data = {"settings": settings, **json.loads(text)}
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    emit(text, args.output)
    return 0
