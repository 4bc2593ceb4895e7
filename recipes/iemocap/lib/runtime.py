"""Where the model runs: device, autocast precision and the ranks of a ``torchrun`` job.

Every torch stage starts with :func:`setup_runtime`; under ``torchrun`` (the
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK`` environment variables) it joins the
process group, and :class:`Runtime` gathers values from every rank and waits
for them. :func:`predict` runs a model over a loader on every rank and returns
the outputs of all of them.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .io_utils import RecipeError

if TYPE_CHECKING:
    from ..config import TrainConfig


@dataclass
class Runtime:
    """This process's device, rank and autocast dtype."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    dtype: torch.dtype | None = None    # autocast dtype, None = fp32

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def gather(self, obj: Any) -> list[Any]:
        """``obj`` of every rank, in rank order (``[obj]`` in a single process)."""
        if not self.distributed:
            return [obj]
        out: list[Any] = [None] * self.world_size
        torch.distributed.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        """Wait until every rank is here (nothing in a single process)."""
        if self.distributed:
            torch.distributed.barrier()

    def alone(self) -> Runtime:
        """This process's device and precision without the other ranks (no collectives)."""
        return Runtime(self.device, dtype=self.dtype)


def setup_runtime(train: TrainConfig) -> Runtime:
    """Device, autocast dtype and (under ``torchrun``) the process group, from ``train.device``
    and ``train.precision``."""
    device = train.device
    precision = train.precision
    if train.deterministic:
        deterministic()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise RecipeError(None, None, "train.device is cuda but no GPU is available")
        dev = torch.device("cuda", local_rank if world > 1 else (dev.index or 0))
        torch.cuda.set_device(dev)
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
    dtype = None
    if precision == "auto":
        if dev.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    elif precision == "bf16":
        dtype = torch.bfloat16
    elif precision == "fp16":
        dtype = torch.float16
    return Runtime(dev, rank, world, local_rank, dtype)


def deterministic() -> None:
    """Deterministic algorithms (``train.deterministic``): cuBLAS's fixed workspace (set before
    CUDA starts), cuDNN without benchmarking, and an error from any operation torch has no
    deterministic version of, rather than a run that cannot be repeated."""
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def finish_distributed() -> None:
    """Leave the process group, if this process joined one."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def to_device(batch: dict, device: torch.device) -> dict:
    """Every tensor of a collated batch on ``device``."""
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


#: what a collated batch gives the model's forward pass (raw inputs and cached states)
MODEL_INPUTS = ("input_ids", "attention_mask", "audio", "audio_lengths", "text_states", "text_mask",
                "audio_states", "audio_mask")


def model_inputs(batch: dict) -> dict:
    """The keyword arguments of the model's forward pass in a collated batch."""
    return {k: batch[k] for k in MODEL_INPUTS if k in batch}


@torch.no_grad()
def predict(model, loader, rt: Runtime, progress: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, logits)`` over the loader (gathered from every rank, deduplicated)."""
    from tqdm.auto import tqdm

    model.eval()
    idx, logits = [], []
    for batch in tqdm(loader, desc=progress, leave=False, disable=progress is None or not rt.is_main,
                      dynamic_ncols=True):
        batch = to_device(batch, rt.device)
        with rt.autocast():
            out = model(**model_inputs(batch))
        idx.append(batch["index"].cpu())
        logits.append(out.float().cpu())
    idx_a = torch.cat(idx).numpy() if idx else np.zeros(0, dtype=np.int64)
    log_a = torch.cat(logits).numpy() if logits else np.zeros((0, 0), dtype=np.float32)
    if rt.distributed:
        parts = rt.gather((idx_a, log_a))
        idx_a = np.concatenate([p[0] for p in parts])
        filled = [p[1] for p in parts if len(p[1])]   # none: an empty set (no validation split)
        log_a = np.concatenate(filled) if filled else np.zeros((0, 0), dtype=np.float32)
    # the sampler repeats batches so that every rank has as many: keep each index once
    _, first = np.unique(idx_a, return_index=True)
    order = first[np.argsort(idx_a[first])]
    return idx_a[order], log_a[order]


def classify(model, examples, collate, rt: Runtime, *, seconds: float | None, hop: float | None = None,
             batch_size: int = 16, num_workers: int = 0, progress: str | None = None) -> np.ndarray:
    """Logits ``(len(examples), C)`` in the examples' order: an example longer than ``seconds``
    is classified over its sliding windows (:func:`~recipes.iemocap.lib.data.windows`) and gets
    the mean of their logits."""
    from .data import SERDataset, make_loader, windows

    if not examples:
        return np.zeros((0, 0), dtype=np.float32)
    parts, owner = windows(examples, seconds, hop)
    loader = make_loader(SERDataset(parts, seconds), collate, batch_size, shuffle=False,
                         num_workers=num_workers, pin_memory=rt.device.type == "cuda")
    idx, logits = predict(model, loader, rt, progress=progress)   # sorted by index, each once
    return window_means(idx, logits, owner, len(examples))


def window_means(idx: np.ndarray, logits: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    """``(n, C)``: the mean logits of each example's windows (``predict``'s ``idx`` and
    ``logits`` over the windows, ``owner`` the example of each window)."""
    if len(idx) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.zeros((n, logits.shape[1]), dtype=np.float64)
    np.add.at(out, owner[idx], logits)
    return (out / np.maximum(np.bincount(owner[idx], minlength=n), 1)[:, None]).astype(np.float32)
