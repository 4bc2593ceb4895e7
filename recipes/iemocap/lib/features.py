"""Frozen encoders' features, computed once and read by every epoch and fold (``train.cache_features``).

With ``model.text.freeze`` / ``model.audio.freeze`` an encoder is a fixed function of its
input: its states (the last hidden state, or every hidden state for ``layers: weighted``),
rounded to half precision as the model rounds them whether cached or not
(:data:`~recipes.iemocap.lib.model.FEATURE_DTYPE`), are stored under the experiment directory::

    OUT/features/<stream>-<model_type>-<encoder key>/<input key[:2]>/<input key>.npy

The **encoder key** hashes everything that decides the states other than the input: the
encoder's weights and config, ``layers``, the feature dtype and :data:`CACHE_VERSION` (the
way they are computed). The **input key** hashes the input itself as the model sees it: the
token ids (so the text, the tokenizer and ``max_tokens``) or the normalised waveform (so the
recording, the cut, ``max_seconds`` and the normalisation). A changed setting or input is a
new key: the cache never serves stale features, and it can be shared by folds and seeds.
Each file is written to a temporary name and renamed; rank 0 fills the cache, the other
ranks wait for it.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import torch

from .data import Example, read_audio

if TYPE_CHECKING:
    from .model import SERAlignModel
    from .runtime import Runtime

#: bump when the way features are computed changes (old directories are then never read)
CACHE_VERSION = 1


def _digest() -> Any:
    return hashlib.blake2b(digest_size=20)


def encoder_key(model: SERAlignModel, stream: str) -> str:
    """The hash of what decides a frozen encoder's states besides its input."""
    from .model import FEATURE_DTYPE

    encoder = model.encoder(stream)
    h = _digest()
    h.update(json.dumps({"version": CACHE_VERSION, "stream": stream, "layers": model.layers[stream],
                         "dtype": str(FEATURE_DTYPE), "config": encoder.config.to_dict()},
                        sort_keys=True, default=str).encode())
    for name, tensor in sorted(encoder.state_dict().items()):
        h.update(name.encode())
        t = tensor.detach().cpu().contiguous().reshape(-1)
        h.update(str(t.dtype).encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


class FeatureCache:
    """The cached streams of one model (its frozen encoders) under ``root`` (``OUT/features``)."""

    def __init__(self, root: str | os.PathLike, model: SERAlignModel, tokenizer, max_tokens: int,
                 max_seconds: float | None):
        self.streams = tuple(s for s in model.streams if s in model.frozen)
        if not self.streams:
            raise ValueError("train.cache_features needs a frozen encoder (model.text.freeze or model.audio.freeze)")
        self.dirs = {s: Path(root) / f"{s}-{model.encoder(s).config.model_type}-{encoder_key(model, s)[:20]}"
                     for s in self.streams}
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.max_seconds = max_seconds

    def input_key(self, stream: str, ex: Example) -> str:
        h = _digest()
        if stream == "text":
            ids = self.tokenizer(ex.text, truncation=True, max_length=self.max_tokens)["input_ids"]
            h.update(np.asarray(ids, dtype=np.int64).tobytes())
        else:
            h.update(read_audio(ex, self.max_seconds).astype(np.float32).tobytes())
        return h.hexdigest()

    def path(self, stream: str, key: str) -> Path:
        return self.dirs[stream] / key[:2] / f"{key}.npy"

    def keys(self, examples: Sequence[Example]) -> list[dict[str, str]]:
        """Each example's input key per cached stream."""
        return [{s: self.input_key(s, ex) for s in self.streams} for ex in examples]

    def fill(self, model: SERAlignModel, examples: Sequence[Example], keys: Sequence[dict[str, str]],
             rt: Runtime, batch_size: int) -> int:
        """Compute and store the features the cache lacks (rank 0; the others wait); how many
        (example, stream) entries were computed."""
        from .data import Collator, SERDataset, make_loader
        from .runtime import to_device

        computed = 0
        if rt.is_main:
            missing = [i for i, k in enumerate(keys) if any(not self.path(s, k[s]).is_file() for s in self.streams)]
            for s in self.streams:
                self.dirs[s].mkdir(parents=True, exist_ok=True)
                (self.dirs[s] / "encoder.json").write_text(json.dumps(
                    {"stream": s, "model_type": model.encoder(s).config.model_type,
                     "name_or_path": getattr(model.encoder(s).config, "_name_or_path", None),
                     "layers": model.layers[s], "version": CACHE_VERSION}, indent=1) + "\n")
            if missing:
                loader = make_loader(SERDataset([examples[i] for i in missing], self.max_seconds),
                                     Collator(self.tokenizer, self.max_tokens), batch_size, shuffle=False)
                was_training = model.training
                model.eval()
                # a data loader draws a seed from torch's generator: the fill must not move it,
                # or training with the cache would draw other dropout masks than without
                devices = [rt.device] if rt.device.type == "cuda" else []
                with torch.no_grad(), torch.random.fork_rng(devices=devices):
                    for batch in loader:
                        batch = to_device(batch, rt.device)
                        rows = [missing[int(i)] for i in batch["index"]]
                        with rt.autocast():
                            for s in self.streams:
                                if s == "text":
                                    states, mask = model.encode_text(batch["input_ids"], batch["attention_mask"])
                                else:
                                    states, mask = model.encode_audio(batch["audio"], batch["audio_lengths"])
                                for row, st, m in zip(rows, states, mask):
                                    computed += self._store(s, keys[row][s], st[..., : int(m.sum()), :])
                model.train(was_training)
        rt.barrier()
        return computed

    def _store(self, stream: str, key: str, states: torch.Tensor) -> int:
        from .io_utils import atomic_write
        from .model import FEATURE_DTYPE

        path = self.path(stream, key)
        if path.is_file():   # two examples with the same input
            return 0
        array = states.to(FEATURE_DTYPE).cpu().numpy()
        if not np.isfinite(array).all():
            raise ValueError(f"the frozen {stream} encoder gave values that half precision cannot hold")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda fh: np.save(fh, array))
        return 1

    def load(self, stream: str, key: str) -> np.ndarray:
        return np.load(self.path(stream, key))


class CachedDataset(torch.utils.data.Dataset):
    """Examples whose frozen streams come from a :class:`FeatureCache` (``text_states`` /
    ``audio_states``); a stream that trains is read raw, as :class:`~recipes.iemocap.lib.data.SERDataset` does."""

    def __init__(self, examples: Sequence[Example], keys: Sequence[dict[str, str]], cache: FeatureCache):
        self.examples = list(examples)
        self.keys = list(keys)
        self.cache = cache

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ex = self.examples[i]
        item: dict[str, Any] = {"index": i, "label": ex.label}
        for s in self.cache.streams:
            item[f"{s}_states"] = self.cache.load(s, self.keys[i][s])
        if "text" not in self.cache.streams:
            item["text"] = ex.text
        if "audio" not in self.cache.streams:
            item["audio"] = read_audio(ex, self.cache.max_seconds)
        return item


def fold_datasets(model: SERAlignModel, splits: Sequence[Sequence[Example]], cfg, model_cfg, tokenizer,
                  rt: Runtime, features: Path) -> list[torch.utils.data.Dataset]:
    """One dataset per list of examples, and ``model`` on ``rt.device``: raw inputs
    (:class:`~recipes.iemocap.lib.data.SERDataset`), or with ``train.cache_features`` the frozen
    streams from the cache under ``features`` (filled first where it lacks an example)."""
    from .data import SERDataset
    from .io_utils import RecipeError

    max_seconds = model_cfg.audio.max_seconds
    if not cfg.train.cache_features:
        model.to(rt.device)
        return [SERDataset(examples, max_seconds) for examples in splits]
    try:
        cache = FeatureCache(features, model, tokenizer, model_cfg.text.max_tokens, max_seconds)
    except ValueError as err:
        raise RecipeError(cfg.path, None, str(err)) from None
    model.to(rt.device)   # after the weights were hashed on the CPU
    everything = [ex for examples in splits for ex in examples]
    keys = cache.keys(everything)
    cache.fill(model, everything, keys, rt, cfg.train.eval_batch_size)
    out, start = [], 0
    for examples in splits:
        out.append(CachedDataset(examples, keys[start:start + len(examples)], cache))
        start += len(examples)
    return out
