"""``teer score REF HYP``: all five rates, as a table, JSON or CSV.

With ``--bootstrap N``, also a percentile confidence interval of every rate,
from N resamples of the files (components re-summed per resample).
"""
from __future__ import annotations

import argparse

from . import add_average_arguments, add_scoring_arguments, integer, number, scoring_options, segment_file_help
from .output import add_output_arguments, emit
from .running import warn

HELP = "score a system output against a reference"


def add_bootstrap_arguments(p: argparse.ArgumentParser, default: int | None = None) -> None:
    """``--bootstrap N --confidence C --seed S`` (shared with ``teer compare``)."""
    from ..bootstrap import DEFAULT_CONFIDENCE, DEFAULT_SEED

    p.add_argument("--bootstrap", type=integer, metavar="N", default=default,
                   help="resample the files N times for confidence intervals"
                        + (" (default %(default)s)" if default else ""))
    p.add_argument("--confidence", type=number, default=DEFAULT_CONFIDENCE,
                   help="coverage of the bootstrap intervals (default %(default)s)")
    p.add_argument("--seed", type=integer, default=DEFAULT_SEED,
                   help="random seed of the resampling (default %(default)s)")


def bootstrap_settings(args: argparse.Namespace):
    """The bootstrap's settings, checked by ``teer.bootstrap.Settings`` (before anything is
    read, and also without ``--bootstrap``: ``--confidence 1.5`` alone is an error); None
    without ``--bootstrap``."""
    from ..bootstrap import DEFAULT_RESAMPLES, Settings

    settings = Settings(DEFAULT_RESAMPLES if args.bootstrap is None else args.bootstrap, args.confidence, args.seed)
    return None if args.bootstrap is None else settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..render import OUTPUT_FORMATS

    p.add_argument("reference", help=segment_file_help("reference"))
    p.add_argument("hypothesis", help=segment_file_help("system output"))
    add_scoring_arguments(p)
    add_average_arguments(p)
    p.add_argument("--per-file", action="store_true", help="one row per file as well as the total")
    p.add_argument("--jobs", type=integer, default=1, metavar="N",
                   help="processes that sweep the files (0: every core; default 1); the output is the same")
    add_bootstrap_arguments(p)
    add_output_arguments(p, OUTPUT_FORMATS)


def run(args: argparse.Namespace) -> int:
    from ..api import score
    from ..render import render

    settings = bootstrap_settings(args)
    options = scoring_options(args)
    report = score(args.reference, args.hypothesis, uem=args.uem, jobs=args.jobs, options=options)
    warn(report.warnings)
    if settings is None:
        emit(render(report, args.format, args.per_file), args.output)
        return 0
    from ..bootstrap import few_files, intervals, render_with_intervals

    warn(few_files(len(report.files)))
    emit(render_with_intervals(report, intervals(report, settings), settings, args.format, args.per_file),
         args.output)
    return 0
