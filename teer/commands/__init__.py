"""One module per ``teer`` sub-command, each with ``add_arguments(parser)`` and ``run(args) -> int``.

Helpers here are shared by the commands: the scoring options every command
that scores accepts, and writing output.
"""
from __future__ import annotations

import argparse
import sys
from typing import Iterable


class Fail(Exception):
    """A command-line problem reported as ``teer: error: ...`` with exit status 2."""


def add_scoring_arguments(p: argparse.ArgumentParser) -> None:
    """The options that decide what is scored and how (shared by score, compare, ...)."""
    from ..api import DEFAULT_COLLAR
    from ..engine import REGIONS

    p.add_argument("--uem", help="UEM file (file chnl start end); default: see --uem-default")
    p.add_argument("--uem-default", choices=("reference", "union"), default="reference",
                   help="scored time without a UEM: the reference extent (md-eval, Wu et al.; default) "
                        "or the reference and hypothesis extent (spyder, dscore)")
    p.add_argument("--collar", type=float, default=DEFAULT_COLLAR,
                   help="seconds removed on each side of every reference boundary (default %(default)s)")
    p.add_argument("--regions", choices=REGIONS, default="all",
                   help="score all regions, or only those with one, two or more, or at most one "
                        "reference speaker")
    p.add_argument("--speaker-map", metavar="FILE",
                   help="fixed speaker mapping, lines 'file hyp_speaker ref_speaker' (default: optimal)")


def scoring_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``teer.score`` given on the command line."""
    if args.collar < 0:
        raise Fail(f"--collar must be non-negative, not {args.collar}")
    options = dict(uem=args.uem, collar=args.collar, regions=args.regions, uem_default=args.uem_default)
    if args.speaker_map:
        from ..io.speaker_map import read_speaker_map

        options["speaker_map"] = read_speaker_map(args.speaker_map)
    return options


def add_output_arguments(p: argparse.ArgumentParser, formats: Iterable[str]) -> None:
    p.add_argument("--format", choices=tuple(formats), default=tuple(formats)[0])
    p.add_argument("-o", "--output", metavar="FILE", help="write here (atomically) instead of stdout")


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to stdout, or atomically to ``output``."""
    if output is None:
        sys.stdout.write(text)
        return
    from ..io import atomic_write_text

    atomic_write_text(output, text)


def warn(messages: Iterable[str]) -> None:
    for message in messages:
        print(f"teer: warning: {message}", file=sys.stderr)
