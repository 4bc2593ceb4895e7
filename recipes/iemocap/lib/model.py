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
    from ..config import AudioConfig, FusionConfig, ModelConfig, TextConfig

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
# the audio encoder's convolutions, one utterance at a time

class _MaskedGroupNorms:
    """Mixed into an audio encoder's convolutional feature encoder (``encoder.feature_extractor``)
    whose layers hold a group norm (wav2vec2-base, HuBERT and WavLM base: the first layer). A
    group norm normalises each group of channels over the whole input, padding included, so a
    padded utterance's frames changed with the batch it was in (89 % at real shape for 2 s
    padded to 10 s). While :attr:`lengths` is set, each group norm takes its statistics over
    each utterance's own frames, exactly what the utterance alone gives; the convolutions
    themselves are local, so the frames of real samples are then those of the utterance alone
    (the transformer's attention mask hides the frames past its end)."""

    lengths: Tensor | None = None
    kernels: tuple[int, ...] = ()
    strides: tuple[int, ...] = ()

    def forward(self, input_values: Tensor) -> Tensor:
        lengths = self.lengths
        if lengths is None:
            return super().forward(input_values)
        hidden = input_values[:, None]
        if self._requires_grad and self.training:
            hidden.requires_grad = True
        valid = lengths.to(hidden.device)
        for layer, kernel, stride in zip(self.conv_layers, self.kernels, self.strides):
            valid = torch.div(valid - kernel, stride, rounding_mode="floor") + 1
            norm = getattr(layer, "layer_norm", None)
            if not isinstance(norm, nn.GroupNorm):
                hidden = layer(hidden)
                continue
            hidden = layer.conv(hidden)
            mask = torch.arange(hidden.shape[-1], device=hidden.device)[None, :] < valid[:, None]
            hidden = layer.activation(_masked_group_norm(hidden, mask, norm))
        return hidden


def _masked_group_norm(x: Tensor, mask: Tensor, norm: nn.GroupNorm) -> Tensor:
    """``norm`` (a group norm) of ``x (B, C, T)`` with each row's statistics over the positions
    where ``mask (B, T)`` is true (the other positions are left as they come: nothing reads them)."""
    b, c, t = x.shape
    g = norm.num_groups
    xf = x.float()
    xm = xf * mask[:, None, :].to(xf.dtype)
    count = mask.sum(-1).to(xf.dtype).clamp_min(1.0)[:, None] * (c // g)         # (B, 1)
    s1 = xm.sum(-1).reshape(b, g, c // g).sum(-1) / count                        # (B, G) mean
    s2 = (xm * xf).sum(-1).reshape(b, g, c // g).sum(-1) / count                 # (B, G) E[x^2]
    rstd = torch.rsqrt((s2 - s1 * s1).clamp_min(0.0) + norm.eps)
    mean = s1.repeat_interleave(c // g, dim=1)                                     # (B, C)
    scale = rstd.repeat_interleave(c // g, dim=1)
    if norm.affine:
        scale = scale * norm.weight.float()
    shift = -mean * scale + (norm.bias.float() if norm.affine else 0.0)
    return torch.addcmul(shift[:, :, None], xf, scale[:, :, None]).to(x.dtype)


def mask_group_norms(encoder: nn.Module) -> bool:
    """Make the group norms of ``encoder``'s feature encoder take each utterance's statistics on
    its own (see :class:`_MaskedGroupNorms`); whether it has any.
    The module keeps its parameters and state-dict keys (only its class changes)."""
    fe = getattr(encoder, "feature_extractor", None)
    if fe is None or not any(isinstance(m, nn.GroupNorm) for m in fe.modules()):
        return False
    if not isinstance(fe, _MaskedGroupNorms):
        fe.__class__ = type(f"MaskedGroupNorm{type(fe).__name__}", (_MaskedGroupNorms, type(fe)), {})
        fe.kernels = tuple(encoder.config.conv_kernel)
        fe.strides = tuple(encoder.config.conv_stride)
    return True


class LayerWeights(nn.Module):
    """A learned softmax-weighted sum of an encoder's hidden states (SUPERB's weighted sum):
    ``(B, L, T, D)`` -> ``(B, T, D)``; the weights start equal."""

    def __init__(self, n_layers: int):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(n_layers))

    def forward(self, states: Tensor) -> Tensor:
        w = torch.softmax(self.weights.float(), dim=0).to(states.dtype)
        return torch.einsum("l,blte->bte", w, states)


# --------------------------------------------------------------------------
# the whole model

#: audio families whose transformer hides padded frames given an attention mask (the frames
#: are zeroed before the positional convolution, the only layer that mixes neighbours); the
#: others (data2vec-audio: a stack of positional convolutions that read padded frames) run on
#: each utterance alone
MASKED_AUDIO_FAMILIES = frozenset({"wav2vec2", "hubert", "wavlm"})

#: what frozen encoders' features are rounded to, cached (``train.cache_features``) or not,
#: so that the cache changes the time a run takes and nothing else
FEATURE_DTYPE = torch.float16


class SERAlignModel(nn.Module):
    """Text and audio encoders + :class:`FusionHead`; either encoder may be None (one stream).

    ``layers`` (``{"text": "last" | "weighted", "audio": ...}``): what the head reads of an
    encoder, its last hidden state or a learned weighted sum of all of them (:class:`LayerWeights`);
    ``frozen`` (names of streams): encoders that get no gradient, run in eval mode (no dropout,
    no SpecAugment) and give features rounded to :data:`FEATURE_DTYPE`, which
    ``train.cache_features`` can store. The forward pass is :meth:`encode_text` /
    :meth:`encode_audio` (what a feature cache stores) and then :meth:`classify`.
    """

    def __init__(self, text_encoder: nn.Module | None, audio_encoder: nn.Module | None, num_classes: int,
                 fusion: FusionConfig, *, layers: dict[str, str] | None = None, frozen: Iterable[str] = ()):
        super().__init__()
        self.text_encoder = text_encoder
        self.audio_encoder = audio_encoder
        self.head = FusionHead(text_encoder.config.hidden_size if text_encoder is not None else None,
                               audio_encoder.config.hidden_size if audio_encoder is not None else None,
                               num_classes, **dataclasses.asdict(fusion))
        self.layers = {"text": "last", "audio": "last", **(layers or {})}
        for name, encoder in (("text", text_encoder), ("audio", audio_encoder)):
            if self.layers[name] not in ("last", "weighted"):
                raise ValueError(f"model.{name}.layers must be last or weighted, not {self.layers[name]!r}")
            if encoder is not None and self.layers[name] == "weighted":
                self.add_module(f"{name}_layer_weights", LayerWeights(encoder.config.num_hidden_layers + 1))
                if getattr(encoder.config, "layerdrop", 0.0):   # a skipped layer leaves no hidden state
                    encoder.config.layerdrop = 0.0
        self.frozen = frozenset(name for name in frozen
                                if (text_encoder if name == "text" else audio_encoder) is not None)
        for name in self.frozen:
            for p in self.encoder(name).parameters():
                p.requires_grad_(False)
        self.audio_alone = audio_encoder is not None and \
            audio_encoder.config.model_type not in MASKED_AUDIO_FAMILIES
        self.masked_group_norms = audio_encoder is not None and not self.audio_alone and \
            mask_group_norms(audio_encoder)

    def encoder(self, stream: str) -> nn.Module | None:
        return self.text_encoder if stream == "text" else self.audio_encoder

    @property
    def streams(self) -> tuple[str, ...]:
        return tuple(s for s in ("text", "audio") if self.encoder(s) is not None)

    def train(self, mode: bool = True):
        super().train(mode)
        for name in self.frozen:   # a frozen encoder is a fixed function: no dropout, no SpecAugment
            self.encoder(name).eval()
        return self

    def frame_mask(self, audio_lengths: Tensor, num_frames: int) -> Tensor:
        """Boolean ``(B, F)`` mask of the frames computed from real samples."""
        frames = self.audio_encoder._get_feat_extract_output_lengths(audio_lengths).long()
        return torch.arange(num_frames, device=audio_lengths.device)[None, :] < frames[:, None]

    def encoder_parameters(self) -> Iterable[nn.Parameter]:
        for encoder in (self.text_encoder, self.audio_encoder):
            if encoder is not None:
                yield from encoder.parameters()

    def _states(self, stream: str, out) -> Tensor:
        """``(B, T, D)`` (last) or ``(B, L, T, D)`` (weighted) of an encoder's output."""
        states = out.last_hidden_state if self.layers[stream] == "last" else torch.stack(out.hidden_states, 1)
        if stream in self.frozen:
            states = states.to(FEATURE_DTYPE)
        return states

    def encode_text(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        """The text encoder's states and the token mask (True = real token)."""
        with torch.set_grad_enabled(torch.is_grad_enabled() and "text" not in self.frozen):
            out = self.text_encoder(input_ids=input_ids, attention_mask=attention_mask,
                                    output_hidden_states=self.layers["text"] == "weighted")
        return self._states("text", out), attention_mask.bool()

    def encode_audio(self, audio: Tensor, audio_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """The audio encoder's states and the frame mask (True = frame of real samples).

        A prediction does not depend on the batch: the families of :data:`MASKED_AUDIO_FAMILIES`
        get the sample-level attention mask and, with group-norm convolutions, each utterance
        goes through the convolutions alone (:func:`mask_group_norms`); any other
        family runs on each utterance alone (utterances of one length together)."""
        if self.audio_alone:
            return self._encode_audio_alone(audio, audio_lengths)
        sample_mask = (torch.arange(audio.shape[1], device=audio.device)[None, :] < audio_lengths[:, None])
        convolutions = self.audio_encoder.feature_extractor if self.masked_group_norms else None
        if convolutions is not None:
            convolutions.lengths = audio_lengths
        try:
            with torch.set_grad_enabled(torch.is_grad_enabled() and "audio" not in self.frozen):
                out = self.audio_encoder(audio, attention_mask=sample_mask.long(),
                                         output_hidden_states=self.layers["audio"] == "weighted")
        finally:
            if convolutions is not None:
                convolutions.lengths = None
        states = self._states("audio", out)
        return states, self.frame_mask(audio_lengths, states.shape[-2])

    def _encode_audio_alone(self, audio: Tensor, audio_lengths: Tensor) -> tuple[Tensor, Tensor]:
        parts, rows = [], []
        with torch.set_grad_enabled(torch.is_grad_enabled() and "audio" not in self.frozen):
            for n in torch.unique(audio_lengths).tolist():
                idx = (audio_lengths == n).nonzero().squeeze(1)
                out = self.audio_encoder(audio[idx, :n], output_hidden_states=self.layers["audio"] == "weighted")
                parts.append(self._states("audio", out))
                rows.append(idx)
        frames = max(p.shape[-2] for p in parts)
        states = parts[0].new_zeros(len(audio), *parts[0].shape[1:-2], frames, parts[0].shape[-1])
        for idx, part in zip(rows, parts):
            states = states.index_copy(0, idx, nn.functional.pad(part, (0, 0, 0, frames - part.shape[-2])))
        return states, self.frame_mask(audio_lengths, frames)

    def classify(self, text: Tensor | None, text_mask: Tensor | None, audio: Tensor | None,
                 audio_mask: Tensor | None) -> Tensor:
        """Logits from encoder states (as :meth:`encode_text` / :meth:`encode_audio` give them,
        or read from a feature cache) and their masks."""
        if text is not None and self.layers["text"] == "weighted":
            text = self.text_layer_weights(text.float())
        if audio is not None and self.layers["audio"] == "weighted":
            audio = self.audio_layer_weights(audio.float())
        dtype = next(self.head.parameters()).dtype
        return self.head(None if text is None else text.to(dtype), text_mask,
                         None if audio is None else audio.to(dtype), audio_mask)

    def forward(self, input_ids: Tensor | None = None, attention_mask: Tensor | None = None,
                audio: Tensor | None = None, audio_lengths: Tensor | None = None, *,
                text_states: Tensor | None = None, text_mask: Tensor | None = None,
                audio_states: Tensor | None = None, audio_mask: Tensor | None = None) -> Tensor:
        """Logits from the raw inputs, or from a frozen stream's cached states and mask
        (``text_states`` / ``audio_states``, :mod:`recipes.iemocap.lib.features`) in their place."""
        if self.text_encoder is None:
            text_states = text_mask = None
        elif text_states is None:
            text_states, text_mask = self.encode_text(input_ids, attention_mask)
        if self.audio_encoder is None:
            audio_states = audio_mask = None
        elif audio_states is None:
            audio_states, audio_mask = self.encode_audio(audio, audio_lengths)
        return self.classify(text_states, text_mask, audio_states, audio_mask)


def _tiny_params(tiny) -> tuple[str, dict]:
    params = dataclasses.asdict(tiny)
    return params.pop("model_type"), params


def tiny_text_config(text: TextConfig, vocab_size: int | None = None, tokenizer=None):
    """A random text encoder's config (family ``model.text.tiny.model_type``) from
    ``model.text.tiny``; ``vocab_size``: the size of the tokenizer trained for it (default:
    ``tiny.vocab_size``); ``tokenizer``: its special tokens' ids are the model's."""
    from transformers import AutoConfig

    model_type, params = _tiny_params(text.tiny)
    if vocab_size is not None:
        params["vocab_size"] = vocab_size
    if tokenizer is not None:
        params.update(pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                      eos_token_id=tokenizer.eos_token_id)
    return AutoConfig.for_model(model_type, **params)


def tiny_audio_config(audio: AudioConfig):
    """A random audio encoder's config (family ``model.audio.tiny.model_type``) from
    ``model.audio.tiny``. It is built without SpecAugment (no ``masked_spec_embed`` weights),
    as a pretrained one is loaded: ``audio.mask_time_prob`` is applied on top of either."""
    from transformers import AutoConfig

    model_type, params = _tiny_params(audio.tiny)
    return AutoConfig.for_model(model_type, **params, mask_time_prob=0.0)


def build_model(model_cfg: ModelConfig, num_classes: int, vocab_size: int | None = None) -> SERAlignModel:
    """The model from the ``model:`` config section.

    ``model.text.pretrained`` / ``model.audio.pretrained`` (hub name or local
    directory, any family ``AutoModel`` knows) are loaded with ``from_pretrained``; when
    ``pretrained`` is null a randomly initialised encoder is built from ``model.*.tiny``.
    ``model.modalities`` (both, text, audio) says which encoders are built;
    ``model.*.layers`` and ``model.*.freeze`` what the head reads of them and whether they train.
    """
    text = audio = None
    if model_cfg.modalities != "audio":
        text = _text_encoder(model_cfg.text, vocab_size)
    if model_cfg.modalities != "text":
        audio = _audio_encoder(model_cfg.audio)
    frozen = [name for name, c in (("text", model_cfg.text), ("audio", model_cfg.audio)) if c.freeze]
    return SERAlignModel(text, audio, num_classes, model_cfg.fusion,
                         layers={"text": model_cfg.text.layers, "audio": model_cfg.audio.layers}, frozen=frozen)


def _without_pooler(encoder: nn.Module) -> nn.Module:
    """The head pools the states itself: a BERT-style pooler would be an unused layer."""
    if getattr(encoder, "pooler", None) is not None:
        encoder.pooler = None
    return encoder


def _text_encoder(text_cfg: TextConfig, vocab_size: int | None):
    from transformers import AutoModel

    if text_cfg.pretrained:
        return _without_pooler(AutoModel.from_pretrained(text_cfg.pretrained))
    return _without_pooler(AutoModel.from_config(tiny_text_config(text_cfg, vocab_size)))


def _audio_encoder(audio_cfg: AudioConfig):
    from transformers import AutoModel

    overrides = {}
    if audio_cfg.mask_time_prob is not None:
        overrides["mask_time_prob"] = audio_cfg.mask_time_prob
    if audio_cfg.pretrained:
        audio = AutoModel.from_pretrained(audio_cfg.pretrained, **overrides)
    else:
        conf = tiny_audio_config(audio_cfg)
        for k, v in overrides.items():
            setattr(conf, k, v)
        audio = AutoModel.from_config(conf)
    if audio_cfg.freeze_feature_encoder:
        audio.feature_extractor._freeze_parameters()
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
    from transformers import AutoModel, AutoTokenizer

    out = Path(out)
    tok_dir = write_tiny_tokenizer(texts, out / "tokenizer", model_cfg.text.tiny.vocab_size)
    tok = AutoTokenizer.from_pretrained(str(tok_dir))
    torch.manual_seed(seed)
    text = AutoModel.from_config(tiny_text_config(model_cfg.text, len(tok), tok))   # as published: with a pooler
    text.save_pretrained(str(out / "text"))
    audio = AutoModel.from_config(tiny_audio_config(model_cfg.audio))
    audio.save_pretrained(str(out / "audio"))
    return {"tokenizer": str(tok_dir), "text": str(out / "text"), "audio": str(out / "audio")}


def load_tokenizer(model_cfg: ModelConfig):
    """``model.tokenizer`` if set, else the text encoder's own tokenizer."""
    from transformers import AutoTokenizer

    name = model_cfg.tokenizer or model_cfg.text.pretrained
    if not name:
        raise ValueError("model.tokenizer (or model.text.pretrained) must name a tokenizer")
    return AutoTokenizer.from_pretrained(str(name))
