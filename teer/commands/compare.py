"""``teer compare REF HYP_A HYP_B``: two systems on the same reference, with a paired bootstrap.

Both systems are scored with the same options; every bootstrap resample draws
the same files for both. For each rate: A, B, the difference A − B with its
percentile interval, and a two-sided p-value
p = min(1, 2·min(#{Δ* ≤ 0} + 1, #{Δ* ≥ 0} + 1) / (N + 1)) over the N resampled
differences Δ* (see ``teer.bootstrap``).
"""
from __future__ import annotations

import argparse

from . import add_average_arguments, add_scoring_arguments, scoring_options, segment_file_help
from .output import add_output_arguments, emit
from .running import warn
from .score import add_bootstrap_arguments, bootstrap_settings

HELP = "compare two system outputs on one reference (paired bootstrap over files)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..bootstrap import DEFAULT_RESAMPLES
    from ..render import OUTPUT_FORMATS

    p.add_argument("reference", help=segment_file_help("reference"))
    p.add_argument("hypothesis_a", metavar="HYP_A", help="output of system A")
    p.add_argument("hypothesis_b", metavar="HYP_B", help="output of system B")
    add_scoring_arguments(p)
    add_average_arguments(p)
    add_bootstrap_arguments(p, default=DEFAULT_RESAMPLES)
    p.add_argument("--per-file", action="store_true", help="A, B and A - B of every rate for each file as well")
    add_output_arguments(p, OUTPUT_FORMATS)


def run(args: argparse.Namespace) -> int:
    from ..api import score
    from ..inputs import as_table
    from ..io.text import check_stdin
    from ..bootstrap import compare
    from ..comparison import render, system_warnings

    check_stdin(args.reference, args.hypothesis_a, args.hypothesis_b)
    settings = bootstrap_settings(args)
    options = scoring_options(args)
    reference = as_table(args.reference, "reference")
    report_a = score(reference, args.hypothesis_a, uem=args.uem, options=options)
    report_b = score(reference, args.hypothesis_b, uem=args.uem, options=options)
    from ..bootstrap import few_files
    from ..messages import of_systems

    warn([of_systems(systems, message) for systems, message in system_warnings(report_a, report_b)]
         + few_files(len(report_a.files)))
    result = compare(report_a, report_b, settings)
    emit(render(report_a, report_b, result, settings, args.format,
                names=(args.hypothesis_a, args.hypothesis_b), files=args.per_file), args.output)
    return 0
