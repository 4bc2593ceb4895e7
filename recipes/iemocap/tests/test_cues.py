"""The synthetic corpus with emotion cues, and unseen test speakers in every fold."""
from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import soundfile as sf

from recipes.iemocap.config import LABEL_SETS
from recipes.iemocap.tools.synthetic import TEXT_CUES, VOCAB, make_corpus

FOUR = LABEL_SETS["4class"]
CUE_WORDS = {w.upper() for ws in TEXT_CUES.values() for w in ws}


def _words(u):
    return [w for w, _, _ in u.words]


@pytest.fixture(scope="module")
def cued(tmp_path_factory):
    root = tmp_path_factory.mktemp("cued")
    return {cue: make_corpus(root / cue, seed=1, cue=cue, cue_strength=strength)
            for cue, strength in (("none", 1.0), ("text", 1.0), ("audio", 1.0), ("both", 0.5))}


def test_a_text_cue_changes_nothing_but_the_words(cued):
    a, b = cued["none"].utterances, cued["text"].utterances
    key = lambda u: (u.id, u.code, u.speaker, u.start, u.end, [(s, e) for _, s, e in u.words])  # noqa: E731
    assert [key(u) for u in a] == [key(u) for u in b]
    assert any(_words(u) != _words(v) for u, v in zip(a, b))


def test_without_a_cue_the_words_say_nothing(cued):
    vocab = {w.upper() for w in VOCAB} | {"CAFÉ"}
    assert all(set(_words(u)) <= vocab for u in cued["none"].utterances)


def test_text_cue_puts_the_emotions_words_in_with_the_given_probability(cued):
    for u in cued["text"].utterances:
        label = FOUR.get(u.code)
        words = [w for w in _words(u) if w != "CAFÉ"]
        if label is None:
            assert not set(words) & CUE_WORDS
        else:   # strength 1: every word is one of its emotion's words
            assert set(words) <= {w.upper() for w in TEXT_CUES[label]}
    labelled = [w for u in cued["both"].utterances if u.code in FOUR for w in _words(u)]
    share = np.mean([w in CUE_WORDS for w in labelled])
    assert 0.35 < share < 0.65          # strength 0.5; a few hundred words


def _centroid(path):
    audio, sr = sf.read(path)
    spec = np.abs(np.fft.rfft(audio))
    return float((spec * np.fft.rfftfreq(len(audio), 1 / sr)).sum() / spec.sum())


def test_audio_cue_orders_brightness_and_rate_by_emotion_for_every_speaker(cued):
    truth = cued["audio"]
    by = defaultdict(lambda: defaultdict(list))
    for u in truth.utterances:
        label = FOUR.get(u.code)
        if label:
            wav = truth.corpus / f"Session{int(u.session[-2:])}" / "sentences" / "wav" / u.dialog / f"{u.id}.wav"
            by[u.speaker][label].append((_centroid(wav), len(u.words) / (u.words[-1][2] - u.words[0][1])))
    checked = 0
    for speaker, per_label in by.items():
        mean = {lab: np.mean(v, axis=0) for lab, v in per_label.items()}
        if {"sad", "neu", "ang"} <= set(mean):
            assert mean["sad"][0] < mean["neu"][0] < mean["ang"][0], speaker   # brightness
            assert mean["sad"][1] < mean["ang"][1], speaker                     # speaking rate
            checked += 1
    assert checked >= 3


def test_bad_cue_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="cue must be"):
        make_corpus(tmp_path, cue="video")
    with pytest.raises(ValueError, match="cue_strength"):
        make_corpus(tmp_path, cue="text", cue_strength=2.0)


def test_test_session_speakers_are_never_seen_in_training(prepared):
    data, _ = prepared
    speaker = {}
    for line in (data / "utterances.jsonl").read_text().splitlines():
        r = json.loads(line)
        speaker[r["id"]] = r["speaker"]
    folds = json.loads((data / "folds.json").read_text())
    assert len(folds) == 5
    for f in folds:
        test = {speaker[i] for i in f["test"]}
        seen = {speaker[i] for i in f["train"] + f["valid"]}
        assert test and seen and not test & seen, f["fold"]
