"""The ``teer`` command: builds the parser of the chosen sub-command and runs it.

The sub-commands are ``teer.commands``; running one (one-line errors, exit status,
warnings) is ``teer.commands.running``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .commands import spaced_list_hint
from .commands.running import ERROR_STATUS, error_line, execute

# sub-command -> module in teer.commands (add_arguments, run, HELP)
COMMANDS = ("score", "analyze", "compare", "plot", "report", "validate")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line ``teer: error: ...`` (the message names the
    option) instead of the usage block; ``--help`` still shows the usage."""

    def error(self, message: str):
        self.exit(ERROR_STATUS, error_line(message))


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the terminal width: left to find it, argparse imports
    shutil (and with it bz2, lzma...) on every add_argument, a noticeable part of start-up."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs.setdefault("width", _terminal_width())
        super().__init__(prog, **kwargs)


def _terminal_width() -> int:
    # what shutil.get_terminal_size does: $COLUMNS, else the terminal, else 80
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, dict]:
    """The parser; with ``command``, only that sub-command is built, so that a run imports
    (and builds parsers for) only what its command uses."""
    parser = _Parser(
        prog="teer", formatter_class=_HelpFormatter, description="Time-weighted emotion error rates (TEER, sTEER, EERa, sEERa) and DER.")
    parser.add_argument("--version", action="version", version=f"teer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name in COMMANDS if command is None else (command,):
        module = importlib.import_module(f"teer.commands.{name}")
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=module.HELP, formatter_class=_HelpFormatter,
                                            description=(module.__doc__ or "").replace("``", "")))
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else [str(a) for a in argv]
    # top-level options take no value: the first other word names the sub-command
    chosen = next((w for w in words if not w.startswith("-")), None)
    parser, modules = build_parser(chosen if chosen in COMMANDS else None)
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.error(spaced_list_hint(sys.argv[1:] if argv is None else [str(a) for a in argv])
                     or f"unrecognized arguments: {' '.join(extras)}")
    return execute(modules[args.command], args)


if __name__ == "__main__":
    sys.exit(main())
