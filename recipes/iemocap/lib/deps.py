"""What the stages that run a model need beyond the scorer: torch and transformers.

``prepare``, ``align``, ``score`` and ``alignment-study`` (without a trained
model) run without them, and no stage imports them before it runs: a machine
without torch can prepare data, score hypotheses and read every stage's help.
"""
from __future__ import annotations

import importlib.util

#: stages that need torch to run
TORCH_STAGES = ("train", "evaluate", "run")

#: how to install them without pulling the multi-gigabyte CUDA build of torch
INSTALL = ('install the CPU build of torch first (pip install torch --index-url '
           'https://download.pytorch.org/whl/cpu), then pip install -e ".[recipe]"')


def missing_model_packages() -> list[str]:
    """The model packages (torch, transformers) that cannot be imported here."""
    return [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]


def missing_reason() -> str | None:
    """Why the model stages cannot run here (for messages and test skips), or None."""
    missing = missing_model_packages()
    if not missing:
        return None
    return f"needs {' and '.join(missing)}, not installed: {INSTALL}"
