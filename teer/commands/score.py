"""``teer score REF HYP``: all five rates, as a table, JSON or CSV."""
from __future__ import annotations

import argparse

from . import add_output_arguments, add_scoring_arguments, emit, scoring_options, warn

HELP = "score a system output against a reference"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..render import FORMATS

    p.add_argument("reference", help="reference RTTM (emotion in field 6) or JSON")
    p.add_argument("hypothesis", help="system output, JSON (SegLST or {file: segments}) or RTTM")
    add_scoring_arguments(p)
    p.add_argument("--per-file", action="store_true", help="one row per file as well as the total")
    add_output_arguments(p, FORMATS)


def run(args: argparse.Namespace) -> int:
    from ..api import score
    from ..render import render

    report = score(args.reference, args.hypothesis, **scoring_options(args))
    warn(report.warnings)
    emit(render(report, args.format, args.per_file), args.output)
    return 0
