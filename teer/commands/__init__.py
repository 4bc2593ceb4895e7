"""One module per ``teer`` sub-command, each with ``add_arguments(parser)`` and ``run(args) -> int``.

A command's ``run`` reads its arguments, resolves the scoring options
(``scoring_options``: ``teer.options.resolve``, where each rule is checked by one
function), calls the API with the resolved object and writes the result. Here: the
arguments the commands share and the conversions of option values from text;
``running`` runs a command (one-line errors, exit status, warnings), ``output``
writes what it produces.
"""
from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..options import ScoringOptions


class Fail(Exception):
    """A command-line problem reported as ``teer: error: ...`` with exit status 2 (``running``)."""


def segment_file_help(what: str) -> str:
    """The help of a segment-file argument: ``what`` and the formats ``teer.io.FORMATS`` reads
    (a new format appears here by its entry there)."""
    from ..io import FORMATS

    names = ", ".join(form.name for form in reversed(FORMATS))  # RTTM, the usual one, first
    return f"{what} ({names}; .gz; - for standard input)"


# Option values follow the rule of the input files: ASCII decimal numbers only
# (argparse's float and int would take "1_0", "١٠" and "inf").
def seconds(text: str) -> float:
    """``--collar``, ``--start``, ``--end``: a number of seconds under ``teer.options.check_seconds``'s
    rule (non-negative, finite), applied here too so that a bad value is argparse's one line
    naming the option as typed (``resolve`` checks the collar with the same function)."""
    from ..io.values import is_number
    from ..options import check_seconds

    value = float(text) if is_number(text) else None
    try:
        check_seconds("seconds", value)  # (None: TypeError)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a non-negative number of seconds, not {text!r}") from None
    return value


def number(text: str) -> float:
    """A decimal number (``--confidence``; its rule is ``teer.bootstrap.Settings``'s)."""
    from ..io.values import is_number

    if not is_number(text):
        raise argparse.ArgumentTypeError(f"expected a number, not {text!r}")
    return float(text)


def integer(text: str) -> int:
    """A decimal integer (``--seed``, ``--bootstrap``, ``--jobs``; their rules are checked
    where they are used: ``teer.bootstrap.Settings``, ``teer.parallel.resolve_jobs``)."""
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise argparse.ArgumentTypeError(f"expected an integer, not {text!r}")
    return int(text)


def add_scoring_arguments(p: argparse.ArgumentParser) -> None:
    """The options that decide what is scored and how (shared by score, compare, ...).

    Defaults are None (the preset's value); the help texts name each preset's value,
    read from ``teer.presets``.
    """
    from ..options import NON_TARGET, REGIONS, UEM_DEFAULTS
    from ..presets import DEFAULT_PRESET, PRESETS, describe

    p.add_argument("--preset", choices=tuple(PRESETS), default=DEFAULT_PRESET,
                   help="protocol: " + "; ".join(f"{name} ({preset.summary})" for name, preset in PRESETS.items())
                        + f". Default {DEFAULT_PRESET}. Options below override the preset's values where it allows")
    p.add_argument("--uem", help="UEM file (file chnl start end); default: see --uem-default")
    p.add_argument("--uem-default", choices=UEM_DEFAULTS, default=None,
                   help="scored time without a UEM: the reference extent (md-eval, Wu et al.) or the reference "
                        "and hypothesis extent (spyder, dscore, pyannote); default: the preset's, "
                        + describe("uem_default"))
    p.add_argument("--collar", type=seconds, default=None,
                   help="seconds removed on each side of every reference boundary (default: the preset's, "
                        + describe("collar") + ")")
    p.add_argument("--regions", choices=REGIONS, default=None,
                   help="score all regions (default), or only those with one, two or more, or at most one "
                        "reference speaker")
    p.add_argument("--speaker-map", metavar="FILE",
                   help="fixed speaker mapping, lines 'file hyp_speaker ref_speaker' (default: optimal)")
    p.add_argument("--emotions", metavar="LIST",
                   help="the scored emotion set, e.g. neu,hap,ang,sad (default: every label)")
    p.add_argument("--emotion-map", metavar="MAP",
                   help="merge emotion labels on both sides first: exc=hap,... or a file of lines "
                        "'exc hap' / 'exc=hap'")
    p.add_argument("--non-target", choices=NON_TARGET, default=None,
                   help="reference speech with an emotion outside --emotions: a no-score zone (noscore) or "
                        "deleted, making hypothesis speech there false alarm (drop); default: the preset's, "
                        + describe("non_target"))


def add_average_arguments(p: argparse.ArgumentParser) -> None:
    """``--average`` and ``--neutral``: how the figure is formed (score only)."""
    from ..options import AVERAGES
    from ..presets import PRESETS, describe

    p.add_argument("--average", choices=AVERAGES, default=None,
                   help="sums: rates of the components summed over files; files: mean of the per-file rates "
                        "(macro average); default: the preset's, " + describe("average"))
    neutral = ", ".join(f"{p.neutral} for {name}" for name, p in PRESETS.items() if p.neutral is not None)
    p.add_argument("--neutral", metavar="LABEL", default=None,
                   help=f"the label of reference time outside the emotion events (default: {neutral}; "
                        "other presets do not label that time)")


#: options that take one comma-separated list
LIST_OPTIONS = ("--emotions", "--emotion-map")


def spaced_list_hint(argv: list[str]) -> str | None:
    """For ``--emotions neu hap ang sad``: a message naming the option and its comma form.

    Called when arguments were left over; the words after the option's value that
    do not look like options or file names are taken as the rest of the list.
    """
    for i, arg in enumerate(argv):
        name, eq, value = arg.partition("=")
        if name not in LIST_OPTIONS:
            continue
        given = [value] if eq else argv[i + 1:i + 2]
        rest = argv[i + 1:] if eq else argv[i + 2:]
        words = []
        for word in rest:
            if word.startswith("-") or "/" in word or "." in word:
                break
            words.append(word)
        if given and words:
            return (f"argument {name}: takes one comma-separated list, not separate words: "
                    f"{name} {','.join(given + words)}")
    return None


def scoring_options(args: argparse.Namespace) -> "ScoringOptions":
    """The scoring options of the command line, resolved: the preset's values under those
    given (``teer.options.resolve``, which checks each; options not given are None).
    ``--speaker-map`` names a file, read here; ``--emotions`` and ``--emotion-map`` are
    read by ``resolve``."""
    from ..options import resolve

    speaker_map = None
    if args.speaker_map:
        from ..io.speaker_map import read_speaker_map

        speaker_map = read_speaker_map(args.speaker_map)
    return resolve(args.preset, collar=args.collar, regions=args.regions, uem_default=args.uem_default,
                   speaker_map=speaker_map, emotions=args.emotions, emotion_map=args.emotion_map,
                   non_target=args.non_target, average=getattr(args, "average", None),
                   neutral=getattr(args, "neutral", None))
