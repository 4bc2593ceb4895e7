"""Where and in which format a command writes: ``-o``, ``--format``, atomic writing."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Iterable

from . import Fail

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
