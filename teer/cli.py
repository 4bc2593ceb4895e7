"""The ``teer`` command: parses arguments and calls the API, nothing more."""
from __future__ import annotations

import argparse
import importlib
import re
import sys
import warnings

from . import __version__
from .checks import TeerWarning
from .commands import Fail, spaced_list_hint
from .segments import InputError

# sub-command -> module in teer.commands (add_arguments, run, HELP)
COMMANDS = ("score", "analyze", "compare", "plot", "validate")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line ``teer: error: ...`` (the message names the
    option) instead of the usage block; ``--help`` still shows the usage."""

    def error(self, message: str):
        self.exit(2, f"teer: error: {one_line(message)}\n")


def one_line(text: str) -> str:
    """A message on one line: control characters (a newline in a file id) escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def build_parser() -> tuple[argparse.ArgumentParser, dict]:
    parser = _Parser(
        prog="teer", description="Time-weighted emotion error rates (TEER, sTEER, EERa, sEERa) and DER.")
    parser.add_argument("--version", action="version", version=f"teer {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    modules = {}
    for name in COMMANDS:
        module = importlib.import_module(f"teer.commands.{name}")
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=module.HELP,
                                              description=(module.__doc__ or "").replace("``", "")))
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    parser, modules = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.error(spaced_list_hint(sys.argv[1:] if argv is None else [str(a) for a in argv])
                     or f"unrecognized arguments: {' '.join(extras)}")
    try:
        with warnings.catch_warnings():
            # the commands print the report's warnings themselves, as "teer: warning: ..."
            warnings.simplefilter("ignore", TeerWarning)
            return modules[args.command].run(args)
    except (InputError, Fail, ValueError) as err:
        print(f"teer: error: {one_line(str(err))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("teer: error: out of memory (inputs too large for this machine?)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
