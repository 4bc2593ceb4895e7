"""One module per ``teer`` sub-command, each with ``add_arguments(parser)`` and ``run(args) -> int``.

Helpers here are shared by the commands: the scoring options every command
that scores accepts, and writing output.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
from typing import Iterable


class Fail(Exception):
    """A command-line problem reported as ``teer: error: ...`` with exit status 2."""


# Option values follow the rule of the input files: ASCII decimal numbers only
# (argparse's float and int would take "1_0", "١٠" and "inf").
def seconds(text: str) -> float:
    """``--collar``: a non-negative, finite number of seconds."""
    from ..io.values import is_number

    value = float(text) if is_number(text) else math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a non-negative number of seconds, not {text!r}")
    return value


def fraction(text: str) -> float:
    """A number strictly between 0 and 1 (``--confidence``)."""
    from ..io.values import is_number

    value = float(text) if is_number(text) else math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, not {text!r}")
    return value


def integer(text: str) -> int:
    """A decimal integer (``--seed``)."""
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", text):
        raise argparse.ArgumentTypeError(f"expected an integer, not {text!r}")
    return int(text)


def positive_integer(text: str) -> int:
    """A decimal integer of at least 1 (``--bootstrap``)."""
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


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


def scoring_options(args: argparse.Namespace) -> dict:
    """The keyword arguments of ``teer.score`` given on the command line.

    Options not given are None: ``teer.score`` then takes the preset's value.
    Values a preset does not allow are reported as errors by ``teer.score``.
    """
    options = dict(preset=args.preset, uem=args.uem, collar=args.collar, regions=args.regions,
                   uem_default=args.uem_default, non_target=args.non_target)
    for name in ("average", "neutral"):
        if getattr(args, name, None) is not None:
            options[name] = getattr(args, name)
    if args.speaker_map:
        from ..io.speaker_map import read_speaker_map

        options["speaker_map"] = read_speaker_map(args.speaker_map)
    if args.emotions is not None:
        from ..emotions import parse_emotions

        options["emotions"] = parse_emotions(args.emotions)
    if args.emotion_map is not None:
        from ..emotions import parse_emotion_map

        options["emotion_map"] = parse_emotion_map(args.emotion_map)
    return options


#: the output format an extension of ``-o`` names (any other extension: the command's first format)
EXTENSION_FORMATS = {".json": "json", ".csv": "csv", ".md": "table", ".txt": "table"}


def add_output_arguments(p: argparse.ArgumentParser, formats: Iterable[str]) -> None:
    formats = tuple(formats)
    named = ", ".join(f"{ext} {fmt}" for ext, fmt in EXTENSION_FORMATS.items() if fmt in formats)
    p.add_argument("--format", choices=formats, default=None,
                   help=f"default: named by the extension of -o ({named}), else {formats[0]}")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write here (atomically) instead of stdout; its extension chooses the format")
    p.set_defaults(output_formats=formats)


def choose_format(args: argparse.Namespace) -> None:
    """``args.format`` from ``--format``, else from the extension of ``-o`` (``EXTENSION_FORMATS``),
    else the command's first format; an extension that names another format than ``--format``,
    or one the command does not write, is an error (before anything is read)."""
    formats = getattr(args, "output_formats", None)
    if formats is None:
        return
    output = getattr(args, "output", None)
    extension = os.path.splitext(output)[1].lower() if output else ""
    named = EXTENSION_FORMATS.get(extension)
    if named is not None and named not in formats:
        raise Fail(f"{output}: the {extension} extension names {named} output, which teer {args.command} does not "
                   f"write (--format {'|'.join(formats)})")
    if args.format is None:
        args.format = named or formats[0]
    elif named is not None and named != args.format:
        raise Fail(f"{output}: --format {args.format} contradicts the {extension} extension ({named}): "
                   "give one, or make them agree")


#: the arguments of the commands that name files they read
_INPUTS = ("reference", "hypothesis", "hypothesis_a", "hypothesis_b", "uem", "speaker_map", "emotion_map", "files")


def check_output(args: argparse.Namespace) -> None:
    """Refuse ``-o`` naming one of the command's inputs (also through a link): it would be
    overwritten. Checked before anything is read, so that nothing is written either."""
    output = getattr(args, "output", None)
    if output is None:
        return
    try:
        if not os.path.isfile(output):  # a new path, a device or a pipe cannot be an input file
            return
    except (OSError, ValueError):
        return
    for name in _INPUTS:
        values = getattr(args, name, None)
        for value in ([values] if isinstance(values, str) else values or []):
            try:
                same = os.path.samefile(output, value)
            except (OSError, ValueError):
                same = False
            if same:
                raise Fail(f"{output}: the output file is also an input ({value}); write the output elsewhere")


def emit(text: str, output: str | None) -> None:
    """Write ``text`` to stdout, or atomically to ``output``."""
    if output is None:
        sys.stdout.write(text)
        return
    from ..io import atomic_write_text

    atomic_write_text(output, text)


#: what one_line escapes: control characters and lone surrogates
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

#: warnings of the running command, printed when it succeeds (a run that fails says one thing:
#: its error)
PENDING_WARNINGS: list[str] = []


def warn(messages: Iterable[str]) -> None:
    PENDING_WARNINGS.extend(messages)


def one_line(text: str) -> str:
    """A message on one line: control characters (a newline in a file id) escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def print_warnings() -> None:
    for message in PENDING_WARNINGS:
        print(f"teer: warning: {one_line(message)}", file=sys.stderr)
    PENDING_WARNINGS.clear()
