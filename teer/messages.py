"""The wording of every warning teer gives (issue 23: one home for the text).

The modules that find something worth a warning return counts and seconds; the
functions here turn them into the one-line messages printed on stderr and raised
as ``teer.TeerWarning``. Nothing here computes a figure.
"""
from __future__ import annotations
