"""The IEMOCAP recipe, one stage at a time or all at once.

Run it from the repository root (or anywhere with PYTHONPATH set to the
repository root); ``python -m recipes.iemocap STAGE --help`` describes a stage.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

from .lib.deps import INSTALL, TORCH_STAGES
from .lib.io_utils import PROG, report_error

STAGES = {
    "prepare": "read the corpus; write utterances, references and folds",
    "align": "turn ASR words and diarization into scored speaker turns",
    "train": "fine-tune the multimodal model on each fold",
    "evaluate": "classification metrics and hypotheses per fold",
    "score": "score the hypotheses with teer",
    "run": "all stages from one config file",
    "alignment-study": "degrade word times and speakers step by step; what it does to TEER",
}

EPILOG = (f"prepare, align, score and alignment-study (without --checkpoint) need neither torch nor "
          f"transformers; {', '.join(TORCH_STAGES[:-1])} and {TORCH_STAGES[-1]} do: {INSTALL}.")


class OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line, ``iemocap: error: ...``, exit status 2 (as every other error)."""

    def error(self, message: str):
        self.exit(2, f"{PROG}: error: {message} (see {self.prog} --help)\n")


class MissingModelPackage(Exception):
    """A stage needs torch or transformers, which are not installed."""


def _stage_module(name: str) -> ModuleType:
    """Import one stage's module (only the chosen one: the others may need torch)."""
    try:
        return importlib.import_module(f"recipes.iemocap.stages.{name.replace('-', '_')}")
    except ModuleNotFoundError as err:
        if err.name not in ("torch", "transformers"):
            raise
        raise MissingModelPackage(f"the {name} stage needs {err.name}, which is not installed: "
                                  f"{INSTALL}") from None


def build_parser(stage: str | None) -> tuple[argparse.ArgumentParser, ModuleType | None]:
    """The command line, with the options of ``stage`` (the one the user named) filled in."""
    parser = OneLineParser(
        prog="python -m recipes.iemocap", epilog=EPILOG,
        description="RoBERTa + wav2vec2 emotion recognition on IEMOCAP, scored with teer. "
                    "Run from the repository root, or anywhere with PYTHONPATH set to it.")
    sub = parser.add_subparsers(dest="stage", required=True, metavar="STAGE",
                                help=", ".join(STAGES))
    module = None
    for name, help_text in STAGES.items():
        stage_parser = sub.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:]
                                      + ".", epilog=EPILOG if name in TORCH_STAGES else None)
        if name == stage:
            module = _stage_module(name)
            module.add_arguments(stage_parser)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # the stage is the first word that is not an option; only its module is imported
    stage = next((a for a in argv if not a.startswith("-")), None)
    try:
        parser, module = build_parser(stage)
        args = parser.parse_args(argv)  # exits unless a stage was named, so `module` is set
        return module.main(args)
    except MissingModelPackage as err:
        return report_error(err)
    except ModuleNotFoundError as err:
        if err.name not in ("torch", "transformers"):
            raise
        return report_error(MissingModelPackage(f"the {args.stage} stage needs {err.name}, which is "
                                                f"not installed: {INSTALL}"))


if __name__ == "__main__":
    sys.exit(main())
