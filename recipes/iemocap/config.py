"""The recipe's configuration: one typed structure whose defaults are the documented ones.

:class:`RecipeConfig` nests one frozen dataclass per section of the YAML file
(``labels``, ``prepare``, ``folds``, ``align``, ``inputs``, ``model``, ``train``,
``evaluate``, ``score``). The field defaults are the real-corpus settings
(roberta-base + wav2vec2-base on IEMOCAP); ``conf/default.yaml`` spells all
of them out, ``conf/smoke.yaml`` only what the smoke run changes.

A YAML file and ``--set KEY=VALUE`` overrides are laid over the defaults by
:func:`load_config`; every value is checked there (type and range), so an
unknown key or a bad value is one :class:`RecipeError` naming the file, the
line and the key, e.g. ``c.yaml:3: train.epochs: expected a positive
integer, got 'ten'``. The stages read attributes (``cfg.train.epochs``).

This module imports neither torch nor transformers.
"""
from __future__ import annotations

import argparse
import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import yaml

from teer.options import REGIONS, check_fixed
from teer.presets import PRESETS

from .lib.io_utils import RecipeError
from .lib.metrics import METRICS_HIGHER_IS_BETTER

CONF_DIR = Path(__file__).resolve().parent / "conf"
DEFAULT_CONFIG = CONF_DIR / "default.yaml"
SMOKE_CONFIG = CONF_DIR / "smoke.yaml"

#: Every emotion code the corpus uses (``xxx``: no majority among evaluators).
ALL_CODES = ("neu", "hap", "exc", "ang", "sad", "fru", "fea", "sur", "dis", "oth", "xxx")

#: Built-in label sets: corpus code -> label. Codes outside a map get no label.
LABEL_SETS: dict[str, dict[str, str]] = {
    # the standard 4-class benchmark: excited merged into happy
    "4class": {"neu": "neu", "hap": "hap", "exc": "hap", "ang": "ang", "sad": "sad"},
    # every category with a majority label (xxx excluded)
    "full": {c: c for c in ALL_CODES if c != "xxx"},
}

MODALITIES = ("both", "text", "audio")
#: what the head reads of an encoder: its last hidden state, or a weighted sum of all of them
LAYERS = ("last", "weighted")

# --------------------------------------------------------------------------
# value rules: what a setting accepts, said in words for the error message

class _Invalid(Exception):
    """A bad value at ``key`` (a path of names, relative to where it was raised)."""

    def __init__(self, key: tuple[str, ...], problem: str):
        super().__init__(problem)
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Rule:
    """A setting's accepted values: ``expected`` in words, ``accepts`` the test,
    ``convert`` the stored form (e.g. an integer given for a float)."""

    expected: str
    accepts: Callable[[Any], bool]
    convert: Callable[[Any], Any] = lambda value: value

    def check(self, value: Any, key: tuple[str, ...] = ()) -> Any:
        if not self.accepts(value):
            raise _Invalid(key, f"expected {self.expected}, got {value!r}")
        return self.convert(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(expected: str, test: Callable[[float], bool] = lambda x: True) -> Rule:
    """A finite number (an integer is taken as a float) for which ``test`` holds."""
    return Rule(expected, lambda v: _is_number(v) and test(float(v)), float)


def integer(expected: str, test: Callable[[int], bool] = lambda x: True) -> Rule:
    return Rule(expected, lambda v: _is_int(v) and test(v), int)


def choice(*options: str) -> Rule:
    return Rule(f"one of {', '.join(options)}", lambda v: isinstance(v, str) and v in options)


def positive_ints(expected: str) -> Rule:
    """A non-empty list of positive integers."""
    return Rule(expected, lambda v: isinstance(v, list) and bool(v) and all(_is_int(k) and k > 0 for k in v),
                list)


def optional(rule: Rule) -> Rule:
    """``rule``, or null."""
    return Rule(f"{rule.expected} or null", lambda v: v is None or rule.accepts(v),
                lambda v: None if v is None else rule.convert(v))


TEXT = Rule("a non-empty string", lambda v: isinstance(v, str) and v != "")
FLAG = Rule("true or false", lambda v: isinstance(v, bool))
POSITIVE_INT = integer("a positive integer", lambda x: x > 0)
COUNT = integer("an integer >= 0", lambda x: x >= 0)
SEED = integer("an integer")
SECONDS = number("a finite number of seconds >= 0", lambda x: x >= 0)
POSITIVE_SECONDS = number("a number of seconds > 0", lambda x: x > 0)
RATIO = number("a number from 0 to 1", lambda x: 0 <= x <= 1)
NON_NEGATIVE = number("a number >= 0", lambda x: x >= 0)
DROPOUT = number("a number from 0 to 1 (1 excluded)", lambda x: 0 <= x < 1)
FOLDS = positive_ints("a non-empty list of fold numbers (positive integers)")
LABEL_MAP = Rule(f"a non-empty mapping of emotion codes ({', '.join(ALL_CODES)}) to labels",
                 lambda v: isinstance(v, dict) and bool(v) and all(k in ALL_CODES for k in v)
                 and all(isinstance(x, str) and x for x in v.values()),
                 lambda v: {str(k): str(x) for k, x in v.items()})
LABEL_SET_MAPS = Rule("a mapping of set names to label maps (code: label)",
                      lambda v: isinstance(v, dict) and all(isinstance(k, str) and LABEL_MAP.accepts(m)
                                                            for k, m in v.items()),
                      lambda v: {k: LABEL_MAP.convert(m) for k, m in v.items()})
CONV_DIMS = positive_ints("a non-empty list of positive integers")


def setting(default: Any = dataclasses.MISSING, rule: Rule | None = None, *,
            factory: Callable[[], Any] | None = None) -> Any:
    """A field of a config section: its default and the rule every value given for it must meet."""
    if factory is not None:
        return field(default_factory=factory, metadata={"rule": rule})
    return field(default=default, metadata={"rule": rule})


def section(cls: type) -> Any:
    """A field holding a nested section (its defaults are the section's own)."""
    return field(default_factory=cls, metadata={"section": cls})


def sections(cls: type, key_rule: Rule, factory: Callable[[], dict]) -> Any:
    """A field holding a mapping name -> section ``cls`` (e.g. ``score.presets``); a value
    given replaces the whole mapping."""
    return field(default_factory=factory, metadata={"sections": cls, "key_rule": key_rule})


def _require(ok: bool, key: str, problem: str) -> None:
    """A check across fields of a section (run by its ``__post_init__``)."""
    if not ok:
        raise _Invalid((key,), problem)


# --------------------------------------------------------------------------
# the sections

@dataclass(frozen=True)
class LabelsConfig:
    """``labels:``: which corpus codes are scored, and under which label."""

    set: str = setting("4class", TEXT)
    """A label set: ``4class`` (neu, hap+exc, ang, sad) or ``full`` (every code but
    xxx; see :data:`LABEL_SETS`), or one of ``sets``."""
    sets: dict[str, dict[str, str]] = setting(rule=LABEL_SET_MAPS, factory=dict)
    """More label sets, name -> {corpus code: label}; codes not listed get no label.
    A name of a built-in set replaces it."""
    map: dict[str, str] | None = setting(None, optional(LABEL_MAP))
    """A code -> label map used instead of ``set`` (null: use ``set``)."""
    turn_overlap: float = setting(0.1, SECONDS)
    """Seconds: a turn takes the label of the labelled utterance it overlaps longest when that
    overlap is more than this (SER-Align's rule; for ``train.on: turns`` and the turn metrics)."""

    def __post_init__(self):
        known = {**LABEL_SETS, **self.sets}
        _require(self.map is not None or self.set in known, "set",
                 f"unknown label set {self.set!r} (choose from {', '.join(sorted(known))})")

    @property
    def mapping(self) -> dict[str, str]:
        """The configured corpus code -> label map (``map`` if given, else the set's)."""
        if self.map is not None:
            return dict(self.map)
        return dict({**LABEL_SETS, **self.sets}[self.set])

    @property
    def names(self) -> list[str]:
        """The classes: the distinct labels of :attr:`mapping`."""
        return label_names(self.mapping)


def label_names(mapping: Mapping[str, str]) -> list[str]:
    """The distinct labels of a code -> label map, in first-seen order."""
    return list(dict.fromkeys(mapping.values()))


@dataclass(frozen=True)
class PrepareConfig:
    """``prepare:``: where the corpus is and where its outputs go."""

    corpus: str | None = setting("/data/IEMOCAP_full_release", optional(TEXT))
    """IEMOCAP_full_release (or its parent)."""
    out: str | None = setting("exp/iemocap/data", optional(TEXT))
    """prepare's output directory, read by the later stages; ``prepare --out`` and the later
    stages' ``--data`` name another one."""


@dataclass(frozen=True)
class FoldsConfig:
    """``folds:``: the leave-one-session-out folds' validation split."""

    seed: int = setting(1234, SEED)
    """Seed of the validation draw."""
    valid_fraction: float = setting(0.1, number("a number from 0 to 1 (1 excluded)", lambda x: 0 <= x < 1))
    """Share of the training sessions' utterances held out for validation, per fold (0: none;
    training then keeps the last epoch)."""


@dataclass(frozen=True)
class WhisperXConfig:
    """``align.whisperx:``: the WhisperX + pyannote.audio run of ``align --run-whisperx``
    (whisperx 3.8: ``whisperx.diarize.DiarizationPipeline(token=...)``; ``docs`` in the
    recipe README). The defaults are SER-Align's (``preprocess.py``)."""

    model: str = setting("large-v2", TEXT)
    language: str = setting("en", TEXT)
    device: str | None = setting(None, optional(TEXT))
    """``cuda``, ``cpu``; null: ``cuda`` when torch sees a GPU, else ``cpu``."""
    compute_type: str | None = setting(None, optional(TEXT))
    """faster-whisper's (``float16``, ``int8``, ...); null: ``float16`` on a GPU, ``int8`` on CPU."""
    batch_size: int = setting(8, POSITIVE_INT)
    vad_onset: float | None = setting(0.4, optional(RATIO))
    """WhisperX's VAD onset threshold (SER-Align: 0.4; WhisperX's own: 0.5); null: WhisperX's."""
    speakers: int | None = setting(2, optional(POSITIVE_INT))
    """Speakers per dialog given to the diarization (min = max; IEMOCAP and SER-Align: 2); null:
    the pipeline estimates it."""
    diarization_model: str | None = setting(None, optional(TEXT))
    """A pyannote pipeline (hub name or local path); null: WhisperX's default
    (``pyannote/speaker-diarization-community-1`` in whisperx 3.8)."""


@dataclass(frozen=True)
class AlignConfig:
    """``align:``: how ASR words and speakers become the scored turns."""

    source: str = setting("oracle", choice("oracle", "whisperx"))
    """``oracle`` (the corpus' word times and reference speakers) or ``whisperx``."""
    max_gap: float = setting(1.0, SECONDS)
    """Seconds; a pause longer than this ends a turn."""
    min_overlap: float = setting(0.5, RATIO)
    """Turn <-> utterance overlap / the shorter duration, needed to match them."""
    asr: str | None = setting(None, optional(TEXT))
    """whisperx: directory of ``<dialog>.json`` (made by ``align --run-whisperx`` if null)."""
    diarization: str | None = setting(None, optional(TEXT))
    """whisperx: RTTM of speaker turns (null: the speakers of the JSON)."""
    whisperx: WhisperXConfig = section(WhisperXConfig)


#: how an example's audio is read (``inputs.audio``)
AUDIO_SOURCES = ("channel", "mix", "first", "sentence")


@dataclass(frozen=True)
class InputsConfig:
    """``inputs:``: what the model reads, the same for training utterances and for turns."""

    text: str = setting("plain", choice("plain", "none"))
    """How transcripts, wdseg words and ASR words are normalised before the tokenizer:
    ``plain`` (lower case, no punctuation, no corpus markers; ``lib/normalise.py``) or ``none``."""
    audio: str = setting("channel", choice(*AUDIO_SOURCES))
    """Where an example's audio comes from: ``channel``, the louder channel of the dialog
    recording over the example's span (the speaker's own microphone; chosen from the audio,
    so a system turn gets it the same way); ``mix``, the dialog recording's channels
    averaged; ``first``, its first channel (SER-Align); ``sentence``, the corpus's sentence
    wav for utterances (the reference's own file, which turns do not have: they read
    ``channel``)."""
    window_hop: float | None = setting(None, optional(POSITIVE_SECONDS))
    """Seconds between the sliding windows (``model.audio.max_seconds`` long) over which a
    longer utterance or turn is classified, the logits averaged; null: half a window.
    Evaluation and validation average the windows; training reads the first one."""


@dataclass(frozen=True)
class TinyTransformer:
    """The transformer shape of a tiny random encoder (tests and the smoke run)."""

    hidden_size: int = setting(32, POSITIVE_INT)
    num_hidden_layers: int = setting(2, POSITIVE_INT)
    num_attention_heads: int = setting(2, POSITIVE_INT)
    intermediate_size: int = setting(64, POSITIVE_INT)


@dataclass(frozen=True)
class TinyTextConfig(TinyTransformer):
    """``model.text.tiny:``: the random text encoder built when ``pretrained`` is null."""

    model_type: str = setting("roberta", TEXT)
    """Its family, a ``model_type`` transformers' ``AutoConfig`` knows (roberta, bert,
    deberta-v2, electra, ...)."""

    max_position_embeddings: int = setting(130, POSITIVE_INT)
    """At least ``max_tokens`` + 2 (RoBERTa's positions start after the padding index)."""
    vocab_size: int = setting(400, POSITIVE_INT)
    """Tokens of the byte-level BPE trained on the transcripts for the tiny model; the
    embedding takes the size the tokenizer comes out with (at most this)."""


@dataclass(frozen=True)
class TinyAudioConfig(TinyTransformer):
    """``model.audio.tiny:``: the random audio encoder built when ``pretrained`` is null."""

    model_type: str = setting("wav2vec2", TEXT)
    """Its family, a ``model_type`` transformers' ``AutoConfig`` knows (wav2vec2, hubert,
    wavlm, data2vec-audio, ...)."""

    conv_dim: list[int] = setting(rule=CONV_DIMS, factory=lambda: [32] * 7)
    """Channels of each of the 7 convolutions of the feature encoder."""
    num_conv_pos_embeddings: int = setting(16, POSITIVE_INT)
    num_conv_pos_embedding_groups: int = setting(2, POSITIVE_INT)
    feat_extract_norm: str = setting("group", choice("group", "layer"))
    """``group`` (as wav2vec2-base) or ``layer`` (as wav2vec2-large-lv60); families whose
    convolutions have no such choice (data2vec-audio: layer norm) ignore it."""


@dataclass(frozen=True)
class TextConfig:
    """``model.text:``: the text encoder."""

    pretrained: str | None = setting("roberta-base", optional(TEXT))
    """Hub name or local directory of any encoder ``AutoModel`` loads (BERT, RoBERTa,
    DeBERTa-v2, ...); null: a tiny random encoder built from ``tiny``."""
    max_tokens: int = setting(128, POSITIVE_INT)
    """Longer transcripts are cut."""
    freeze: bool = setting(False, FLAG)
    """No gradient through the encoder: it runs in eval mode and its features are rounded to
    half precision (what ``train.cache_features`` stores)."""
    layers: str = setting("last", choice(*LAYERS))
    """``last`` hidden state, or ``weighted``: a learned softmax-weighted sum of all hidden
    states (SUPERB)."""
    tiny: TinyTextConfig = section(TinyTextConfig)


@dataclass(frozen=True)
class AudioConfig:
    """``model.audio:``: the audio encoder."""

    pretrained: str | None = setting("facebook/wav2vec2-base", optional(TEXT))
    """Hub name or local directory of any encoder ``AutoModel`` loads (wav2vec2, HuBERT,
    WavLM, data2vec-audio, ...); null: a tiny random encoder built from ``tiny``."""
    max_seconds: float | None = setting(15.0, optional(POSITIVE_SECONDS))
    """Audio read at once: longer examples are classified over sliding windows of this length
    (``inputs.window_hop``) and cut to their first window in training (null: never cut)."""
    freeze_feature_encoder: bool = setting(True, FLAG)
    """The convolutional feature encoder stays frozen."""
    mask_time_prob: float | None = setting(0.05, optional(RATIO))
    """wav2vec2's SpecAugment while training (null: the encoder's own setting; none when frozen)."""
    freeze: bool = setting(False, FLAG)
    """No gradient through the encoder (as ``model.text.freeze``)."""
    layers: str = setting("last", choice(*LAYERS))
    """``last`` or ``weighted`` (as ``model.text.layers``)."""
    tiny: TinyAudioConfig = section(TinyAudioConfig)


@dataclass(frozen=True)
class FusionConfig:
    """``model.fusion:``: everything after the encoders."""

    cross_attention: str = setting("sequence", choice("sequence", "pooled"))
    """``sequence`` (tokens <-> frames) or ``pooled`` (a baseline: attention between pooled vectors)."""
    dim: int = setting(256, POSITIVE_INT)
    heads: int = setting(4, POSITIVE_INT)
    """Attention heads; must divide ``dim``."""
    layers: int = setting(2, POSITIVE_INT)
    """Layers of the fusion transformer."""
    dropout: float = setting(0.1, DROPOUT)
    ff_dim: int | None = setting(None, optional(POSITIVE_INT))
    """Feed-forward width of the fusion transformer's layers; null: 4 x ``dim`` (SER-Align: 2048)."""
    norm_first: bool = setting(True, FLAG)
    """Pre-norm fusion layers; false: post-norm, PyTorch's default, as SER-Align."""
    gate_relu: bool = setting(False, FLAG)
    """A ReLU over each forget gate's output, ``h = ReLU(z + g * W_v a)``, as SER-Align."""
    attention_residual: bool = setting(False, FLAG)
    """Each cross-attention's output added to its query and layer-normed,
    ``a = LayerNorm(attention(z, other) + z)``, as SER-Align; false: the attention alone."""

    def __post_init__(self):
        _require(self.dim % self.heads == 0, "heads", f"{self.heads} heads do not divide dim {self.dim}")


@dataclass(frozen=True)
class ModelConfig:
    """``model:``: RoBERTa + wav2vec2, cross-modal attention, gated fusion."""

    modalities: str = setting("both", choice(*MODALITIES))
    """``both``, or ``text`` / ``audio``: one stream only (the other encoder is not built)."""
    tokenizer: str | None = setting(None, optional(TEXT))
    """Null: the text encoder's own tokenizer (with tiny models: a byte-level BPE trained on
    the transcripts, written next to them)."""
    text: TextConfig = section(TextConfig)
    audio: AudioConfig = section(AudioConfig)
    fusion: FusionConfig = section(FusionConfig)

    def with_pretrained(self, text: str | None = None, audio: str | None = None,
                        tokenizer: str | None = None) -> ModelConfig:
        """This section with the encoders (and tokenizer) that are not set taken from these paths."""
        return dataclasses.replace(
            self, tokenizer=self.tokenizer or tokenizer,
            text=dataclasses.replace(self.text, pretrained=self.text.pretrained or text),
            audio=dataclasses.replace(self.audio, pretrained=self.audio.pretrained or audio))


@dataclass(frozen=True)
class EarlyStoppingConfig:
    """``train.early_stopping:``."""

    metric: str = setting("UA", choice(*METRICS_HIGHER_IS_BETTER))
    """The validation metric that selects ``best.pt`` and stops training."""
    patience: int = setting(3, POSITIVE_INT)
    """Epochs without improvement before training stops."""


@dataclass(frozen=True)
class TrainConfig:
    """``train:``: fine-tuning on each fold."""

    folds: list[int] = setting(rule=FOLDS, factory=lambda: [1, 2, 3, 4, 5])
    """Leave-one-session-out folds to run (fold k tests on Ses0k)."""
    on: str = setting("utterances", choice("utterances", "turns"))
    """What the model trains and is selected on: the corpus's ``utterances``, or the ``turns``
    that align made from words and speakers, labelled as SER-Align does (``labels.turn_overlap``;
    unlabelled turns are left out of training and still scored)."""
    epochs: int = setting(10, POSITIVE_INT)
    batch_size: int = setting(8, POSITIVE_INT)
    """Per GPU."""
    grad_accum: int = setting(4, POSITIVE_INT)
    """Batches whose gradients are summed before each optimiser step."""
    lr_encoder: float = setting(2.0e-5, NON_NEGATIVE)
    lr_head: float = setting(1.0e-4, NON_NEGATIVE)
    weight_decay: float = setting(0.01, NON_NEGATIVE)
    """AdamW's; biases and norms get none."""
    warmup_ratio: float = setting(0.1, RATIO)
    """Share of the steps with a linear warm-up (then linear decay to 0)."""
    max_grad_norm: float = setting(1.0, NON_NEGATIVE)
    """Gradient clipping (0: none)."""
    early_stopping: EarlyStoppingConfig = section(EarlyStoppingConfig)
    seed: int = setting(1234, SEED)
    """Fold k trains with seed + k."""
    rank_seed_stride: int = setting(7919, POSITIVE_INT)
    """Under torchrun, rank r seeds its random draws (dropout, masking) with the fold's seed +
    r x this (a prime, so that ranks and folds never share a seed); the batches' order is
    drawn from the fold's seed alone, the same on every rank."""
    precision: str = setting("auto", choice("auto", "fp32", "bf16", "fp16"))
    """``auto``: bf16 (or fp16) autocast on GPU, fp32 on CPU."""
    device: str = setting("auto", TEXT)
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N`` (torchrun: one GPU per rank)."""
    num_workers: int = setting(4, COUNT)
    """Data loader worker processes."""
    bucket_batches: int = setting(50, POSITIVE_INT)
    """Batches per length bucket (utterances of similar length are batched together)."""
    eval_batch_size: int = setting(16, POSITIVE_INT)
    find_unused_parameters: bool = setting(True, FLAG)
    """DistributedDataParallel's; true is safe with frozen or unused parameters."""
    cache_features: bool = setting(False, FLAG)
    """With frozen encoders (``model.*.freeze``): each utterance's states are computed once
    (half precision) under ``OUT/features/``, keyed by the encoder, its settings and the
    input, and every epoch and fold reads them."""
    max_batch_seconds: float | None = setting(None, optional(POSITIVE_SECONDS))
    """Batches also capped by audio: at most this many padded seconds (utterances x the
    longest, after ``model.audio.max_seconds``); null: by ``batch_size`` only."""
    keep: str = setting("best", choice("best", "last", "both"))
    """Checkpoints left once a fold has finished, besides the one ``evaluate.checkpoint``
    names: ``best`` (weights of the best validation epoch), ``last`` (weights of the last
    epoch) or ``both``. While a fold trains, ``last.pt`` also holds what ``--resume`` needs
    (optimiser, scheduler, RNG states); a finished fold's checkpoints hold weights only."""
    deterministic: bool = setting(False, FLAG)
    """Deterministic algorithms (``torch.use_deterministic_algorithms``, cuDNN without
    benchmarking, ``CUBLAS_WORKSPACE_CONFIG``): the same GPU run gives the same weights, slower."""


@dataclass(frozen=True)
class EvaluateConfig:
    """``evaluate:``."""

    checkpoint: str = setting("best", choice("best", "last"))
    """``best`` (the best validation epoch) or ``last``."""
    batch_size: int = setting(16, POSITIVE_INT)


@dataclass(frozen=True)
class PresetScoring:
    """``score.presets.<preset>:``: the reference a teer preset is scored against."""

    reference: str = setting(dataclasses.MISSING, TEXT)
    """A reference RTTM written by prepare (``ref_words.rttm``, ``ref_utterance.rttm``, ...)."""
    collar: float | None = setting(None, optional(SECONDS))
    """Null: ``score.collar``."""
    regions: str | None = setting(None, optional(choice(*REGIONS)))
    """Null: ``score.regions``."""


def _default_presets() -> dict[str, PresetScoring]:
    return {"wu2023": PresetScoring(reference="ref_words.rttm"),
            "ser-align": PresetScoring(reference="ref_utterance.rttm")}


@dataclass(frozen=True)
class ScoreConfig:
    """``score:``: how the hypotheses are scored with teer."""

    collar: float | None = setting(None, optional(SECONDS))
    """Null: the preset's (wu2023 0.25; ser-align fixes 0)."""
    regions: str | None = setting(None, optional(choice(*REGIONS)))
    """Null: the preset's (all)."""
    restrict_to_labels: bool = setting(True, FLAG)
    """teer's ``emotions=``: reference speech outside the label set is not scored."""
    presets: dict[str, PresetScoring] = sections(PresetScoring, choice(*PRESETS), _default_presets)
    """teer preset -> the reference it is scored against (and its own collar, regions)."""

    def __post_init__(self):
        _require(bool(self.presets), "presets", "expected at least one teer preset")
        for name in self.presets:   # teer's own rule: an option a preset fixes keeps the preset's value
            try:
                for option, value in (("collar", self.collar_for(name)), ("regions", self.regions_for(name))):
                    check_fixed(name, option, value, remedy=f"set score.presets.{name}.{option} to the "
                                                            f"preset's value, or score.{option} to null")
            except ValueError as err:
                raise _Invalid(("presets", name), str(err)) from None

    def collar_for(self, name: str) -> float | None:
        """The collar given to teer for preset ``name`` (None: the preset's own)."""
        own = self.presets[name].collar
        return own if own is not None else self.collar

    def regions_for(self, name: str) -> str | None:
        own = self.presets[name].regions
        return own if own is not None else self.regions


#: the alignment study's factors (``stages/alignment_study.py`` says what each one does)
STUDY_FACTORS = ("word_jitter", "boundary_shift", "word_drop", "word_merge", "speaker_words",
                 "speaker_turns", "turn_shift", "max_gap")
LEVELS = Rule(f"a mapping of factors ({', '.join(STUDY_FACTORS)}) to non-empty lists of levels >= 0",
              lambda v: isinstance(v, dict) and bool(v) and all(k in STUDY_FACTORS for k in v)
              and all(isinstance(x, list) and bool(x) and all(_is_number(y) and y >= 0 for y in x)
                      for x in v.values()),
              lambda v: {str(k): [float(y) for y in x] for k, x in v.items()})
FACTOR_LIST = Rule(f"a non-empty list of factors ({', '.join(STUDY_FACTORS)})",
                   lambda v: isinstance(v, list) and bool(v) and all(x in STUDY_FACTORS for x in v), list)
SEEDS = Rule("a non-empty list of integers",
             lambda v: isinstance(v, list) and bool(v) and all(_is_int(x) for x in v), list)


def _default_levels() -> dict[str, list[float]]:
    return {"word_jitter": [0.0, 0.05, 0.1, 0.2, 0.4],
            "boundary_shift": [0.0, 0.05, 0.1, 0.2, 0.4],
            "word_drop": [0.0, 0.1, 0.2, 0.3, 0.5],
            "word_merge": [0.0, 0.1, 0.2, 0.3, 0.5],
            "speaker_words": [0.0, 0.05, 0.1, 0.2, 0.3],
            "speaker_turns": [0.0, 0.05, 0.1, 0.2, 0.3],
            "turn_shift": [0.0, 0.1, 0.25, 0.5, 1.0],
            "max_gap": [0.1, 0.25, 0.5, 1.0, 2.0, 4.0]}


@dataclass(frozen=True)
class StudyConfig:
    """``study:``: the grid of ``alignment-study``."""

    factors: list[str] | None = setting(None, optional(FACTOR_LIST))
    """The factors run, in this order; null: every factor of ``levels``."""
    levels: dict[str, list[float]] = setting(rule=LEVELS, factory=_default_levels)
    """Factor -> its degradation levels (seconds or shares; 0: undegraded). ``max_gap``'s are
    pause thresholds, ``align.max_gap`` added as the undegraded point. A value given
    replaces the whole mapping."""
    seeds: list[int] = setting(rule=SEEDS, factory=lambda: [0])
    """Seeds of the degradations, one per run; with N checkpoints and one seed s: s, s+1, ...,
    s+N-1."""
    min_word: float = setting(0.01, POSITIVE_SECONDS)
    """Seconds: the shortest a word becomes under ``boundary_shift``."""
    merge_gap: float = setting(0.3, SECONDS)
    """Seconds: the longest pause two words merged by ``word_merge`` may have between them."""

    def __post_init__(self):
        missing = [f for f in self.factors or () if f not in self.levels]
        _require(not missing, "factors", f"no levels for factor {missing[0] if missing else ''!r} "
                                         f"(study.levels has {', '.join(self.levels)})")


#: what carries the 4-class emotion in a synthetic corpus (``tools/synthetic.py``)
CUES = ("none", "audio", "text", "both")


@dataclass(frozen=True)
class SyntheticConfig:
    """``synthetic:``: the synthetic corpus that ``run --smoke`` writes (and
    ``python -m recipes.iemocap.tools.synthetic``); the real layout and formats, random speech."""

    seed: int = setting(0, SEED)
    dialogs_per_session: int = setting(2, POSITIVE_INT)
    utterances_per_dialog: int = setting(12, integer("an integer >= 2", lambda x: x >= 2))
    cue: str = setting("none", choice(*CUES))
    """What carries the 4-class emotion: nothing, the audio, the words or both."""
    cue_strength: float = setting(1.0, RATIO)
    """How strongly: the audio profile's scale and the probability a word is replaced."""


@dataclass(frozen=True)
class RunConfig:
    """``run:``: the chain of ``python -m recipes.iemocap run``."""

    seeds: list[int] | None = setting(None, optional(SEEDS))
    """One training per seed (``train.seed``) in ``OUT/seed{s}/`` on the same data, and
    ``OUT/results.json`` with their mean and std; null: one run with ``train.seed``."""


@dataclass(frozen=True)
class RecipeConfig:
    """The whole configuration: one section per stage, ``path`` the file it was read from."""

    labels: LabelsConfig = section(LabelsConfig)
    prepare: PrepareConfig = section(PrepareConfig)
    folds: FoldsConfig = section(FoldsConfig)
    align: AlignConfig = section(AlignConfig)
    inputs: InputsConfig = section(InputsConfig)
    model: ModelConfig = section(ModelConfig)
    train: TrainConfig = section(TrainConfig)
    evaluate: EvaluateConfig = section(EvaluateConfig)
    score: ScoreConfig = section(ScoreConfig)
    study: StudyConfig = section(StudyConfig)
    synthetic: SyntheticConfig = section(SyntheticConfig)
    run: RunConfig = section(RunConfig)
    path: str | None = field(default=None, compare=False)
    """The YAML file it was read from (for messages; not a setting)."""


# --------------------------------------------------------------------------
# building a section from a mapping laid over a base

def _build(cls: type, base: Any, data: Any, key: tuple[str, ...]) -> Any:
    """Section ``cls``: ``base`` (or its defaults, when None) with the values of mapping ``data``."""
    if not isinstance(data, dict):
        raise _Invalid(key, f"expected a mapping of settings, got {data!r}")
    known = {f.name: f for f in dataclasses.fields(cls) if f.metadata}
    changes = {}
    for name, value in data.items():
        f = known.get(name) if isinstance(name, str) else None
        if f is None:
            raise _Invalid(key + (str(name),), f"unknown key{_near(name, known)} (known: {', '.join(known)})")
        if "section" in f.metadata:
            changes[name] = _build(f.metadata["section"], getattr(base, name, None), value, key + (name,))
        elif "sections" in f.metadata:
            changes[name] = _build_sections(f, value, key + (name,))
        else:
            changes[name] = f.metadata["rule"].check(value, key + (name,))
    required = [f.name for f in known.values() if f.name not in changes and base is None
                and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if required:
        raise _Invalid(key + (required[0],), "missing (this setting has no default)")
    try:
        return dataclasses.replace(base, **changes) if base is not None else cls(**changes)
    except _Invalid as err:   # a check across fields, in the section's __post_init__
        raise _Invalid(key + err.key, err.problem) from None


def _near(name: Any, known: Iterable[str]) -> str:
    """``; did you mean X?`` for a key close to a known one (a typo), else nothing."""
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.75)
    return f"; did you mean {close[0]}?" if close else ""


def _build_sections(f: dataclasses.Field, data: Any, key: tuple[str, ...]) -> dict:
    key_rule = f.metadata["key_rule"]
    if not isinstance(data, dict):
        raise _Invalid(key, f"expected a mapping of {key_rule.expected} to settings, got {data!r}")
    out = {}
    for name, value in data.items():
        key_rule.check(name, key + (str(name),))
        out[name] = _build(f.metadata["sections"], None, value, key + (name,))
    return out


# --------------------------------------------------------------------------
# loading

class ConfigLoader(yaml.SafeLoader):
    """YAML's safe loader, reading numbers as people type them.

    YAML 1.1 (PyYAML) takes a float only with a dot, so ``1e-3`` was the string
    ``'1e-3'`` and refused as a number while ``1.0e-3`` was accepted. Every plain
    (unquoted) scalar that Python's ``float()`` reads as a finite or infinite number in
    decimal notation (``1e-3``, ``1E3``, ``.5``, ``5.``, ``-2.5e+4``, ``1_000.5``) is a
    number here; quoted scalars stay strings. Booleans are YAML 1.2's, ``true`` and ``false``
    only: YAML 1.1's ``on``, ``off``, ``yes``, ``no`` are strings (``train.on`` is a key).
    """


ConfigLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
ConfigLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))
ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))
# an integer stays an integer: the int resolver (added first) is tried before this one


def yaml_load(text: str) -> Any:
    """``text`` read with :class:`ConfigLoader` (the config files and ``--set`` values)."""
    return yaml.load(text, Loader=ConfigLoader)   # noqa: S506 (a SafeLoader subclass)


class _Lines:
    """The line of each key of a YAML document (1-based), for error messages."""

    def __init__(self, text: str):
        self.lines: dict[tuple[str, ...], int] = {}
        try:
            node = yaml.compose(text, Loader=ConfigLoader)
        except yaml.YAMLError:
            node = None
        self._walk(node, ())

    def _walk(self, node: Any, key: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    self.lines[key + (k.value,)] = k.start_mark.line + 1
                    self._walk(v, key + (k.value,))

    def line(self, key: tuple[str, ...]) -> int | None:
        """The line of ``key``, or of its nearest parent that has one."""
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


def _error(source: Any, line: int | None, err: _Invalid) -> RecipeError:
    where = ".".join(err.key)
    return RecipeError(source, line, f"{where}: {err.problem}" if where else err.problem)


def _read_yaml(path: Path) -> tuple[Any, _Lines]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RecipeError(path, None, f"cannot read config: {err.strerror}") from None
    except UnicodeDecodeError:
        raise RecipeError(path, None, "cannot read config: not UTF-8 text") from None
    try:
        data = yaml_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RecipeError(path, line, f"bad YAML: {getattr(err, 'problem', err)}") from None
    return ({} if data is None else data), _Lines(text)


def parse_override(text: str) -> tuple[tuple[str, ...], Any]:
    """``KEY=VALUE`` (``train.epochs=2``) as a key path and a value read as YAML."""
    key, sep, value = text.partition("=")
    path = tuple(key.strip().split("."))
    if not sep or not all(path):
        raise RecipeError("--set", None, f"expected KEY=VALUE (e.g. train.epochs=2), got {text!r}")
    try:
        parsed = yaml_load(value)
    except yaml.YAMLError as err:
        raise RecipeError("--set", None, f"{key.strip()}: bad YAML value {value!r}: "
                          f"{getattr(err, 'problem', err)}") from None
    return path, parsed


def _nested(path: tuple[str, ...], value: Any) -> dict:
    for name in reversed(path):
        value = {name: value}
    return value


def override(cfg: RecipeConfig, settings: Mapping[str, Any] | Iterable[str],
             source: str = "--set") -> RecipeConfig:
    """``cfg`` with each setting changed and checked as in a file.

    ``settings`` is ``{"train.epochs": 2, ...}`` or ``["train.epochs=2", ...]``
    (values read as YAML). A bad key or value raises :class:`RecipeError` naming
    ``source`` and the key.
    """
    if isinstance(settings, Mapping):
        items = [(tuple(k.split(".")), v) for k, v in settings.items()]
    else:
        items = [parse_override(s) for s in settings]
    for path, value in items:
        try:
            _check_override_path(path)
            cfg = _build(RecipeConfig, cfg, _nested(path, value), ())
        except _Invalid as err:
            raise _error(source, None, err) from None
    return cfg


def _check_override_path(path: tuple[str, ...]) -> None:
    """A dotted key stops at a setting: a mapping setting (``score.presets``) is given whole."""
    cls = RecipeConfig
    for i, name in enumerate(path):
        f = next((f for f in dataclasses.fields(cls) if f.name == name and f.metadata), None)
        if f is None or "section" not in f.metadata:
            if f is not None and i + 1 < len(path):
                raise _Invalid(path[:i + 1], f"is set as a whole ({'.'.join(path[:i + 1])}={{...}}), "
                                             f"not by one of its keys")
            return
        cls = f.metadata["section"]


def load_config(path: str | Path | None = None, overrides: Iterable[str] = ()) -> RecipeConfig:
    """The defaults with the YAML file ``path`` (default: ``conf/default.yaml``) and then
    the ``KEY=VALUE`` ``overrides`` laid over them, every value checked.

    Raises :class:`RecipeError` (``FILE:LINE: key.path: problem``) on an unreadable
    file, bad YAML, an unknown key or a bad value.
    """
    path = Path(path) if path is not None else DEFAULT_CONFIG
    data, lines = _read_yaml(path)
    if not isinstance(data, dict):
        raise RecipeError(path, 1, "config must be a mapping of sections")
    try:
        cfg = _build(RecipeConfig, RecipeConfig(path=str(path)), data, ())
    except _Invalid as err:
        raise _error(path, lines.line(err.key), err) from None
    return override(cfg, overrides)


#: flags the stages once had for settings -> the setting (given now as ``--set KEY=VALUE``)
RETIRED_FLAGS = {"--corpus": "prepare.corpus", "--label-set": "labels.set", "--source": "align.source",
                 "--asr": "align.asr", "--diarization": "align.diarization", "--max-gap": "align.max_gap",
                 "--min-overlap": "align.min_overlap", "--folds": "train.folds", "--device": "train.device",
                 "--seeds": "run.seeds", "--seed": "study.seeds", "--factors": "study.factors"}
_LIST_SETTINGS = ("train.folds", "run.seeds", "study.seeds", "study.factors")


class _RetiredFlag(argparse.Action):
    """An old setting flag: a usage error that names the ``--set`` that replaces it."""

    def __call__(self, parser, namespace, values, option_string=None):
        key = RETIRED_FLAGS[option_string]
        values = [str(v) for v in values] or ["VALUE"]
        value = f"[{', '.join(values)}]" if key in _LIST_SETTINGS else values[0]
        parser.error(f"{option_string} is gone: settings are set with --set, here --set '{key}={value}'")


def add_config_arguments(parser, config_help: str = "YAML config laid over the defaults "
                                                   "(default: %(default)s)",
                         default: Path | None = DEFAULT_CONFIG) -> None:
    """``--config FILE`` and repeated ``--set KEY=VALUE`` (every stage that reads a config), and
    the old setting flags, which only say what replaces them."""
    parser.add_argument("--config", type=Path, default=default, help=config_help)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change one setting, value read as YAML (e.g. --set train.epochs=2 "
                             "--set model.fusion.dim=64 --set 'train.folds=[1, 2]'); repeatable, applied "
                             "after --config; every setting is in conf/default.yaml")
    for flag in RETIRED_FLAGS:
        parser.add_argument(flag, nargs="*", action=_RetiredFlag, help=argparse.SUPPRESS)


def as_dict(cfg: Any) -> Any:
    """The configuration as plain YAML-able data (sections as mappings)."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: as_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.metadata}
    if isinstance(cfg, dict):
        return {k: as_dict(v) for k, v in cfg.items()}
    if isinstance(cfg, list):
        return [as_dict(v) for v in cfg]
    return cfg


def data_dir(cfg: RecipeConfig, args) -> Path:
    """The prepare output a stage reads: ``--data``, else ``prepare.out`` of the config."""
    data = getattr(args, "data", None) or cfg.prepare.out
    if not data:
        raise RecipeError(cfg.path, None, "no data directory: give --data or set prepare.out")
    return Path(data)
