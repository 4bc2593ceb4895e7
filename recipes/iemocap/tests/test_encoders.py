"""Any encoder family (AutoConfig / AutoModel), and predictions that do not depend on the batch."""
from __future__ import annotations

import numpy as np
import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import torch  # noqa: E402

from recipes.iemocap.config import SMOKE_CONFIG, load_config, override  # noqa: E402
from recipes.iemocap.lib.data import Collator, SERDataset, make_loader, utterance_examples  # noqa: E402
from recipes.iemocap.lib.model import build_model, load_tokenizer, write_tiny_models  # noqa: E402
from recipes.iemocap.stages.prepare import load_utterances  # noqa: E402
from recipes.iemocap.lib.runtime import Runtime, predict  # noqa: E402

CPU = Runtime(torch.device("cpu"))
TEXTS = ["yeah okay well", "I think that the forms are here", "no", "what do you mean by that"] * 5
BASE = override(load_config(SMOKE_CONFIG), {"model.fusion.dim": 16, "model.fusion.heads": 2,
                                            "model.fusion.layers": 1, "model.fusion.dropout": 0.0})


def _written(tmp_path, text_type="roberta", audio_type="wav2vec2", **settings):
    cfg = override(BASE, {"model.text.tiny.model_type": text_type, "model.audio.tiny.model_type": audio_type,
                          **settings})
    paths = write_tiny_models(cfg.model, TEXTS, tmp_path, seed=0)
    return cfg.model.with_pretrained(text=paths["text"], audio=paths["audio"], tokenizer=paths["tokenizer"])


def _loader(examples, model_cfg, batch_size):
    collate = Collator(load_tokenizer(model_cfg), max_tokens=model_cfg.text.max_tokens)
    return make_loader(SERDataset(examples, model_cfg.audio.max_seconds), collate, batch_size, shuffle=False)


@pytest.mark.parametrize("text_type", ["roberta", "bert", "deberta-v2"])
def test_text_families_load_by_path_and_read_their_tokens(tmp_path, text_type):
    model_cfg = _written(tmp_path, text_type=text_type)
    torch.manual_seed(0)
    model = build_model(override(BASE, {"model.modalities": "text"}).model.with_pretrained(
        text=model_cfg.text.pretrained, tokenizer=model_cfg.tokenizer), num_classes=4).eval()
    assert model.text_encoder.config.model_type == text_type and model.audio_encoder is None
    tok = load_tokenizer(model_cfg)
    enc = tok(["yeah okay", "the forms are here", "what do you mean"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(enc["input_ids"], enc["attention_mask"], None, None)
        alone = model(enc["input_ids"][:1, :enc["attention_mask"][0].sum()],
                      enc["attention_mask"][:1, :enc["attention_mask"][0].sum()], None, None)
        moved = model(enc["input_ids"].flip(1), enc["attention_mask"], None, None)
    assert out.shape == (3, 4) and torch.isfinite(out).all()
    torch.testing.assert_close(out[0], alone[0], atol=1e-4, rtol=1e-4)   # padding hidden
    assert not torch.allclose(out, moved, atol=1e-5)                      # the tokens are read


@pytest.mark.parametrize("audio_type,norm", [("wav2vec2", "group"), ("hubert", "group"), ("wavlm", "group"),
                                             ("data2vec-audio", "layer")])
def test_audio_families_load_by_path_and_ignore_padding(tmp_path, audio_type, norm):
    model_cfg = _written(tmp_path, audio_type=audio_type)
    torch.manual_seed(0)
    model = build_model(override(BASE, {"model.modalities": "audio"}).model.with_pretrained(
        audio=model_cfg.audio.pretrained), num_classes=4).eval()
    assert model.audio_encoder.config.model_type == audio_type
    assert model.masked_group_norms == (norm == "group") and model.audio_alone == (norm == "layer")
    gen = torch.Generator().manual_seed(0)
    audio = torch.randn(3, 16000, generator=gen)
    lengths = torch.tensor([16000, 5000, 9000])
    for k, n in enumerate(lengths):
        audio[k, n:] = 0
    with torch.no_grad():
        out = model(None, None, audio, lengths)
        alone = model(None, None, audio[1:2, :5000], lengths[1:2])
    assert out.shape == (3, 4) and torch.isfinite(out).all()
    torch.testing.assert_close(out[1], alone[0], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("norm", ["group", "layer"])
def test_evaluation_batch_1_and_16_give_the_same_probabilities(prepared, tmp_path, norm):
    """wav2vec2-base's group norm normalises over the padded input: the convolutions run
    per utterance, so a prediction does not depend on the batch it was in."""
    data, _ = prepared
    model_cfg = _written(tmp_path, **{"model.audio.tiny.feat_extract_norm": norm})
    torch.manual_seed(0)
    model = build_model(model_cfg, num_classes=4).eval()
    records = load_utterances(data)
    examples = [e for e in utterance_examples(records, ["neu", "hap", "ang", "sad"]) if e.label >= 0][:32]
    assert len({round(e.duration, 1) for e in examples}) > 8   # lengths differ: batches are padded
    probs = {}
    for bs in (1, 16):
        idx, logits = predict(model, _loader(examples, model_cfg, bs), CPU)
        probs[bs] = torch.softmax(torch.from_numpy(logits[np.argsort(idx)]), -1)
    assert (probs[1] - probs[16]).abs().max() <= 1e-4


def test_an_unknown_tiny_family_is_an_error():
    with pytest.raises(ValueError, match="no-such-model"):
        build_model(override(BASE, {"model.text.tiny.model_type": "no-such-model"}).model, num_classes=4)
