"""``train``: fine-tune the multimodal model on each leave-one-session-out fold.

For fold k (test session Ses0k, never seen here) the model trains on the
fold's ``train`` utterances and is selected on its ``valid`` utterances (drawn
from the four training sessions by ``prepare``). Per fold, in ``OUT/fold{k}/``:

* ``last.pt``: the full training state after every epoch (model, optimiser,
  scheduler, grad scaler, every rank's RNG states, history, early-stopping
  state), written atomically; ``--resume`` continues from it and ends with
  the same weights as an uninterrupted run with the same seed;
* ``best.pt``: the weights of the best validation epoch (what ``evaluate`` uses);
* ``metrics.jsonl``: one line per epoch (train loss, validation loss and
  metrics, learning rates, time);
* ``train_summary.json`` once the fold is done; then only the checkpoints
  ``train.keep`` and ``evaluate.checkpoint`` name stay, weights only, and
  ``--resume`` leaves the fold as it is.

Batches are bucketed by duration and capped by ``train.batch_size`` and
``train.max_batch_seconds``; with ``train.cache_features`` the frozen encoders'
states come from ``OUT/features/`` (:mod:`recipes.iemocap.lib.features`).

Optimisation: AdamW with one learning rate for the encoders and one for the
head (no weight decay on biases and norms), linear warm-up then linear decay,
gradient clipping, gradient accumulation, early stopping on a validation
metric. On GPU: bf16 (or fp16 with a grad scaler) autocast; under ``torchrun``
DistributedDataParallel with the batches sharded over ranks; only rank 0
writes.

Torch is imported by the functions that use it: ``train --help`` needs only
the options, and a machine without torch can read them.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..config import ModelConfig, RecipeConfig, TrainConfig
from ..lib.io_utils import RecipeError, atomic_write_json, atomic_write_text
from ..lib.metrics import METRICS_HIGHER_IS_BETTER
from .common import (add_run_arguments, ensure_models, load_data, load_turns, run_stage, selected_folds,
                     split_examples)

if TYPE_CHECKING:
    import torch

    from ..lib.data import Example
    from ..lib.runtime import Runtime


def make_optimizer(model, tcfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW: encoders at ``lr_encoder``, the head at ``lr_head``; no decay on biases/norms."""
    import torch

    encoder_ids = {id(p) for p in model.encoder_parameters()}
    groups: dict[tuple[bool, bool], list] = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        no_decay = p.ndim < 2 or "norm" in name.lower() or name.endswith(".bias")
        groups.setdefault((id(p) in encoder_ids, no_decay), []).append(p)
    params = []
    for (is_enc, no_decay), ps in sorted(groups.items()):
        params.append({"params": ps, "lr": tcfg.lr_encoder if is_enc else tcfg.lr_head,
                       "weight_decay": 0.0 if no_decay else tcfg.weight_decay,
                       "name": ("encoder" if is_enc else "head") + ("_no_decay" if no_decay else "")})
    return torch.optim.AdamW(params)


def make_scheduler(optimizer, total_steps: int, warmup_ratio: float):
    """Linear warm-up over ``warmup_ratio`` of the steps, then linear decay to zero."""
    import torch

    warmup = int(round(warmup_ratio * total_steps))

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def validation_metrics(model, loader, examples, num_classes: int, rt: Runtime,
                       quiet: bool = False, owner=None) -> dict[str, Any]:
    """Loss, WA, UA and F1 on the validation set (every value None without one). ``owner``:
    the loader holds sliding windows, ``owner[i]`` the example of window i (logits averaged)."""
    import torch
    import torch.nn.functional as F

    from ..lib.metrics import classification_metrics
    from ..lib.runtime import predict, window_means

    idx, logits = predict(model, loader, rt, progress=None if quiet else "valid")
    if owner is not None:
        logits = window_means(idx, logits, owner, len(examples))
        idx = np.arange(len(examples)) if len(idx) else idx
    y = np.array([examples[i].label for i in idx])
    if len(y) == 0:
        return {"loss": None, "WA": None, "UA": None, "macro_f1": None, "weighted_f1": None}
    loss = float(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y)).item())
    m = classification_metrics(y, logits.argmax(1), num_classes)
    return {"loss": loss, **{k: m[k] for k in ("WA", "UA", "macro_f1", "weighted_f1")}}


# --------------------------------------------------------------------------
# one fold, step by step: build, then per epoch train, validate, stop or go on, checkpoint

@dataclass
class TrainState:
    """How far a fold has got; saved in ``last.pt`` after every epoch, restored by ``--resume``."""

    epoch: int = 0                     # epochs completed
    history: list[dict] = field(default_factory=list)   # one record per epoch (metrics.jsonl)
    best: float | None = None          # best value of the early-stopping metric so far
    best_epoch: int | None = None
    bad_epochs: int = 0                # epochs since the best one
    done: bool = False                 # stopped early, or every epoch run


@dataclass
class FoldTraining:
    """What one fold's epochs work on, as :func:`build_fold` made it."""

    fold: int
    fold_dir: Path
    labels: list[str]
    tcfg: TrainConfig
    rt: Runtime
    model: Any        # the model itself: checkpoints, gradient clipping, validation
    net: Any          # what the training forward pass calls: the model, or its DDP wrapper
    optimizer: Any
    scheduler: Any
    scaler: Any       # fp16's loss scaler (does nothing in other precisions)
    train_loader: Any
    valid_loader: Any
    valid_examples: list[Example]
    valid_owner: Any = None    # the validation example of each window of valid_loader

    @property
    def last_path(self) -> Path:
        return self.fold_dir / "last.pt"

    @property
    def best_path(self) -> Path:
        return self.fold_dir / "best.pt"

    @property
    def summary_path(self) -> Path:
        return self.fold_dir / "train_summary.json"

    @property
    def epochs(self) -> int:
        return self.tcfg.epochs

    @property
    def metric(self) -> str:
        return self.tcfg.early_stopping.metric


def build_fold(fold: dict, records: list[dict], cfg: RecipeConfig, out: str | Path, *, rt: Runtime,
               model_cfg: ModelConfig, resume: bool, quiet: bool,
               turns: list[dict] | None = None,
               features: str | Path | None = None) -> tuple[FoldTraining, TrainState]:
    """Loaders, model, optimiser, scheduler and scaler of one fold, and where its training stands:
    ``last.pt``'s state with ``resume`` (when there is one), else a fresh start (old outputs removed).
    With ``train.cache_features`` the frozen streams are read from the feature cache in
    ``features`` (default ``OUT/features``), filled first where it lacks an utterance.

    The order is fixed: the seed, then everything that draws random numbers, then the resumed
    RNG states, so that a resumed run continues exactly where the interrupted one stopped.
    """
    import torch

    from ..lib.checkpoint import seed_everything
    from ..lib.data import Collator, make_loader, windows
    from ..lib.features import fold_datasets
    from ..lib.model import build_model, load_tokenizer

    tcfg = cfg.train
    labels = cfg.labels.names
    k = int(fold["fold"])
    seed = tcfg.seed + k
    seed_everything(seed + tcfg.rank_seed_stride * rt.rank)

    train_ex = split_examples(records, turns, fold, cfg, "train")     # train.on: utterances or turns
    valid_ex = split_examples(records, turns, fold, cfg, "valid")
    if not train_ex:
        raise RecipeError("folds.json", None, f"fold {k}: no training {tcfg.on}")
    tokenizer = load_tokenizer(model_cfg)
    model = build_model(model_cfg, num_classes=len(labels))
    # validation reads sliding windows, as evaluate does (owner: the example of each window)
    valid_windows, valid_owner = windows(valid_ex, model_cfg.audio.max_seconds, cfg.inputs.window_hop)
    train_set, valid_set = fold_datasets(model, [train_ex, valid_windows], cfg, model_cfg, tokenizer, rt,
                                         Path(features) if features is not None else Path(out) / "features")
    collate = Collator(tokenizer, max_tokens=model_cfg.text.max_tokens)
    workers = tcfg.num_workers
    pin = rt.device.type == "cuda"
    train_loader = make_loader(train_set, collate, tcfg.batch_size, shuffle=True, seed=seed,
                               bucket_batches=tcfg.bucket_batches, num_workers=workers,
                               num_replicas=rt.world_size, rank=rt.rank, pin_memory=pin,
                               max_batch_seconds=tcfg.max_batch_seconds, max_seconds=model_cfg.audio.max_seconds)
    valid_loader = make_loader(valid_set, collate, tcfg.eval_batch_size, shuffle=False, num_workers=workers,
                               num_replicas=rt.world_size, rank=rt.rank, pin_memory=pin,
                               max_batch_seconds=tcfg.max_batch_seconds, max_seconds=model_cfg.audio.max_seconds)
    optimizer = make_optimizer(model, tcfg)
    steps = sum(math.ceil(n / tcfg.grad_accum)   # see train_epoch
                for n in train_loader.batch_sampler.epoch_lengths(tcfg.epochs))
    scheduler = make_scheduler(optimizer, steps, tcfg.warmup_ratio)
    fp16 = rt.dtype == torch.float16
    scaler = torch.amp.GradScaler(rt.device.type, enabled=fp16)
    run = FoldTraining(k, Path(out) / f"fold{k}", labels, tcfg, rt, model, model, optimizer, scheduler,
                       scaler, train_loader, valid_loader, valid_ex, valid_owner)
    state = resume_state(run, quiet) if resume and run.last_path.is_file() else fresh_start(run)
    if rt.distributed:
        run.net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[rt.device.index] if rt.device.type == "cuda" else None,
            find_unused_parameters=tcfg.find_unused_parameters)
    return run, state


def resume_state(run: FoldTraining, quiet: bool) -> TrainState:
    """Load ``last.pt`` into the model, optimiser, scheduler, scaler and RNGs; its training state."""
    from ..lib.checkpoint import load_checkpoint, set_rng_state

    ck = load_checkpoint(run.last_path)
    run.model.load_state_dict(ck["model"])
    run.optimizer.load_state_dict(ck["optimizer"])
    run.scheduler.load_state_dict(ck["scheduler"])
    run.scaler.load_state_dict(ck["scaler"])
    state = TrainState(**ck["state"])
    rngs = ck["rng"]
    rt = run.rt
    set_rng_state(rngs[rt.rank] if len(rngs) == rt.world_size else rngs[0])
    if rt.is_main and not quiet:
        print(f"fold {run.fold}: resuming after epoch {state.epoch}", file=sys.stderr)
    return state


def fresh_start(run: FoldTraining) -> TrainState:
    """A new training state; the checkpoints and metrics of an earlier run of the fold are removed."""
    if run.rt.is_main:
        for stale in (run.last_path, run.best_path, run.fold_dir / "metrics.jsonl", run.summary_path):
            stale.unlink(missing_ok=True)
    return TrainState()


def train_epoch(run: FoldTraining, epoch: int, quiet: bool) -> float:
    """One pass over the training set (0-based ``epoch``); the mean training loss over every rank."""
    import contextlib

    import torch
    import torch.nn.functional as F
    from tqdm.auto import tqdm

    from ..lib.runtime import model_inputs, to_device

    rt, net, optimizer, scaler, accum = run.rt, run.net, run.optimizer, run.scaler, run.tcfg.grad_accum
    run.train_loader.batch_sampler.set_epoch(epoch)
    net.train()
    total_loss, n_items = 0.0, 0
    n_batches = len(run.train_loader)
    # Gradient accumulation: one optimiser step per group of `accum` batches. Groups do not
    # span epochs (the last one takes what is left), so an epoch has exactly the
    # ceil(n_batches / accum) steps the scheduler was built for and a checkpoint never holds
    # half a group. Each loss is divided by the size of its own group, so that every step,
    # the short last one included, follows the mean gradient of the batches it covers. Under
    # DDP the gradients are all-reduced once per group, on its last batch (no_sync before).
    in_full_groups = (n_batches // accum) * accum
    optimizer.zero_grad(set_to_none=True)
    bar = tqdm(run.train_loader, desc=f"epoch {epoch + 1}", leave=False, total=n_batches,
               disable=quiet or not rt.is_main, dynamic_ncols=True)
    for step, batch in enumerate(bar):
        batch = to_device(batch, rt.device)
        boundary = (step + 1) % accum == 0 or step + 1 == n_batches
        group = accum if step < in_full_groups else n_batches - in_full_groups
        sync = contextlib.nullcontext() if boundary or not rt.distributed else net.no_sync()
        with sync:
            with rt.autocast():
                logits = net(**model_inputs(batch))
            loss = F.cross_entropy(logits.float(), batch["labels"])
            scaler.scale(loss / group).backward()
        total_loss += float(loss.detach()) * len(batch["labels"])
        n_items += len(batch["labels"])
        if boundary:
            scaler.unscale_(optimizer)
            if run.tcfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(run.model.parameters(), run.tcfg.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            run.scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        bar.set_postfix(loss=f"{total_loss / max(1, n_items):.4f}")
    bar.close()
    sums = rt.gather((total_loss, n_items))
    return sum(s[0] for s in sums) / max(1, sum(s[1] for s in sums))


def after_epoch(state: TrainState, record: dict[str, Any], value: float | None, *, higher: bool,
                patience: int, epochs: int) -> tuple[TrainState, bool]:
    """The state once an epoch (``record``) is done, and whether that epoch is the best so far.

    ``value`` is the epoch's early-stopping metric; training stops after ``patience`` epochs
    without improvement, or after the last epoch.
    """
    epoch = record["epoch"]
    # without a validation set (value None) the last epoch is kept and nothing stops early
    improved = value is None or state.best is None or (value > state.best if higher else value < state.best)
    if improved:
        best, best_epoch, bad_epochs = value, epoch, 0
    else:
        best, best_epoch, bad_epochs = state.best, state.best_epoch, state.bad_epochs + 1
    done = (not improved and bad_epochs >= patience) or epoch >= epochs
    return TrainState(epoch, [*state.history, record], best, best_epoch, bad_epochs, done), improved


def save_epoch(run: FoldTraining, state: TrainState, improved: bool) -> None:
    """``last.pt`` (everything a resume needs: weights, optimiser, scheduler, scaler, state, every
    rank's RNG states), ``best.pt`` when the epoch improved, ``metrics.jsonl``; rank 0 writes."""
    from ..lib.checkpoint import atomic_torch_save, rng_state

    rt = run.rt
    rngs = rt.gather(rng_state())
    if rt.is_main:
        if improved:
            atomic_torch_save({"model": run.model.state_dict(), "epoch": state.epoch, "labels": run.labels,
                               "metric": run.metric, "value": state.best, "fold": run.fold}, run.best_path)
        atomic_torch_save({"model": run.model.state_dict(), "optimizer": run.optimizer.state_dict(),
                           "scheduler": run.scheduler.state_dict(), "scaler": run.scaler.state_dict(),
                           "state": asdict(state), "rng": rngs, "labels": run.labels}, run.last_path)
        atomic_write_text(run.fold_dir / "metrics.jsonl",
                          "".join(json.dumps(r) + "\n" for r in state.history))
    rt.barrier()


def train_fold(fold: dict, records: list[dict], cfg: RecipeConfig, out: str | Path, *,
               rt: Runtime, model_cfg: ModelConfig, resume: bool = False, quiet: bool = False,
               stop_after_epoch: int | None = None,
               on_epoch_end: Callable[[int], None] | None = None,
               turns: list[dict] | None = None,
               features: str | Path | None = None) -> dict[str, Any]:
    """Train one fold; returns its summary (best epoch and validation metrics).

    ``stop_after_epoch`` ends the run after that epoch's checkpoint, as a kill
    would (for tests); ``resume`` then carries on from ``last.pt``.
    """
    from tqdm.auto import tqdm

    done = Path(out) / f"fold{int(fold['fold'])}" / "train_summary.json"
    if resume and done.is_file():   # a finished fold: its checkpoints may hold weights only
        return json.loads(done.read_text(encoding="utf-8"))
    run, state = build_fold(fold, records, cfg, out, rt=rt, model_cfg=model_cfg, resume=resume, quiet=quiet,
                            turns=turns, features=features)
    early = run.tcfg.early_stopping
    epochs, metric = run.epochs, run.metric
    epoch_bar = tqdm(range(epochs), desc=f"fold {run.fold}", initial=state.epoch, total=epochs,
                     disable=quiet or not rt.is_main, dynamic_ncols=True)
    for epoch in range(state.epoch, epochs):
        if state.done:
            break
        t0 = time.time()
        train_loss = train_epoch(run, epoch, quiet)
        val = validation_metrics(run.model, run.valid_loader, run.valid_examples, len(run.labels), rt, quiet,
                                 owner=run.valid_owner)
        record = {"fold": run.fold, "epoch": epoch + 1, "train_loss": train_loss,
                  **{f"valid_{m}": v for m, v in val.items()},
                  "lr": {g["name"]: g["lr"] for g in run.optimizer.param_groups},
                  "seconds": round(time.time() - t0, 3)}
        state, improved = after_epoch(state, record, val.get(metric), higher=METRICS_HIGHER_IS_BETTER[metric],
                                      patience=early.patience, epochs=epochs)
        save_epoch(run, state, improved)
        value = val.get(metric)
        epoch_bar.update(1)
        epoch_bar.set_postfix({f"valid_{metric}": f"{value:.4f}" if value is not None else "-",
                               "best": state.best_epoch})
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and not state.done:
            epoch_bar.close()
            return {"fold": run.fold, "interrupted": True, "epoch": epoch + 1}
    epoch_bar.close()
    summary = {"fold": run.fold, "test_session": fold.get("test_session"), "epochs": state.epoch,
               "best_epoch": state.best_epoch, "metric": metric, "best_valid": state.best,
               "early_stopped": state.epoch < epochs}
    if rt.is_main:
        summary["checkpoints"] = keep_checkpoints(run, state, cfg.evaluate.checkpoint)
        atomic_write_json(run.summary_path, summary)
    rt.barrier()
    return summary


def keep_checkpoints(run: FoldTraining, state: TrainState, evaluated: str) -> dict[str, int]:
    """A finished fold's checkpoints: those ``train.keep`` names and the one ``evaluate.checkpoint``
    reads stay, weights only (``last.pt`` loses the optimiser, scheduler and RNG states that only
    ``--resume`` needed); the others are removed. Returns the kept files' sizes in bytes."""
    from ..lib.checkpoint import atomic_torch_save

    keep = {"best", "last"} if run.tcfg.keep == "both" else {run.tcfg.keep, evaluated}
    if "last" in keep:
        atomic_torch_save({"model": run.model.state_dict(), "epoch": state.epoch, "labels": run.labels,
                           "fold": run.fold}, run.last_path)
    else:
        run.last_path.unlink(missing_ok=True)
    if "best" not in keep:
        run.best_path.unlink(missing_ok=True)
    return {p.name: p.stat().st_size for p in (run.best_path, run.last_path) if p.is_file()}


def train(cfg: RecipeConfig, data_dir: str | Path, out: str | Path, *,
          resume: bool = False, quiet: bool = False, features: str | Path | None = None) -> list[dict]:
    """Train every selected fold; returns their summaries (``features``: the feature cache's
    directory, default ``OUT/features``)."""
    from ..lib.runtime import setup_runtime

    rt = setup_runtime(cfg.train)
    records, all_folds = load_data(data_dir)
    turns = load_turns(data_dir) if cfg.train.on == "turns" else None
    model_cfg = ensure_models(cfg, data_dir, out, rt)
    summaries = []
    for fold in selected_folds(cfg, all_folds):
        summaries.append(train_fold(fold, records, cfg, out, rt=rt, model_cfg=model_cfg,
                                    resume=resume, quiet=quiet, turns=turns, features=features))
    return summaries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, "experiment directory (fold*/ go here)", resume=True)


def main(args: argparse.Namespace) -> int:
    def stage(cfg: RecipeConfig, data: Path) -> None:
        summaries = train(cfg, data, args.out, resume=args.resume, quiet=args.quiet)
        if not args.quiet and int(os.environ.get("RANK", "0")) == 0:
            for s in summaries:
                print(f"fold {s['fold']}: best epoch {s['best_epoch']} of {s['epochs']}, "
                      f"valid {s['metric']} {s['best_valid']}")

    return run_stage(args, stage)
