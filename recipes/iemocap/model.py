"""The SER-Align multimodal model: RoBERTa + wav2vec2, cross-modal attention,
forget-gate fusion and a fusion transformer.

Shapes: ``B`` batch, ``T`` text tokens, ``F`` audio frames, ``D`` fusion width.

* Text: a RoBERTa encoder with its attention mask -> ``(B, T, H_t)``.
* Audio: a wav2vec2 encoder on the raw waveform. Frame masks come from the
  waveform lengths through the convolutional feature encoder's length formula;
  models whose feature encoder uses layer norm (``feat_extract_norm="layer"``,
  e.g. wav2vec2-large-lv60) also get the sample-level attention mask, models
  with group norm (wav2vec2-base) take none, as they were trained.
* Cross-modal attention (``fusion.cross_attention``):

  - ``sequence`` (default): text tokens attend to audio frames and audio
    frames to text tokens, with key padding masks;
  - ``pooled``: each side is mask-pooled first and one vector attends to one
    vector. The softmax over a single key is 1, so the attention reduces to the
    value projection of the other side: a baseline, kept for comparison.

* Forget-gate fusion per stream: ``g = sigmoid(W_g [z; a])``,
  ``h = z + g * W_v a`` with ``z`` the stream and ``a`` what it attended to.
  SER-Align's own variants are options of ``model.fusion`` (``conf/ser_align.yaml``):
  ``gate_relu`` (``h = ReLU(z + g * W_v a)``), ``attention_residual``
  (``a = LayerNorm(attention + z)``), ``ff_dim`` and ``norm_first: false`` (its
  768/8/2048 post-norm fusion layers).
* A small transformer encoder over both fused streams (concatenated, with
  modality and sinusoidal position embeddings and the padding masks); each
  stream's positions mask-mean pooled on their own and layer-normed, the two
  vectors concatenated into a linear classifier. One mean over the whole
  sequence (the earlier head) weighted each stream by its length (~20 tokens
  against ~250 frames for 5 s) and mixed both into one vector, so the
  classifier could not weigh one stream against the other: with the emotion
  in the audio only, words that carry nothing held the fused model far below
  the audio model (the recipe README, "Does it learn?").

``model.modalities`` (``both``, default; ``text``; ``audio``) keeps one stream
only: the other encoder is not built and the single stream goes straight to
the fusion transformer (no cross-attention, no gate). It is how the tests show
that the fused model uses each stream: with the emotion only in the words a
text model learns and an audio model cannot, and the other way round.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from .config import AudioConfig, FusionConfig, ModelConfig, TextConfig

# --------------------------------------------------------------------------
# helpers

def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x (B, L, D)`` over the positions where ``mask (B, L)`` is true."""
    m = mask.to(x.dtype).unsqueeze(-1)
    return (x * m).sum(1) / m.sum(1).clamp_min(1.0)


def sinusoidal(length: int, dim: int, device=None, dtype=None) -> Tensor:
    pos = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    div = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32)
                    * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div[: dim // 2])
    return pe.to(dtype) if dtype is not None else pe


class ForgetGate(nn.Module):
    """``h = z + sigmoid(W_g [z; a]) * W_v a`` (with ``relu``: its ReLU, as SER-Align)."""

    def __init__(self, dim: int, relu: bool = False):
        super().__init__()
        self.gate = nn.Linear(2 * dim, dim)
        self.value = nn.Linear(dim, dim)
        self.relu = relu

    def forward(self, z: Tensor, a: Tensor) -> Tensor:
        g = torch.sigmoid(self.gate(torch.cat([z, a], dim=-1)))
        h = z + g * self.value(a)
        return torch.relu(h) if self.relu else h


class FusionHead(nn.Module):
    """Everything after the encoders: projections, cross-modal attention,
    forget gates, fusion transformer, classifier. The keyword arguments are the
    ``model.fusion`` settings (:class:`~recipes.iemocap.config.FusionConfig`)."""

    def __init__(self, text_dim: int | None, audio_dim: int | None, num_classes: int, *, dim: int,
                 heads: int, layers: int, dropout: float, cross_attention: str, ff_dim: int | None = None,
                 norm_first: bool = True, gate_relu: bool = False, attention_residual: bool = False):
        super().__init__()
        if cross_attention not in ("sequence", "pooled"):
            raise ValueError(f"fusion.cross_attention must be sequence or pooled, not {cross_attention!r}")
        if text_dim is None and audio_dim is None:
            raise ValueError("FusionHead needs at least one stream")
        self.mode = cross_attention
        self.dim = dim
        self.streams = tuple(name for name, d in (("text", text_dim), ("audio", audio_dim)) if d)
        if text_dim:
            self.text_proj = nn.Sequential(nn.Linear(text_dim, dim), nn.LayerNorm(dim))
        if audio_dim:
            self.audio_proj = nn.Sequential(nn.Linear(audio_dim, dim), nn.LayerNorm(dim))
        if len(self.streams) == 2:
            self.text_to_audio = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
            self.audio_to_text = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
            self.text_gate = ForgetGate(dim, gate_relu)
            self.audio_gate = ForgetGate(dim, gate_relu)
            if attention_residual:   # SER-Align: LayerNorm(attention + query)
                self.text_attention_norm = nn.LayerNorm(dim)
                self.audio_attention_norm = nn.LayerNorm(dim)
        self.attention_residual = attention_residual
        self.modality = nn.Embedding(2, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=ff_dim or 4 * dim, dropout=dropout,
                                           batch_first=True, norm_first=norm_first)
        self.fusion = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        if len(self.streams) == 2:
            self.audio_norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(len(self.streams) * dim, num_classes)

    def forward(self, text: Tensor | None, text_mask: Tensor | None, audio: Tensor | None,
                audio_mask: Tensor | None) -> Tensor:
        """Logits ``(B, C)`` from encoder outputs and their boolean masks (True = valid);
        a head built for one stream ignores the other (pass None)."""
        if len(self.streams) == 1:
            which = self.streams[0]
            x, mask = (text, text_mask) if which == "text" else (audio, audio_mask)
            proj = self.text_proj if which == "text" else self.audio_proj
            h = proj(x)
            if self.mode == "pooled":
                h = masked_mean(h, mask).unsqueeze(1)
                mask = torch.ones(h.shape[0], 1, dtype=torch.bool, device=h.device)
            h = h + self.modality.weight[0 if which == "text" else 1] \
                + sinusoidal(h.shape[1], self.dim, h.device, h.dtype)
            h = self.fusion(h, src_key_padding_mask=~mask)
            return self.classifier(self.dropout(self.norm(masked_mean(h, mask))))
        z_t = self.text_proj(text)
        z_a = self.audio_proj(audio)
        if self.mode == "pooled":
            z_t = masked_mean(z_t, text_mask).unsqueeze(1)
            z_a = masked_mean(z_a, audio_mask).unsqueeze(1)
            text_mask = audio_mask = torch.ones(z_t.shape[0], 1, dtype=torch.bool, device=z_t.device)
        # text tokens attend to audio frames, audio frames to text tokens
        a_t, _ = self.text_to_audio(z_t, z_a, z_a, key_padding_mask=~audio_mask, need_weights=False)
        a_a, _ = self.audio_to_text(z_a, z_t, z_t, key_padding_mask=~text_mask, need_weights=False)
        if self.attention_residual:
            a_t, a_a = self.text_attention_norm(a_t + z_t), self.audio_attention_norm(a_a + z_a)
        h_t = self.text_gate(z_t, a_t)
        h_a = self.audio_gate(z_a, a_a)
        h_t = h_t + self.modality.weight[0] + sinusoidal(h_t.shape[1], self.dim, h_t.device, h_t.dtype)
        h_a = h_a + self.modality.weight[1] + sinusoidal(h_a.shape[1], self.dim, h_a.device, h_a.dtype)
        h = torch.cat([h_t, h_a], dim=1)
        mask = torch.cat([text_mask, audio_mask], dim=1)
        h = self.fusion(h, src_key_padding_mask=~mask)
        n_t = h_t.shape[1]
        pooled = torch.cat([self.norm(masked_mean(h[:, :n_t], text_mask)),
                            self.audio_norm(masked_mean(h[:, n_t:], audio_mask))], dim=-1)
        return self.classifier(self.dropout(pooled))


# --------------------------------------------------------------------------
# the whole model

class SERAlignModel(nn.Module):
    """RoBERTa + wav2vec2 + :class:`FusionHead`; either encoder may be None (one stream)."""

    def __init__(self, text_encoder: nn.Module | None, audio_encoder: nn.Module | None, num_classes: int,
                 fusion: FusionConfig):
        super().__init__()
        self.text_encoder = text_encoder
        self.audio_encoder = audio_encoder
        self.head = FusionHead(text_encoder.config.hidden_size if text_encoder is not None else None,
                               audio_encoder.config.hidden_size if audio_encoder is not None else None,
                               num_classes, **dataclasses.asdict(fusion))
        self.audio_takes_mask = audio_encoder is not None and \
            getattr(audio_encoder.config, "feat_extract_norm", "group") == "layer"

    def frame_mask(self, audio_lengths: Tensor, num_frames: int) -> Tensor:
        """Boolean ``(B, F)`` mask of the frames computed from real samples."""
        frames = self.audio_encoder._get_feat_extract_output_lengths(audio_lengths).long()
        return torch.arange(num_frames, device=audio_lengths.device)[None, :] < frames[:, None]

    def encoder_parameters(self) -> Iterable[nn.Parameter]:
        for encoder in (self.text_encoder, self.audio_encoder):
            if encoder is not None:
                yield from encoder.parameters()

    def forward(self, input_ids: Tensor, attention_mask: Tensor, audio: Tensor,
                audio_lengths: Tensor) -> Tensor:
        text = text_mask = frames = frame_mask = None
        if self.text_encoder is not None:
            text = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            text_mask = attention_mask.bool()
        if self.audio_encoder is None:
            return self.head(text, text_mask, None, None)
        sample_mask = (torch.arange(audio.shape[1], device=audio.device)[None, :]
                       < audio_lengths[:, None])
        kwargs = {"attention_mask": sample_mask.long()} if self.audio_takes_mask else {}
        frames = self.audio_encoder(audio, **kwargs).last_hidden_state
        frame_mask = self.frame_mask(audio_lengths, frames.shape[1])
        return self.head(text, text_mask, frames, frame_mask)


def tiny_text_config(text: TextConfig, vocab_size: int | None = None):
    """A random RoBERTa's config from ``model.text.tiny``; ``vocab_size``: the size of the
    tokenizer trained for it (default: ``tiny.vocab_size``)."""
    from transformers import RobertaConfig

    params = dataclasses.asdict(text.tiny)
    if vocab_size is not None:
        params["vocab_size"] = vocab_size
    return RobertaConfig(**params)


def tiny_audio_config(audio: AudioConfig):
    """A random wav2vec2's config from ``model.audio.tiny``. It is built without SpecAugment
    (no ``masked_spec_embed`` weights), as a pretrained one is loaded: ``audio.mask_time_prob``
    is applied on top of either."""
    from transformers import Wav2Vec2Config

    return Wav2Vec2Config(**dataclasses.asdict(audio.tiny), mask_time_prob=0.0)


def build_model(model_cfg: ModelConfig, num_classes: int, vocab_size: int | None = None) -> SERAlignModel:
    """The model from the ``model:`` config section.

    ``model.text.pretrained`` / ``model.audio.pretrained`` (hub name or local
    directory) are loaded with ``from_pretrained``; when ``pretrained`` is null
    a randomly initialised encoder is built from ``model.*.tiny``.
    ``model.modalities`` (both, text, audio) says which encoders are built.
    """
    text = audio = None
    if model_cfg.modalities != "audio":
        text = _text_encoder(model_cfg.text, vocab_size)
    if model_cfg.modalities != "text":
        audio = _audio_encoder(model_cfg.audio)
    return SERAlignModel(text, audio, num_classes, model_cfg.fusion)


def _text_encoder(text_cfg: TextConfig, vocab_size: int | None):
    from transformers import RobertaModel

    if text_cfg.pretrained:
        return RobertaModel.from_pretrained(text_cfg.pretrained, add_pooling_layer=False)
    return RobertaModel(tiny_text_config(text_cfg, vocab_size), add_pooling_layer=False)


def _audio_encoder(audio_cfg: AudioConfig):
    from transformers import Wav2Vec2Model

    overrides = {}
    if audio_cfg.mask_time_prob is not None:
        overrides["mask_time_prob"] = audio_cfg.mask_time_prob
    if audio_cfg.pretrained:
        audio = Wav2Vec2Model.from_pretrained(audio_cfg.pretrained, **overrides)
    else:
        conf = tiny_audio_config(audio_cfg)
        for k, v in overrides.items():
            setattr(conf, k, v)
        audio = Wav2Vec2Model(conf)
    if audio_cfg.freeze_feature_encoder:
        audio.freeze_feature_encoder()
    return audio


# --------------------------------------------------------------------------
# tiny local tokenizer and encoders for the smoke run (nothing downloaded)

def write_tiny_tokenizer(texts: Iterable[str], out: str | Path, vocab_size: int) -> Path:
    """Train a byte-level BPE of at most ``vocab_size`` tokens on ``texts``; save a RoBERTa
    tokenizer in ``out``."""
    import tempfile

    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizerFast

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(list(texts), vocab_size=vocab_size, min_frequency=1, show_progress=False,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    with tempfile.TemporaryDirectory() as tmp:   # vocab.json + merges.txt only
        bpe.save_model(tmp)
        tok = RobertaTokenizerFast.from_pretrained(tmp, model_max_length=128)
    tok.save_pretrained(str(out))
    return out


def write_tiny_models(model_cfg: ModelConfig, texts: Iterable[str], out: str | Path,
                      seed: int = 0) -> dict[str, str]:
    """Write a tiny tokenizer and random tiny RoBERTa / wav2vec2 to ``out``.

    Returns ``{"tokenizer", "text", "audio"}`` -> local paths, for
    ``model.tokenizer`` / ``model.text.pretrained`` / ``model.audio.pretrained``.
    """
    from transformers import AutoTokenizer, RobertaModel, Wav2Vec2Model

    out = Path(out)
    tok_dir = write_tiny_tokenizer(texts, out / "tokenizer", model_cfg.text.tiny.vocab_size)
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    torch.manual_seed(seed)
    text = RobertaModel(tiny_text_config(model_cfg.text, len(tok)), add_pooling_layer=False)
    text.save_pretrained(str(out / "text"))
    audio = Wav2Vec2Model(tiny_audio_config(model_cfg.audio))
    audio.save_pretrained(str(out / "audio"))
    return {"tokenizer": str(tok_dir), "text": str(out / "text"), "audio": str(out / "audio")}


def load_tokenizer(model_cfg: ModelConfig):
    """``model.tokenizer`` if set, else the text encoder's own tokenizer."""
    from transformers import AutoTokenizer

    name = model_cfg.tokenizer or model_cfg.text.pretrained
    if not name:
        raise ValueError("model.tokenizer (or model.text.pretrained) must name a tokenizer")
    return AutoTokenizer.from_pretrained(str(name))
