"""The synthetic corpus with emotion cues, unseen test speakers, and ``model.modalities``."""
from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest
import soundfile as sf
import torch

from recipes.iemocap.config import LABEL_SETS, SMOKE_CONFIG, load_config
from recipes.iemocap.io_utils import RecipeError
from recipes.iemocap.model import build_model
from recipes.iemocap.synthetic import _VOCAB, TEXT_CUES, make_corpus
from recipes.iemocap.train import ensure_models

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
    vocab = {w.upper() for w in _VOCAB} | {"CAFÉ"}
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


# --------------------------------------------------------------------------
# model.modalities

TINY = {"text": {"pretrained": None, "tiny": {"vocab_size": 60}},
        "audio": {"pretrained": None, "tiny": {"feat_extract_norm": "layer"}},
        "fusion": {"dim": 16, "heads": 2, "layers": 1, "dropout": 0.0}}


def _inputs(seed):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 60, (2, 7), generator=gen)
    mask = torch.ones(2, 7, dtype=torch.long)
    mask[1, 4:] = 0
    audio = torch.randn(2, 8000, generator=gen)
    return ids, mask, audio, torch.tensor([8000, 5000])


@pytest.mark.parametrize("modalities,kept,ignored", [("text", "text_encoder", "audio"),
                                                      ("audio", "audio_encoder", "text")])
def test_one_stream_model_builds_one_encoder_and_ignores_the_other_input(modalities, kept, ignored):
    torch.manual_seed(0)
    model = build_model({**TINY, "modalities": modalities}, num_classes=4).eval()
    assert getattr(model, kept) is not None
    assert (model.audio_encoder if modalities == "text" else model.text_encoder) is None
    ids, mask, audio, lengths = _inputs(0)
    ids2, _, audio2, _ = _inputs(1)
    with torch.no_grad():
        base = model(ids, mask, audio, lengths)
        if ignored == "audio":
            other = model(ids, mask, audio2, lengths)
            moved = model(ids2, mask, audio, lengths)
        else:
            other = model(ids2, mask, audio, lengths)
            moved = model(ids, mask, audio2, lengths)
    torch.testing.assert_close(other, base)            # the other stream is not read
    assert not torch.allclose(moved, base, atol=1e-5)  # its own stream is


@pytest.mark.parametrize("modalities", ["text", "audio"])
def test_one_stream_padding_does_not_change_a_prediction(modalities):
    torch.manual_seed(0)
    model = build_model({**TINY, "modalities": modalities}, num_classes=4).eval()
    ids, mask, audio, lengths = _inputs(2)
    with torch.no_grad():
        alone = model(ids[1:, :4], mask[1:, :4], audio[1:, :5000], lengths[1:])
        padded = model(ids, mask, audio, lengths)
    torch.testing.assert_close(padded[1], alone[0], atol=1e-4, rtol=1e-4)


def test_unknown_modalities_is_a_config_error(prepared, tmp_path):
    data, _ = prepared
    cfg = load_config(SMOKE_CONFIG)
    cfg["model"]["modalities"] = "video"
    with pytest.raises(RecipeError, match="model.modalities"):
        ensure_models(cfg, data, tmp_path)
    with pytest.raises(ValueError, match="modalities"):
        build_model({**TINY, "modalities": "video"}, num_classes=4)
