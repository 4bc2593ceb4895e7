"""The multimodal model on tiny random encoders: masks, cross-attention, gates."""
from __future__ import annotations

import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import torch

from recipes.iemocap.config import SMOKE_CONFIG, load_config, override
from recipes.iemocap.lib.model import FusionHead, ForgetGate, SERAlignModel, build_model, masked_mean

#: tiny random encoders (the smoke config's) with a 60-token vocabulary, a smaller fusion head
SMALL = override(load_config(SMOKE_CONFIG), {
    "model.text.tiny.vocab_size": 60, "model.audio.tiny.feat_extract_norm": "layer",
    "model.fusion.dim": 16, "model.fusion.heads": 2, "model.fusion.layers": 1, "model.fusion.dropout": 0.0})


def _model(mode="sequence", norm="layer", seed=0) -> SERAlignModel:
    torch.manual_seed(seed)
    cfg = override(SMALL, {"model.audio.tiny.feat_extract_norm": norm, "model.fusion.cross_attention": mode})
    return build_model(cfg.model, num_classes=4).eval()


def _sample(gen, n_tokens, n_samples):
    ids = torch.randint(5, 60, (n_tokens,), generator=gen)
    ids[0], ids[-1] = 0, 2
    return ids, torch.randn(n_samples, generator=gen)


def _batch(samples, pad_id=1):
    T = max(len(i) for i, _ in samples)
    S = max(len(a) for _, a in samples)
    ids = torch.full((len(samples), T), pad_id)
    mask = torch.zeros(len(samples), T, dtype=torch.long)
    audio = torch.zeros(len(samples), S)
    for k, (i, a) in enumerate(samples):
        ids[k, :len(i)] = i
        mask[k, :len(i)] = 1
        audio[k, :len(a)] = a
    lengths = torch.tensor([len(a) for _, a in samples])
    return ids, mask, audio, lengths


@pytest.mark.parametrize("mode,norm", [("sequence", "layer"), ("pooled", "layer"), ("sequence", "group"),
                                       ("pooled", "group")])
def test_padding_does_not_change_a_samples_logits(mode, norm):
    model = _model(mode, norm)
    gen = torch.Generator().manual_seed(1)
    short = _sample(gen, 5, 4000)
    long_ = _sample(gen, 17, 16000)
    with torch.no_grad():
        alone = model(*_batch([short]))
        padded = model(*_batch([short, long_]))
    assert padded.shape == (2, 4)
    torch.testing.assert_close(padded[0], alone[0], atol=1e-4, rtol=1e-4)


def test_frame_mask_matches_unpadded_frame_count():
    model = _model(norm="group")   # wav2vec2-base style: no attention mask to the encoder
    gen = torch.Generator().manual_seed(2)
    samples = [_sample(gen, 5, n) for n in (4000, 7777, 16000)]
    with torch.no_grad():
        frames = [model.audio_encoder(a[None]).last_hidden_state.shape[1] for _, a in samples]
        ids, mask, audio, lengths = _batch(samples)
        padded_frames = model.audio_encoder(audio).last_hidden_state.shape[1]
    fmask = model.frame_mask(lengths, padded_frames)
    assert fmask.sum(1).tolist() == frames
    assert model.masked_group_norms and not _model(norm="layer").masked_group_norms


def test_padded_frames_never_reach_the_output():
    """Garbage in masked frames / tokens leaves the head's logits unchanged."""
    for mode in ("sequence", "pooled"):
        torch.manual_seed(0)
        head = FusionHead(8, 12, 3, dim=16, heads=2, layers=1, dropout=0.0, cross_attention=mode).eval()
        text, audio = torch.randn(2, 6, 8), torch.randn(2, 9, 12)
        tmask = torch.tensor([[1] * 6, [1] * 3 + [0] * 3]).bool()
        amask = torch.tensor([[1] * 9, [1] * 5 + [0] * 4]).bool()
        base = head(text, tmask, audio, amask)
        text2, audio2 = text.clone(), audio.clone()
        text2[1, 3:] = 100.0
        audio2[1, 5:] = -50.0
        torch.testing.assert_close(head(text2, tmask, audio2, amask), base)


def _head(mode):
    torch.manual_seed(3)
    return FusionHead(8, 8, 4, dim=16, heads=2, layers=1, dropout=0.0, cross_attention=mode).eval()


def test_sequence_attention_depends_on_frame_order_pooled_does_not():
    text, audio = torch.randn(1, 5, 8), torch.randn(1, 11, 8)
    tmask, amask = torch.ones(1, 5, dtype=torch.bool), torch.ones(1, 11, dtype=torch.bool)
    perm = torch.randperm(11, generator=torch.Generator().manual_seed(0))
    permuted = audio[:, perm]
    with torch.no_grad():
        seq, pooled = _head("sequence"), _head("pooled")
        assert not torch.allclose(seq(text, tmask, audio, amask), seq(text, tmask, permuted, amask), atol=1e-5)
        torch.testing.assert_close(pooled(text, tmask, audio, amask), pooled(text, tmask, permuted, amask))


def test_sequence_cross_attention_is_not_a_no_op():
    """Each text token gets its own audio context; with pooled vectors the
    attention output is the value projection of the audio, whatever the query."""
    head = _head("sequence")
    z_t, z_a = torch.randn(1, 5, 16), torch.randn(1, 11, 16)
    no_pad = torch.zeros(1, 11, dtype=torch.bool)
    with torch.no_grad():
        ctx, weights = head.text_to_audio(z_t, z_a, z_a, key_padding_mask=no_pad)
        assert not torch.allclose(ctx[0, 0], ctx[0, 1], atol=1e-4)   # depends on the query
        assert weights.std() > 0                                     # not uniform
        # changing some frames while keeping their mean changes the context
        z_a2 = z_a.clone()
        z_a2[0, 0] += 1.0
        z_a2[0, 1] -= 1.0
        ctx2, _ = head.text_to_audio(z_t, z_a2, z_a2, key_padding_mask=no_pad)
        assert not torch.allclose(ctx, ctx2, atol=1e-4)
        # the pooled variant: one key, softmax = 1, output = out_proj(v_proj(audio)) for any query
        pooled_a = z_a.mean(1, keepdim=True)
        att = head.text_to_audio
        out1, _ = att(torch.randn(1, 1, 16), pooled_a, pooled_a)
        out2, _ = att(torch.randn(1, 1, 16) * 5, pooled_a, pooled_a)
        torch.testing.assert_close(out1, out2)
        w_v = att.in_proj_weight[32:]
        b_v = att.in_proj_bias[32:]
        expected = att.out_proj(pooled_a @ w_v.T + b_v)
        torch.testing.assert_close(out1, expected, atol=1e-5, rtol=1e-5)


def test_forget_gate_formula():
    torch.manual_seed(0)
    gate = ForgetGate(4)
    z, a = torch.randn(3, 4), torch.randn(3, 4)
    g = torch.sigmoid(torch.cat([z, a], -1) @ gate.gate.weight.T + gate.gate.bias)
    expected = z + g * (a @ gate.value.weight.T + gate.value.bias)
    torch.testing.assert_close(gate(z, a), expected)
    # a closed gate passes the stream through unchanged
    with torch.no_grad():
        gate.gate.weight.zero_()
        gate.gate.bias.fill_(-1e4)
    torch.testing.assert_close(gate(z, a), z)


def test_the_classifier_sees_each_stream_pooled_on_its_own():
    """Each stream is pooled over its own positions and normalised, so 500 audio frames
    weigh no more than 5 text tokens, and the classifier can weigh one stream against
    the other (one mean over both let words that carry nothing drown the audio)."""
    head = _head("sequence")
    seen = {}
    head.classifier.register_forward_hook(lambda module, args, out: seen.update(x=args[0]))
    text, audio = torch.randn(1, 5, 8), torch.randn(1, 500, 8)
    with torch.no_grad():
        head(text, torch.ones(1, 5, dtype=torch.bool), audio, torch.ones(1, 500, dtype=torch.bool))
    halves = seen["x"].reshape(2, 16)
    torch.testing.assert_close(halves.std(1, unbiased=False), torch.ones(2), atol=1e-3, rtol=1e-3)
    assert head.classifier.in_features == 2 * 16


def test_masked_mean():
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    assert masked_mean(x, torch.tensor([[True, True, False]])).item() == 2.0


def test_unknown_cross_attention_mode_is_rejected():
    with pytest.raises(ValueError, match="sequence or pooled"):
        FusionHead(4, 4, 2, dim=8, heads=2, layers=1, dropout=0.0, cross_attention="vector")


def test_tiny_tokenizer_and_models_round_trip(tmp_path):
    from recipes.iemocap.lib.model import load_tokenizer, write_tiny_models

    paths = write_tiny_models(SMALL.model, ["yeah okay well", "I think that the forms are here"] * 5,
                              tmp_path, seed=0)
    cfg = SMALL.model.with_pretrained(text=paths["text"], audio=paths["audio"], tokenizer=paths["tokenizer"])
    tok = load_tokenizer(cfg)
    enc = tok(["yeah okay", "the forms are here"], padding=True, return_tensors="pt")
    assert enc["attention_mask"][0].sum() < enc["attention_mask"][1].sum()
    model = build_model(cfg, num_classes=4).eval()
    assert model.text_encoder.config.vocab_size == len(tok)
    with torch.no_grad():
        out = model(enc["input_ids"], enc["attention_mask"], torch.randn(2, 8000),
                    torch.tensor([8000, 6000]))
    assert out.shape == (2, 4) and torch.isfinite(out).all()
