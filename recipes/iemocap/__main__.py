"""``python -m recipes.iemocap STAGE ...``: one sub-command per stage module.

Each stage module defines ``add_arguments(parser)`` and ``main(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

STAGES = {
    "prepare": "read the corpus; write utterances, references and folds",
    "align": "turn ASR words and diarization into scored speaker turns",
    "train": "fine-tune the multimodal model on each fold",
    "evaluate": "classification metrics and hypotheses per fold",
    "score": "score the hypotheses with teer",
    "run": "all stages from one config file",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.iemocap", description=__doc__)
    sub = parser.add_subparsers(dest="stage", required=True)
    modules = {}
    for name, help_text in STAGES.items():
        try:
            module = importlib.import_module(f"recipes.iemocap.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"recipes.iemocap.{name}":
                raise
            continue
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text))
    args = parser.parse_args(argv)
    return modules[args.stage].main(args)


if __name__ == "__main__":
    sys.exit(main())
