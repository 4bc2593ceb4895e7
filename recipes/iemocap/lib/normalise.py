"""One text normaliser for every text the model reads (``inputs.text``).

Training utterances come with IEMOCAP's transcripts (mixed case, punctuation,
markers such as ``[LAUGHTER]``); oracle turns with the wdseg words (upper case,
``WORD(2)`` pronunciation variants, ``++NOISE++``, ``<sil>``); system turns with
ASR words (WhisperX: ``" Hello,"``). RoBERTa's tokenizer is case-sensitive, so
unless all of them are brought to one form, a model trained on transcripts reads
turns it has never seen the like of (on the synthetic corpus: TEER 36 % with the
upper-case words, 3.7 % lower-cased, 0 % with the transcript).

Styles:

* ``plain`` (default): markers removed (``[...]``, ``<...>``, ``++...++``), the
  ``(2)`` of a pronunciation variant dropped, lower case, every character that is
  not a letter, digit or inner apostrophe made a space (curly apostrophes are
  straight ones), spaces collapsed. ``"Yeah, I'm [LAUGHTER] fine."``,
  ``"YEAH I'M FINE"`` and ``" yeah" " I'm" " fine."`` all read ``"yeah i'm fine"``.
* ``none``: the text as written (words joined by one space); the sources differ.

Spelling differences that no rule fixes (``5`` against ``five``) stay.
"""
from __future__ import annotations

import re
from typing import Iterable

STYLES = ("plain", "none")

_MARKERS = re.compile(r"\[[^\]]*\]|<[^>]*>|\+\+[^+]*\+\+")
_VARIANT = re.compile(r"\(\d+\)")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT_WORD = re.compile(r"[^\w']+|_")
_EDGE_APOSTROPHE = re.compile(r"(?<!\w)'|'(?!\w)")


def normalise(text: str, style: str = "plain") -> str:
    """``text`` in the form ``style`` names (see the module docstring)."""
    if style == "none":
        return " ".join(text.split())
    if style != "plain":
        raise ValueError(f"text style must be one of {', '.join(STYLES)}, not {style!r}")
    text = _MARKERS.sub(" ", text)
    text = _VARIANT.sub("", text)
    text = text.translate(_APOSTROPHES).lower()
    text = _NOT_WORD.sub(" ", text)
    text = _EDGE_APOSTROPHE.sub(" ", text)
    return " ".join(text.split())


def join_words(words: str | Iterable) -> str:
    """A turn's ``words`` (SegLST: one string; or a list of words or ``[word, start, end]``) as one string."""
    if isinstance(words, str):
        return words
    return " ".join(w if isinstance(w, str) else str(w[0]) for w in words)
