"""The name teer is published under, and the install line of each optional extra.

The distribution is ``teer-scorer`` (``teer`` on PyPI is an unrelated project);
the import name and the command stay ``teer``, as scikit-learn installs ``sklearn``.
"""
from __future__ import annotations

DISTRIBUTION = "teer-scorer"


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``: ``pip install "teer-scorer[plot]"``."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'
