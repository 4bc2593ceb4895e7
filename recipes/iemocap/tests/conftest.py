"""Shared fixtures: one synthetic IEMOCAP corpus per test session.

``synthetic_corpus`` -> ``(root, truth)``: ``root`` holds
``IEMOCAP_full_release`` (either is a ``prepare.corpus``); ``truth`` is
the :class:`recipes.iemocap.tools.synthetic.SyntheticTruth` the generator returned.
``prepared`` -> ``(out, truth)``: the output of ``prepare`` on it (default
config). Treat both as read-only; copy them to change anything.
"""
from __future__ import annotations

import pytest

from recipes.iemocap.config import DEFAULT_CONFIG, load_config
from recipes.iemocap.stages.prepare import prepare
from recipes.iemocap.tools.synthetic import make_corpus


@pytest.fixture(scope="session")
def synthetic_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("iemocap_synthetic")
    truth = make_corpus(root, seed=0)
    return root, truth


@pytest.fixture(scope="session")
def prepared(synthetic_corpus, tmp_path_factory):
    root, truth = synthetic_corpus
    out = tmp_path_factory.mktemp("iemocap_prepared")
    prepare(root, out, load_config(DEFAULT_CONFIG), verbose=False)
    return out, truth
