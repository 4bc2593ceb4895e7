"""Running one ``teer`` sub-command: its errors as one line and an exit status, its warnings.

``execute(command, args)`` runs the command module's ``run(args)``: bad input and bad
options (``InputError``, ``OptionError``, ``Fail``, any ``ValueError``) become one line
``teer: error: ...`` and exit status 2, with no traceback and nothing written; the
warnings the command collected (``warn``) are printed as ``teer: warning: ...`` once it
has succeeded; Ctrl-C and a termination request exit with 130.
"""
from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
import warnings
from types import ModuleType
from typing import Iterable

from ..checks import TeerWarning
from ..segments import InputError, OptionError
from . import Fail

#: the exit status of an error (argparse's too)
ERROR_STATUS = 2
#: the exit status of an interrupted run (128 + SIGINT)
INTERRUPTED_STATUS = 130


#: what one_line escapes: control characters and lone surrogates
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")

#: warnings of the running command, printed when it succeeds (a run that fails says one thing:
#: its error)
PENDING_WARNINGS: list[str] = []


def one_line(text: str) -> str:
    """A message on one line: control characters (a newline in a file id) escaped."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def error_line(message: str) -> str:
    return f"teer: error: {one_line(message)}\n"


def warn(messages: Iterable[str]) -> None:
    PENDING_WARNINGS.extend(messages)


def print_warnings() -> None:
    for message in PENDING_WARNINGS:
        print(f"teer: warning: {one_line(message)}", file=sys.stderr)
    PENDING_WARNINGS.clear()


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def execute(command: ModuleType, args: argparse.Namespace) -> int:
    """``command.run(args)``'s exit status, its errors and warnings on stderr (module docstring)."""
    from .output import check_output, choose_format

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
            code = command.run(args)
        print_warnings()
        return code
    except OptionError as err:
        # the option as the command line spells it: "--collar must be ..."
        sys.stderr.write(error_line(f"--{err.option.replace('_', '-')} {err.problem}"))
        return ERROR_STATUS
    except (InputError, Fail, ValueError) as err:
        sys.stderr.write(error_line(str(err)))
        return ERROR_STATUS
    except MemoryError:
        sys.stderr.write(error_line("out of memory (inputs too large for this machine?)"))
        return ERROR_STATUS
    except KeyboardInterrupt:
        return INTERRUPTED_STATUS
    finally:
        PENDING_WARNINGS.clear()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
