"""Examples, batches and samplers for training and prediction.

An example is one utterance (or one aligned turn): its transcript and its
waveform (16 kHz mono, float32). Batches are padded on both sides: the
tokenizer pads the text and returns the attention mask; waveforms are
zero-padded and their true lengths kept, from which the model derives the
frame masks. :class:`BucketBatchSampler` groups utterances of similar duration
(less padding) and shards the batches over data-parallel ranks.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import soundfile as sf
import torch

SR = 16000


@dataclass
class Example:
    id: str
    text: str
    wav: str | None = None          # a file holding exactly this example's audio
    dialog_wav: str | None = None   # or a dialog recording to cut start..end from
    start: float = 0.0
    end: float = 0.0
    label: int = -1                 # class index, -1 = no label
    duration: float = 0.0


def dialog_wav_path(sentence_wav: str, dialog: str) -> str:
    """``.../SessionN/sentences/wav/<dialog>/<utt>.wav`` -> ``.../SessionN/dialog/wav/<dialog>.wav``."""
    p = Path(sentence_wav)
    session_dir = p.parents[3]
    return str(session_dir / "dialog" / "wav" / f"{dialog}.wav")


def utterance_examples(records: Sequence[dict], labels: Sequence[str]) -> list[Example]:
    """Examples from ``utterances.jsonl`` rows (label index or -1)."""
    index = {lab: i for i, lab in enumerate(labels)}
    return [Example(id=r["id"], text=r.get("text") or "", wav=r.get("wav"),
                    start=float(r["start"]), end=float(r["end"]),
                    label=index.get(r.get("emotion"), -1),
                    duration=float(r["end"]) - float(r["start"])) for r in records]


def turn_examples(turns: Sequence[dict], utterances: dict[str, dict], tol: float = 0.02) -> list[Example]:
    """Examples for hypothesis turns (SegLST rows of ``hyp_turns.json``).

    A turn that coincides with an utterance (oracle alignment) uses its
    sentence wav and transcript; any other turn is cut from the dialog
    recording and its text is its words.
    """
    out = []
    for i, t in enumerate(turns):
        start, end = float(t["start_time"]), float(t["end_time"])
        u = utterances.get(t.get("utterance_id") or "")
        text = t.get("words") or ""
        if isinstance(text, list):
            text = " ".join(w if isinstance(w, str) else str(w[0]) for w in text)
        if u is not None and abs(u["start"] - start) <= tol and abs(u["end"] - end) <= tol and u.get("wav"):
            out.append(Example(id=f"turn{i}", text=u.get("text") or text, wav=u["wav"],
                               start=start, end=end, duration=end - start))
            continue
        any_utt = u or next((v for v in utterances.values() if v["dialog"] == t["session_id"]), None)
        if any_utt is None or not any_utt.get("wav"):
            raise ValueError(f"turn {i} of {t['session_id']}: no recording found for its dialog")
        out.append(Example(id=f"turn{i}", text=text,
                           dialog_wav=dialog_wav_path(any_utt["wav"], any_utt["dialog"]),
                           start=start, end=end, duration=end - start))
    return out


def read_audio(ex: Example, max_seconds: float | None) -> np.ndarray:
    if ex.wav is not None:
        audio, sr = sf.read(ex.wav, dtype="float32", always_2d=True)
    else:
        info = sf.info(ex.dialog_wav)
        sr = info.samplerate
        audio, sr = sf.read(ex.dialog_wav, start=int(round(ex.start * sr)),
                            stop=max(int(round(ex.end * sr)), int(round(ex.start * sr)) + 1),
                            dtype="float32", always_2d=True)
    if sr != SR:
        raise ValueError(f"{ex.wav or ex.dialog_wav}: sample rate {sr}, expected {SR}")
    audio = audio.mean(axis=1)
    if max_seconds:
        audio = audio[: int(max_seconds * SR)]
    if len(audio) < 400:   # the feature encoder needs at least one frame
        audio = np.pad(audio, (0, 400 - len(audio)))
    # wav2vec2's feature extractor normalisation: zero mean, unit variance
    return (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)


class SERDataset(torch.utils.data.Dataset):
    def __init__(self, examples: Sequence[Example], max_seconds: float | None = None):
        self.examples = list(examples)
        self.max_seconds = max_seconds

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ex = self.examples[i]
        return {"index": i, "text": ex.text, "audio": read_audio(ex, self.max_seconds), "label": ex.label}


class Collator:
    """Pads text (tokenizer: ids + attention mask) and audio (zeros + lengths)."""

    def __init__(self, tokenizer, max_tokens: int):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        enc = self.tokenizer([it["text"] for it in items], padding=True, truncation=True,
                             max_length=self.max_tokens, return_tensors="pt")
        lengths = torch.tensor([len(it["audio"]) for it in items], dtype=torch.long)
        audio = torch.zeros(len(items), int(lengths.max()))
        for k, it in enumerate(items):
            audio[k, : len(it["audio"])] = torch.from_numpy(it["audio"])
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"],
                "audio": audio, "audio_lengths": lengths,
                "labels": torch.tensor([it["label"] for it in items], dtype=torch.long),
                "index": torch.tensor([it["index"] for it in items], dtype=torch.long)}


class BucketBatchSampler(torch.utils.data.Sampler):
    """Length-bucketed batches, sharded over ``num_replicas`` ranks.

    With ``shuffle``: each epoch (``set_epoch``) the indices are shuffled with
    ``seed + epoch``, cut into buckets of ``bucket_batches`` batches, sorted by
    duration inside each bucket, batched, and the batches shuffled. Without:
    batches of consecutive indices sorted by duration. Every rank gets the same
    number of batches (the list is padded by repeating batches), the role
    ``DistributedSampler`` plays for plain samplers.
    """

    def __init__(self, durations: Sequence[float], batch_size: int, shuffle: bool = True,
                 seed: int = 0, bucket_batches: int = 50, num_replicas: int = 1, rank: int = 0):
        self.durations = list(durations)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.bucket_batches = max(1, int(bucket_batches))
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _batches(self) -> list[list[int]]:
        n = len(self.durations)
        order = list(range(n))
        if not self.shuffle:
            order.sort(key=lambda i: self.durations[i])
            return [order[i:i + self.batch_size] for i in range(0, n, self.batch_size)]
        rng = random.Random(self.seed * 1_000_003 + self.epoch)
        rng.shuffle(order)
        size = self.batch_size * self.bucket_batches
        batches = []
        for b in range(0, n, size):
            bucket = sorted(order[b:b + size], key=lambda i: self.durations[i])
            batches.extend(bucket[i:i + self.batch_size] for i in range(0, len(bucket), self.batch_size))
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        if self.num_replicas > 1:
            total = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
            batches = batches + batches[: total - len(batches)]
            batches = batches[self.rank::self.num_replicas]
        return iter(batches)

    def __len__(self) -> int:
        n = math.ceil(len(self.durations) / self.batch_size) if not self.shuffle else \
            sum(math.ceil(min(self.batch_size * self.bucket_batches, len(self.durations) - b) / self.batch_size)
                for b in range(0, len(self.durations), self.batch_size * self.bucket_batches))
        return math.ceil(n / self.num_replicas)


def make_loader(dataset: SERDataset, collator: Collator, batch_size: int, shuffle: bool, seed: int = 0,
                bucket_batches: int = 50, num_workers: int = 0, num_replicas: int = 1, rank: int = 0,
                pin_memory: bool = False) -> torch.utils.data.DataLoader:
    sampler = BucketBatchSampler([ex.duration for ex in dataset.examples], batch_size, shuffle=shuffle,
                                 seed=seed, bucket_batches=bucket_batches, num_replicas=num_replicas,
                                 rank=rank)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collator,
                                       num_workers=num_workers, pin_memory=pin_memory,
                                       persistent_workers=False)
