"""``teer validate FILE...``: check segment files and report every problem found.

Each RTTM or JSON file is read with the ordinary readers; where they stop at an
error, it is checked line by line (segment by segment) so that every bad line
is listed. Also prints what each file holds: segments, files, speakers,
emotions, speech and overlapped speech. ``--role reference`` adds the checks a
reference gets (segments present, emotion labels on all or none). Exit status
0 when no problems were found, 1 otherwise.
"""
from __future__ import annotations

import argparse

from . import segment_file_help
from .output import add_output_arguments, emit

HELP = "check input files, listing every problem, with counts of what they hold"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..validation import ROLES

    p.add_argument("files", nargs="+", metavar="FILE", help=segment_file_help("segment files"))
    p.add_argument("--role", choices=ROLES, default="hypothesis",
                   help="hypothesis: format checks only (default); reference: also non-empty, and emotion "
                        "labels on all segments or none")
    add_output_arguments(p, ("table", "json"))


def run(args: argparse.Namespace) -> int:
    from ..io.text import check_stdin
    from ..validation import as_json, as_text, check_file

    check_stdin(*args.files)
    checks = [check_file(path, args.role) for path in args.files]
    emit(as_json(checks) if args.format == "json" else as_text(checks), args.output)
    return 0 if all(c.ok for c in checks) else 1
