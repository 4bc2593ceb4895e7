"""teer: time-weighted emotion error rates for speech emotion recognition in conversations."""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import score
    from .checks import TeerWarning
    from .components import Components, Report
    from .framewise import frames_to_segments
    from .segments import InputError, SegmentTable
    from .ticks import Seconds

__all__ = ["score", "TeerWarning", "frames_to_segments", "Components", "Report", "InputError", "SegmentTable",
           "Seconds"]
__version__ = "0.1.0"

# name -> module that defines it. Loaded on first use: `teer score` then imports only
# what its run needs (the whole API takes longer to import than a small corpus to score).
_PUBLIC = {"score": "api", "TeerWarning": "checks", "Components": "components", "Report": "components",
           "frames_to_segments": "framewise", "InputError": "segments", "SegmentTable": "segments",
           "Seconds": "ticks"}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'teer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
