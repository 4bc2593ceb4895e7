"""The ``teer`` command: parses arguments and calls the API, nothing more."""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings

from . import __version__
from .checks import TeerWarning
from .commands import PENDING_WARNINGS, Fail, check_output, choose_format, one_line, print_warnings, spaced_list_hint
from .segments import InputError

# sub-command -> module in teer.commands (add_arguments, run, HELP)
COMMANDS = ("score", "analyze", "compare", "plot", "report", "validate")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line ``teer: error: ...`` (the message names the
    option) instead of the usage block; ``--help`` still shows the usage."""

    def error(self, message: str):
        self.exit(2, f"teer: error: {one_line(message)}\n")


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


def _interrupted(signum, frame):
    raise KeyboardInterrupt


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
    # a termination request (kill, a closed terminal) unwinds like Ctrl-C, so that a
    # temporary output file is removed
    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {signum: signal.signal(signum, _interrupted) for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        check_output(args)
        choose_format(args)
        with warnings.catch_warnings():
            # the commands print the report's warnings themselves, as "teer: warning: ..."
            warnings.simplefilter("ignore", TeerWarning)
            # numpy's floating-point warnings are about intermediate values the code
            # handles (a 0/0 that becomes "n/a"); they are no message for the user
            warnings.simplefilter("ignore", RuntimeWarning)
            code = modules[args.command].run(args)
        print_warnings()
        return code
    except (InputError, Fail, ValueError) as err:
        print(f"teer: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("teer: error: out of memory (inputs too large for this machine?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        PENDING_WARNINGS.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
