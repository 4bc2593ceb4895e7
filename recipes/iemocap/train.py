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
  metrics, learning rates, time).

Optimisation: AdamW with one learning rate for the encoders and one for the
head (no weight decay on biases and norms), linear warm-up then linear decay,
gradient clipping, gradient accumulation, early stopping on a validation
metric. On GPU: bf16 (or fp16 with a grad scaler) autocast; under ``torchrun``
DistributedDataParallel with the batches sharded over ranks; only rank 0
writes.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import atomic_torch_save, load_checkpoint, rng_state, seed_everything, set_rng_state
from .config import ModelConfig, RecipeConfig, TrainConfig, add_config_arguments
from .io_utils import RecipeError, atomic_write_json, atomic_write_text
from .metrics import METRICS_HIGHER_IS_BETTER
from .runtime import Runtime, predict, setup_runtime, to_device
from .stage import ensure_models, fold_examples, load_data, run_stage, selected_folds


def make_optimizer(model, tcfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW: encoders at ``lr_encoder``, the head at ``lr_head``; no decay on biases/norms."""
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
    warmup = int(round(warmup_ratio * total_steps))

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def validation_metrics(model, loader, examples, num_classes: int, rt: Runtime,
                       quiet: bool = False) -> dict[str, Any]:
    from .metrics import classification_metrics

    idx, logits = predict(model, loader, rt, progress=None if quiet else "valid")
    y = np.array([examples[i].label for i in idx])
    if len(y) == 0:
        return {"loss": None, "WA": None, "UA": None, "macro_f1": None, "weighted_f1": None}
    loss = float(F.cross_entropy(torch.from_numpy(logits), torch.from_numpy(y)).item())
    m = classification_metrics(y, logits.argmax(1), num_classes)
    return {"loss": loss, **{k: m[k] for k in ("WA", "UA", "macro_f1", "weighted_f1")}}


def _better(value, best, higher: bool) -> bool:
    if value is None:
        return False
    if best is None:
        return True
    return value > best if higher else value < best


# --------------------------------------------------------------------------
# one fold

def train_fold(fold: dict, records: list[dict], cfg: RecipeConfig, out: str | Path, *,
               rt: Runtime, model_cfg: ModelConfig, resume: bool = False, quiet: bool = False,
               stop_after_epoch: int | None = None,
               on_epoch_end: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Train one fold; returns its summary (best epoch and validation metrics).

    ``stop_after_epoch`` ends the run after that epoch's checkpoint, as a kill
    would (for tests); ``resume`` then carries on from ``last.pt``.
    """
    from tqdm.auto import tqdm

    from .data import Collator, SERDataset, make_loader
    from .model import build_model, load_tokenizer

    tcfg = cfg.train
    labels = cfg.labels.names
    k = int(fold["fold"])
    fold_dir = Path(out) / f"fold{k}"
    last_path, best_path = fold_dir / "last.pt", fold_dir / "best.pt"
    seed = tcfg.seed + k
    seed_everything(seed + 7919 * rt.rank)

    train_ex = fold_examples(records, fold, labels, "train")
    valid_ex = fold_examples(records, fold, labels, "valid")
    if not train_ex:
        raise RecipeError("folds.json", None, f"fold {k}: no training utterances")
    max_seconds = model_cfg.audio.max_seconds
    tokenizer = load_tokenizer(model_cfg)
    collate = Collator(tokenizer, max_tokens=model_cfg.text.max_tokens)
    workers = tcfg.num_workers
    pin = rt.device.type == "cuda"
    train_loader = make_loader(SERDataset(train_ex, max_seconds), collate, tcfg.batch_size,
                               shuffle=True, seed=seed, bucket_batches=tcfg.bucket_batches,
                               num_workers=workers, num_replicas=rt.world_size, rank=rt.rank,
                               pin_memory=pin)
    valid_loader = make_loader(SERDataset(valid_ex, max_seconds), collate, tcfg.eval_batch_size,
                               shuffle=False, num_workers=workers, num_replicas=rt.world_size,
                               rank=rt.rank, pin_memory=pin)

    model = build_model(model_cfg, num_classes=len(labels)).to(rt.device)
    optimizer = make_optimizer(model, tcfg)
    accum = tcfg.grad_accum
    epochs = tcfg.epochs
    steps_per_epoch = math.ceil(len(train_loader) / accum)
    scheduler = make_scheduler(optimizer, epochs * steps_per_epoch, tcfg.warmup_ratio)
    fp16 = rt.dtype == torch.float16
    if hasattr(torch.amp, "GradScaler"):
        scaler = torch.amp.GradScaler(rt.device.type, enabled=fp16)
    else:   # torch < 2.3
        scaler = torch.cuda.amp.GradScaler(enabled=fp16)
    metric = tcfg.early_stopping.metric
    higher = METRICS_HIGHER_IS_BETTER[metric]
    patience = tcfg.early_stopping.patience
    state = {"epoch": 0, "history": [], "best": None, "best_epoch": None, "bad_epochs": 0, "done": False}

    if resume and last_path.is_file():
        ck = load_checkpoint(last_path)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        scaler.load_state_dict(ck["scaler"])
        state = ck["state"]
        rngs = ck["rng"]
        set_rng_state(rngs[rt.rank] if len(rngs) == rt.world_size else rngs[0])
        if rt.is_main and not quiet:
            print(f"fold {k}: resuming after epoch {state['epoch']}", file=sys.stderr)
    elif rt.is_main and fold_dir.exists():
        for stale in (last_path, best_path, fold_dir / "metrics.jsonl"):
            with contextlib.suppress(FileNotFoundError):
                stale.unlink()

    net = model
    if rt.distributed:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[rt.device.index] if rt.device.type == "cuda" else None,
            find_unused_parameters=tcfg.find_unused_parameters)

    epoch_bar = tqdm(range(epochs), desc=f"fold {k}", initial=state["epoch"], total=epochs,
                     disable=quiet or not rt.is_main, dynamic_ncols=True)
    for epoch in range(state["epoch"], epochs):
        if state["done"]:
            break
        t0 = time.time()
        train_loader.batch_sampler.set_epoch(epoch)
        net.train()
        total_loss, n_items = 0.0, 0
        n_batches = len(train_loader)
        optimizer.zero_grad(set_to_none=True)
        bar = tqdm(train_loader, desc=f"epoch {epoch + 1}", leave=False, total=n_batches,
                   disable=quiet or not rt.is_main, dynamic_ncols=True)
        for step, batch in enumerate(bar):
            batch = to_device(batch, rt.device)
            boundary = (step + 1) % accum == 0 or step + 1 == n_batches
            group = accum if step < (n_batches // accum) * accum else n_batches - (n_batches // accum) * accum
            sync = contextlib.nullcontext() if boundary or not rt.distributed else net.no_sync()
            with sync:
                with rt.autocast():
                    logits = net(batch["input_ids"], batch["attention_mask"], batch["audio"],
                                 batch["audio_lengths"])
                loss = F.cross_entropy(logits.float(), batch["labels"])
                scaler.scale(loss / group).backward()
            total_loss += float(loss.detach()) * len(batch["labels"])
            n_items += len(batch["labels"])
            if boundary:
                scaler.unscale_(optimizer)
                if tcfg.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg.max_grad_norm)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            bar.set_postfix(loss=f"{total_loss / max(1, n_items):.4f}")
        bar.close()
        sums = rt.gather((total_loss, n_items))
        train_loss = sum(s[0] for s in sums) / max(1, sum(s[1] for s in sums))
        val = validation_metrics(model, valid_loader, valid_ex, len(labels), rt, quiet)
        record = {"fold": k, "epoch": epoch + 1, "train_loss": train_loss,
                  **{f"valid_{m}": v for m, v in val.items()},
                  "lr": {g["name"]: g["lr"] for g in optimizer.param_groups},
                  "seconds": round(time.time() - t0, 3)}
        state["history"].append(record)
        state["epoch"] = epoch + 1
        value = val.get(metric)
        # without a validation set the last epoch is kept and nothing stops early
        improved = value is None or _better(value, state["best"], higher)
        if improved:
            state["best"], state["best_epoch"], state["bad_epochs"] = value, epoch + 1, 0
        else:
            state["bad_epochs"] += 1
            if state["bad_epochs"] >= patience:
                state["done"] = True
        if state["epoch"] >= epochs:
            state["done"] = True
        rngs = rt.gather(rng_state())
        if rt.is_main:
            if improved:
                atomic_torch_save({"model": model.state_dict(), "epoch": epoch + 1, "labels": labels,
                                   "metric": metric, "value": value, "fold": k}, best_path)
            atomic_torch_save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                               "state": state, "rng": rngs, "labels": labels}, last_path)
            atomic_write_text(fold_dir / "metrics.jsonl",
                              "".join(json.dumps(r) + "\n" for r in state["history"]))
        rt.barrier()
        epoch_bar.update(1)
        epoch_bar.set_postfix({f"valid_{metric}": f"{value:.4f}" if value is not None else "-",
                               "best": state["best_epoch"]})
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1)
        if stop_after_epoch is not None and epoch + 1 >= stop_after_epoch and not state["done"]:
            epoch_bar.close()
            return {"fold": k, "interrupted": True, "epoch": epoch + 1}
    epoch_bar.close()
    summary = {"fold": k, "test_session": fold.get("test_session"), "epochs": state["epoch"],
               "best_epoch": state["best_epoch"], "metric": metric, "best_valid": state["best"],
               "early_stopped": state["epoch"] < epochs}
    if rt.is_main:
        atomic_write_json(fold_dir / "train_summary.json", summary)
    return summary


def train(cfg: RecipeConfig, data_dir: str | Path, out: str | Path, *, folds: list[int] | None = None,
          resume: bool = False, quiet: bool = False, device: str | None = None) -> list[dict]:
    """Train every selected fold; returns their summaries."""
    rt = setup_runtime(device or cfg.train.device, cfg.train.precision)
    records, all_folds = load_data(data_dir)
    model_cfg = ensure_models(cfg, data_dir, out, rt)
    summaries = []
    for fold in selected_folds(cfg, all_folds, folds):
        summaries.append(train_fold(fold, records, cfg, out, rt=rt, model_cfg=model_cfg,
                                    resume=resume, quiet=quiet))
    return summaries


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser)
    parser.add_argument("--data", type=Path, help="prepare's output directory (default: prepare.out)")
    parser.add_argument("--out", type=Path, required=True, help="experiment directory (fold*/ go here)")
    parser.add_argument("--folds", type=int, nargs="+", help="override train.folds")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/fold*/last.pt")
    parser.add_argument("--device", help="override train.device (cpu, cuda, cuda:1)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary output; errors are still printed")


def main(args: argparse.Namespace) -> int:
    def stage(cfg: RecipeConfig, data: Path) -> None:
        summaries = train(cfg, data, args.out, folds=args.folds, resume=args.resume, quiet=args.quiet,
                          device=args.device)
        if not args.quiet and int(os.environ.get("RANK", "0")) == 0:
            for s in summaries:
                print(f"fold {s['fold']}: best epoch {s['best_epoch']} of {s['epochs']}, "
                      f"valid {s['metric']} {s['best_valid']}")

    return run_stage(args, stage)
