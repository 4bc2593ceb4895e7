"""``teer plot REF HYP -o OUT.png``: a figure of the emotion confusion matrix, or of one file's timeline.

The extension of ``-o`` chooses the format: .png, .pdf, .svg, .eps or .ps.

``--timeline FILE_ID`` draws that file (``--start S --end E``: that window of
it): a lane per reference and per hypothesis speaker (hypothesis lanes hatched
and next to their mapped reference speaker), segments coloured by emotion, a
lane per kind of error (missed, false alarm, emotion confusion, speaker
confusion) shaded where the scored time has it, and unscored time grey. Without it, the confusion matrix of
``teer analyze`` is drawn. Needs matplotlib (``pip install "teer-scorer[plot]"``).
"""
from __future__ import annotations

import argparse
import warnings

from . import Fail, add_scoring_arguments, scoring_options, seconds, segment_file_help
from ..messages import sample
from .running import warn

HELP = "figure (PNG, PDF, SVG) of the confusion matrix or of one file's timeline (needs matplotlib)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("reference", help=segment_file_help("reference"))
    p.add_argument("hypothesis", help=segment_file_help("system output"))
    add_scoring_arguments(p)
    p.add_argument("--timeline", metavar="FILE_ID", help="draw this file's timeline instead of the confusion matrix")
    p.add_argument("--start", type=seconds, metavar="S", help="with --timeline: the window's start (seconds)")
    p.add_argument("--end", type=seconds, metavar="E", help="with --timeline: the window's end (seconds)")
    p.add_argument("-o", "--output", metavar="FILE", required=True,
                   help="figure to write (atomically); its extension chooses the format: .png, .pdf, .svg, .eps, .ps")


def run(args: argparse.Namespace) -> int:
    from ..analysis import combine, part
    from ..api import Scoring, analyze_batches
    from ..figures import confusion_figure, figure_format, require_matplotlib, save_figure, timeline_figure
    if args.timeline is None and (args.start is not None or args.end is not None):
        raise Fail("--start and --end choose a window of a timeline: give --timeline FILE_ID")
    if args.start is not None and args.end is not None and not args.start < args.end:
        raise Fail(f"--start {args.start:g} is not before --end {args.end:g}")
    figure_format(args.output)  # fail early, before scoring, for an extension teer cannot write
    require_matplotlib()  # and if matplotlib is missing
    # batch by batch, as teer score: of each batch, its part of the matrix, or the sweep of
    # the batch that holds the timeline's file
    if args.timeline is None:
        inspect = part
    else:
        def inspect(sweep, tables):
            return (sweep, tables) if args.timeline in sweep.files else None
    options = scoring_options(args)
    scoring = analyze_batches(args.reference, args.hypothesis, inspect, uem=args.uem, options=options)
    warn(scoring.report.warnings)
    if args.timeline is not None:
        found = [seen for seen in scoring.inspected if seen is not None]
        if not found:
            names = sorted(scoring.report.files)
            raise Fail(f"no file {args.timeline!r} among the scored files ({sample(names, 5)})")
        sweep, (ref, hyp) = found[0]
        scoring = Scoring(ref, hyp, sweep, scoring.report)
    with warnings.catch_warnings():
        # matplotlib's notes on layout and fonts (a glyph missing for a label) are not
        # teer's messages, and the figure is drawn all the same
        warnings.simplefilter("ignore", UserWarning)
        if args.timeline is not None:
            fig = timeline_figure(scoring, args.timeline, args.start, args.end)
        else:
            fig = confusion_figure(combine(scoring.inspected, scoring.report.speaker_mapping).confusion)
        save_figure(fig, args.output)
    return 0
