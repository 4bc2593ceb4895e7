"""Examples, batches and samplers for training and prediction.

An example is one utterance (or one aligned turn): its text, normalised as
``inputs.text`` says, and a span of a recording read as ``inputs.audio`` says
(16 kHz mono, float32): training utterances and turns alike, so that a model
right on an utterance is right on the same speech cut as a turn. An example
longer than the audio limit is classified over sliding windows (:func:`windows`). Batches are padded on both sides: the
tokenizer pads the text and returns the attention mask; waveforms are
zero-padded and their true lengths kept, from which the model derives the
frame masks. :class:`BucketBatchSampler` groups utterances of similar duration
(less padding) and shards the batches over data-parallel ranks.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import numpy as np
import soundfile as sf
import torch

from .normalise import join_words, normalise

if TYPE_CHECKING:
    from ..config import InputsConfig

SR = 16000


@dataclass
class Example:
    """One input: its text and the span ``start``..``end`` (seconds) of the file ``wav``."""

    id: str
    text: str
    wav: str | None = None          # the file read
    start: float = 0.0              # in that file's time
    end: float | None = None        # None: to the end of the file
    channel: str = "mix"            # how several channels become one: mix | loudest | first
    label: int = -1                 # class index, -1 = no label
    duration: float = 0.0


def dialog_wav_path(sentence_wav: str, dialog: str) -> str:
    """``.../SessionN/sentences/wav/<dialog>/<utt>.wav`` -> ``.../SessionN/dialog/wav/<dialog>.wav``."""
    p = Path(sentence_wav)
    session_dir = p.parents[3]
    return str(session_dir / "dialog" / "wav" / f"{dialog}.wav")


#: ``inputs.audio`` -> how a span of the dialog recording becomes one channel
_CHANNEL = {"channel": "loudest", "mix": "mix", "first": "first", "sentence": "loudest"}


def span_example(id: str, text: str, record: dict, start: float, end: float, audio: str,
                 label: int = -1) -> Example:
    """The example of ``start``..``end`` (dialog time) of ``record``'s dialog recording, read
    as ``inputs.audio`` says (``sentence``: as ``channel``, the only choice a system has)."""
    if not record.get("wav"):
        raise ValueError(f"{id}: no recording found for dialog {record.get('dialog')}")
    return Example(id=id, text=text, wav=dialog_wav_path(record["wav"], record["dialog"]), start=start,
                   end=end, channel=_CHANNEL[audio], label=label, duration=end - start)


def utterance_examples(records: Sequence[dict], labels: Sequence[str], inputs: InputsConfig | None = None
                       ) -> list[Example]:
    """Examples from ``utterances.jsonl`` rows (label index or -1): the transcript normalised as
    ``inputs.text`` says, the audio from ``inputs.audio`` (default :class:`InputsConfig`)."""
    from ..config import InputsConfig

    inputs = inputs or InputsConfig()
    index = {lab: i for i, lab in enumerate(labels)}
    out = []
    for r in records:
        text = normalise(r.get("text") or "", inputs.text)
        label = index.get(r.get("emotion"), -1)
        start, end = float(r["start"]), float(r["end"])
        if inputs.audio == "sentence" and r.get("wav"):
            out.append(Example(id=r["id"], text=text, wav=r["wav"], start=0.0, end=end - start,
                               channel="mix", label=label, duration=end - start))
        else:
            out.append(span_example(r["id"], text, r, start, end, inputs.audio, label))
    return out


def turn_examples(turns: Sequence[dict], utterances: dict[str, dict], inputs: InputsConfig | None = None
                  ) -> list[Example]:
    """Examples for hypothesis turns (SegLST rows of ``hyp_turns.json``): what a system has,
    the dialog recording over the turn's span (``inputs.audio``) and the turn's own words
    (``inputs.text``), never a reference file or transcript."""
    from ..config import InputsConfig

    inputs = inputs or InputsConfig()
    any_of_dialog: dict[str, dict] = {}
    for u in utterances.values():
        any_of_dialog.setdefault(u["dialog"], u)
    out = []
    for i, t in enumerate(turns):
        start, end = float(t["start_time"]), float(t["end_time"])
        record = any_of_dialog.get(t["session_id"])
        if record is None:
            raise ValueError(f"turn {i} of {t['session_id']}: no recording found for its dialog")
        text = normalise(join_words(t.get("words") or ""), inputs.text)
        out.append(span_example(f"turn{i}", text, record, start, end, inputs.audio))
    return out


def windows(examples: Sequence[Example], seconds: float | None, hop: float | None = None
            ) -> tuple[list[Example], np.ndarray]:
    """The sliding windows of ``seconds`` (every ``hop`` s, default half a window; the last
    one ends where the example ends) over every example longer than ``seconds``, and the
    index of the example each window belongs to. Shorter examples are their own window."""
    out: list[Example] = []
    owner: list[int] = []
    for k, ex in enumerate(examples):
        length = ex.duration if ex.end is None else ex.end - ex.start
        if not seconds or length <= seconds + 1e-9:
            out.append(ex)
            owner.append(k)
            continue
        step = hop or seconds / 2
        n = int(math.ceil((length - seconds) / step - 1e-9))
        offsets = [min(j * step, length - seconds) for j in range(n + 1)]
        for j, off in enumerate(offsets):
            out.append(replace(ex, id=f"{ex.id}@{j}", start=ex.start + off, end=ex.start + off + seconds,
                               duration=seconds))
            owner.append(k)
    return out, np.asarray(owner, dtype=np.int64)


def read_audio(ex: Example, max_seconds: float | None) -> np.ndarray:
    """The example's span as one normalised channel, cut to ``max_seconds`` (at least 400 samples)."""
    info = sf.info(ex.wav)
    sr = info.samplerate
    if sr != SR:
        raise ValueError(f"{ex.wav}: sample rate {sr}, expected {SR}")
    a = int(round(ex.start * sr))
    b = info.frames if ex.end is None else int(round(ex.end * sr))
    if max_seconds:
        b = min(b, a + int(max_seconds * SR))
    audio, _ = sf.read(ex.wav, start=a, stop=max(b, a + 1), dtype="float32", always_2d=True)
    if ex.channel == "first" or audio.shape[1] == 1:
        audio = audio[:, 0]
    elif ex.channel == "loudest":
        audio = audio[:, int(np.argmax(np.square(audio, dtype=np.float64).sum(axis=0)))]
    else:
        audio = audio.mean(axis=1)
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
    """Pads text (tokenizer: ids + attention mask), audio (zeros + lengths) and cached encoder
    states (``text_states`` / ``audio_states``, as a :class:`~recipes.iemocap.lib.features.CachedDataset`
    gives them: zeros along the time axis + a mask), whichever the items hold."""

    def __init__(self, tokenizer, max_tokens: int):
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        out = {"labels": torch.tensor([it["label"] for it in items], dtype=torch.long),
               "index": torch.tensor([it["index"] for it in items], dtype=torch.long)}
        if "text" in items[0]:
            enc = self.tokenizer([it["text"] for it in items], padding=True, truncation=True,
                                 max_length=self.max_tokens, return_tensors="pt")
            out.update(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
        if "audio" in items[0]:
            lengths = torch.tensor([len(it["audio"]) for it in items], dtype=torch.long)
            audio = torch.zeros(len(items), int(lengths.max()))
            for k, it in enumerate(items):
                audio[k, : len(it["audio"])] = torch.from_numpy(it["audio"])
            out.update(audio=audio, audio_lengths=lengths)
        for stream in ("text", "audio"):
            if f"{stream}_states" in items[0]:
                out[f"{stream}_states"], out[f"{stream}_mask"] = pad_states([it[f"{stream}_states"] for it in items])
        return out


def pad_states(arrays: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Arrays ``(..., T_i, D)`` zero-padded to ``(B, ..., max T, D)``, and the ``(B, max T)`` mask."""
    frames = [a.shape[-2] for a in arrays]
    first = arrays[0]
    states = torch.zeros(len(arrays), *first.shape[:-2], max(frames), first.shape[-1],
                         dtype=torch.from_numpy(first[:0]).dtype)
    for k, a in enumerate(arrays):
        states[k, ..., : a.shape[-2], :] = torch.from_numpy(np.ascontiguousarray(a))
    mask = torch.arange(max(frames))[None, :] < torch.tensor(frames)[:, None]
    return states, mask


class BucketBatchSampler(torch.utils.data.Sampler):
    """Length-bucketed batches, sharded over ``num_replicas`` ranks.

    With ``shuffle``: each epoch (``set_epoch``) the indices are shuffled with
    ``seed + epoch``, cut into buckets of ``bucket_batches`` batches, sorted by
    duration inside each bucket, batched, and the batches shuffled. Without:
    batches of consecutive indices sorted by duration. A batch holds at most
    ``batch_size`` utterances and, with ``max_batch_seconds``, at most that many
    padded seconds (utterances x the longest of them; an utterance longer than
    that is a batch of its own), so long turns do not make memory spike; the
    number of batches then varies by epoch (:meth:`epoch_lengths`). Every rank
    gets the same number of batches (the list is padded by repeating batches),
    the role ``DistributedSampler`` plays for plain samplers.
    """

    def __init__(self, durations: Sequence[float], batch_size: int, shuffle: bool = True,
                 seed: int = 0, bucket_batches: int = 50, num_replicas: int = 1, rank: int = 0,
                 max_batch_seconds: float | None = None):
        self.durations = list(durations)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.bucket_batches = max(1, int(bucket_batches))
        self.num_replicas = num_replicas
        self.rank = rank
        self.max_batch_seconds = max_batch_seconds
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _cut(self, order: list[int]) -> list[list[int]]:
        """Indices sorted by duration cut into batches (``batch_size``, ``max_batch_seconds``)."""
        if self.max_batch_seconds is None:
            return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches: list[list[int]] = []
        current: list[int] = []
        longest = 0.0
        for i in order:
            longer = max(longest, self.durations[i])
            if current and (len(current) >= self.batch_size or longer * (len(current) + 1) > self.max_batch_seconds):
                batches.append(current)
                current, longer = [], self.durations[i]
            current.append(i)
            longest = longer
        if current:
            batches.append(current)
        return batches

    def _batches(self, epoch: int | None = None) -> list[list[int]]:
        n = len(self.durations)
        order = list(range(n))
        if not self.shuffle:
            order.sort(key=lambda i: self.durations[i])
            return self._cut(order)
        rng = random.Random(self.seed * 1_000_003 + (self.epoch if epoch is None else epoch))
        rng.shuffle(order)
        size = self.batch_size * self.bucket_batches
        batches = []
        for b in range(0, n, size):
            batches.extend(self._cut(sorted(order[b:b + size], key=lambda i: self.durations[i])))
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[list[int]]:
        batches = self._batches()
        if self.num_replicas > 1:
            total = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
            batches = batches + batches[: total - len(batches)]
            batches = batches[self.rank::self.num_replicas]
        return iter(batches)

    def _length(self, epoch: int | None = None) -> int:
        if self.max_batch_seconds is not None:
            n = len(self._batches(epoch))
        elif not self.shuffle:
            n = math.ceil(len(self.durations) / self.batch_size)
        else:
            n = sum(math.ceil(min(self.batch_size * self.bucket_batches, len(self.durations) - b) / self.batch_size)
                    for b in range(0, len(self.durations), self.batch_size * self.bucket_batches))
        return math.ceil(n / self.num_replicas)

    def __len__(self) -> int:
        return self._length()

    def epoch_lengths(self, epochs: int) -> list[int]:
        """This rank's number of batches in each of epochs 0 .. ``epochs`` - 1."""
        return [self._length(e) for e in range(epochs)]


def make_loader(dataset, collator: Collator, batch_size: int, shuffle: bool, seed: int = 0,
                bucket_batches: int = 50, num_workers: int = 0, num_replicas: int = 1, rank: int = 0,
                pin_memory: bool = False, max_batch_seconds: float | None = None,
                max_seconds: float | None = None) -> torch.utils.data.DataLoader:
    """Batches of ``dataset`` (its ``examples`` give the durations, cut at ``max_seconds``)."""
    durations = [min(ex.duration, max_seconds) if max_seconds else ex.duration for ex in dataset.examples]
    sampler = BucketBatchSampler(durations, batch_size, shuffle=shuffle, seed=seed,
                                 bucket_batches=bucket_batches, num_replicas=num_replicas, rank=rank,
                                 max_batch_seconds=max_batch_seconds)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collator,
                                       num_workers=num_workers, pin_memory=pin_memory,
                                       persistent_workers=False)
