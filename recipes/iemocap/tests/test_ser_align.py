"""SER-Align's setting (issue 21 §2): ``conf/ser_align.yaml`` and the architecture options
that build its fusion (post-norm 768/8/2048 layers, ReLU in the forget gate, residual and
LayerNorm after cross-attention)."""
from __future__ import annotations

import pytest

from recipes.iemocap.config import CONF_DIR, load_config
from recipes.iemocap.lib.deps import missing_reason

SER_ALIGN = CONF_DIR / "ser_align.yaml"


def test_ser_align_config_says_what_ser_align_does():
    cfg = load_config(SER_ALIGN)
    f = cfg.model.fusion
    assert (f.dim, f.heads, f.ff_dim, f.layers, f.dropout) == (768, 8, 2048, 2, 0.2)
    assert (f.norm_first, f.gate_relu, f.attention_residual, f.cross_attention) == (False, True, True, "pooled")
    assert cfg.train.on == "turns" and cfg.train.folds == [5] and cfg.train.epochs == 20
    assert (cfg.train.lr_encoder, cfg.train.lr_head, cfg.train.weight_decay) == (2e-5, 1e-4, 0.01)
    assert cfg.labels.turn_overlap == 0.1 and cfg.align.max_gap == 1.0 and cfg.align.source == "whisperx"
    assert (cfg.inputs.audio, cfg.inputs.text) == ("first", "none")
    wx = cfg.align.whisperx
    assert (wx.model, wx.vad_onset, wx.speakers) == ("large-v2", 0.4, 2)
    assert cfg.folds.valid_fraction > 0      # validation from the training sessions, not the test one


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_the_fusion_options_build_ser_align_s_layers():
    import torch

    from recipes.iemocap.lib.model import FusionHead

    torch.manual_seed(0)
    opts = dict(dim=16, heads=2, layers=2, dropout=0.0, cross_attention="pooled")
    ser = FusionHead(8, 12, 4, **opts, ff_dim=40, norm_first=False, gate_relu=True, attention_residual=True).eval()
    ours = FusionHead(8, 12, 4, **opts).eval()
    layer = ser.fusion.layers[0]
    assert layer.linear1.out_features == 40 and layer.norm_first is False
    assert ours.fusion.layers[0].linear1.out_features == 64 and ours.fusion.layers[0].norm_first is True
    assert ser.text_gate.relu and not ours.text_gate.relu
    assert hasattr(ser, "text_attention_norm") and not hasattr(ours, "text_attention_norm")
    # the gate's ReLU: h = ReLU(z + g * W_v a) is never negative; the plain gate's output is
    z, a = torch.randn(3, 5, 16), torch.randn(3, 5, 16)
    assert (ser.text_gate(z, a) >= 0).all() and (ours.text_gate(z, a) < 0).any()
    # the residual: LayerNorm(attention + query) has zero mean and unit variance per vector
    text, audio = torch.randn(2, 6, 8), torch.randn(2, 9, 12)
    tm = torch.ones(2, 6, dtype=torch.bool)
    am = torch.ones(2, 9, dtype=torch.bool)
    captured = {}
    ser.text_gate.register_forward_hook(lambda m, args, out: captured.setdefault("a", args[1]))
    logits = ser(text, tm, audio, am)
    assert logits.shape == (2, 4)
    a = captured["a"]
    assert torch.allclose(a.mean(-1), torch.zeros(2, 1), atol=1e-5)
    assert torch.allclose(a.var(-1, unbiased=False), torch.ones(2, 1), atol=1e-3)
