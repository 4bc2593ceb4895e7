"""``model.modalities``: a one-stream model reads its own stream only."""
from __future__ import annotations

import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import torch  # noqa: E402

from recipes.iemocap.config import SMOKE_CONFIG, load_config, override  # noqa: E402
from recipes.iemocap.lib.io_utils import RecipeError  # noqa: E402
from recipes.iemocap.lib.model import build_model  # noqa: E402

TINY = override(load_config(SMOKE_CONFIG), {
    "model.text.tiny.vocab_size": 60, "model.audio.tiny.feat_extract_norm": "layer",
    "model.fusion.dim": 16, "model.fusion.heads": 2, "model.fusion.layers": 1, "model.fusion.dropout": 0.0})


def _one_stream(modalities: str):
    return override(TINY, {"model.modalities": modalities}).model


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
    model = build_model(_one_stream(modalities), num_classes=4).eval()
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
    model = build_model(_one_stream(modalities), num_classes=4).eval()
    ids, mask, audio, lengths = _inputs(2)
    with torch.no_grad():
        alone = model(ids[1:, :4], mask[1:, :4], audio[1:, :5000], lengths[1:])
        padded = model(ids, mask, audio, lengths)
    torch.testing.assert_close(padded[1], alone[0], atol=1e-4, rtol=1e-4)


def test_unknown_modalities_is_a_config_error(tmp_path):
    with pytest.raises(RecipeError, match="model.modalities: expected one of both, text, audio, got 'video'"):
        override(TINY, {"model.modalities": "video"})
    conf = tmp_path / "c.yaml"
    conf.write_text("model:\n  modalities: video\n")
    with pytest.raises(RecipeError, match=f"{conf}:2: model.modalities"):
        load_config(conf)
