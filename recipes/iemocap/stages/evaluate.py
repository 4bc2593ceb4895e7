"""``evaluate``: classification metrics and scored hypotheses per fold.

For fold k, with the checkpoint ``evaluate.checkpoint`` (``best``: the best
validation epoch; ``last``) of ``OUT/fold{k}/``:

* the labelled test-session utterances (``folds.json``) are classified:
  ``eval.json`` (WA, UA, macro/weighted F1, confusion matrix, support),
  ``confusion.json``, ``confusion.png`` and ``predictions.jsonl``;
* every turn of the test session in align's ``hyp_turns.json`` (for the
  oracle alignment these follow the utterances) gets the model's predicted
  emotion: ``hyp.json``, a SegLST hypothesis for teer. Without
  ``hyp_turns.json`` the test session's utterances are the turns.

Torch is imported by the functions that run the model, so ``evaluate --help``
works without it.
"""
from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..config import ModelConfig, RecipeConfig
from ..lib.io_utils import RecipeError, atomic_write_json, atomic_write_text, write_turns
from ..lib.metrics import classification_metrics
from .common import (add_run_arguments, ensure_models, fold_examples, label_turns, load_data, load_turns, run_stage,
                     selected_folds)


def session_turns(data_dir: str | Path, records: list[dict], session: str) -> tuple[list[dict], str]:
    """The hypothesis turns (SegLST rows) of one session, and where they came from."""
    dialogs = {r["dialog"] for r in records if r["session"] == session}
    rows = load_turns(data_dir)
    if rows is not None:
        return [r for r in rows if r.get("session_id") in dialogs], str(Path(data_dir) / "hyp_turns.json")
    rows = [{"session_id": r["dialog"], "start_time": r["start"], "end_time": r["end"],
             "speaker": r["speaker"], "emotion": None, "words": r.get("text") or "",
             "utterance_id": r["id"]}
            for r in sorted(records, key=lambda r: (r["dialog"], r["start"], r["id"]))
            if r["session"] == session]
    return rows, "utterances.jsonl (no hyp_turns.json)"


def save_confusion_png(cm: list[list[int]], labels: list[str], path: Path, title: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm_a = np.asarray(cm)
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 1.5, 1.2 * len(labels) + 1))
    ax.imshow(cm_a, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title)
    top = cm_a.max() if cm_a.size else 0
    for i in range(cm_a.shape[0]):
        for j in range(cm_a.shape[1]):
            ax.text(j, i, str(cm_a[i, j]), ha="center", va="center",
                    color="white" if top and cm_a[i, j] > top / 2 else "black")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)


def evaluate_fold(fold: dict, records: list[dict], cfg: RecipeConfig, data_dir: str | Path,
                  out: str | Path, *, rt, model_cfg: ModelConfig, quiet: bool = False) -> dict[str, Any]:
    """Classify one fold's test utterances and turns with its checkpoint; writes and returns ``eval.json``."""
    import torch

    from ..lib.checkpoint import load_checkpoint
    from ..lib.data import Collator, turn_examples
    from ..lib.model import build_model, load_tokenizer
    from ..lib.runtime import classify

    labels = cfg.labels.names
    k = int(fold["fold"])
    fold_dir = Path(out) / f"fold{k}"
    which = cfg.evaluate.checkpoint
    ck_path = fold_dir / f"{which}.pt"
    if not ck_path.is_file():
        raise RecipeError(ck_path, None, "missing; run `python -m recipes.iemocap train` first")
    ck = load_checkpoint(ck_path)
    if list(ck.get("labels", labels)) != labels:
        raise RecipeError(ck_path, None, f"trained on labels {ck.get('labels')}, config has {labels}")
    model = build_model(model_cfg, num_classes=len(labels))
    model.load_state_dict(ck["model"])
    model.to(rt.device).eval()

    tokenizer = load_tokenizer(model_cfg)
    collate = Collator(tokenizer, max_tokens=model_cfg.text.max_tokens)
    max_seconds = model_cfg.audio.max_seconds
    bs = cfg.evaluate.batch_size
    workers = cfg.train.num_workers

    def run(examples, desc):
        return classify(model, examples, collate, rt, seconds=max_seconds, hop=cfg.inputs.window_hop,
                        batch_size=bs, num_workers=workers, progress=None if quiet else desc)

    # utterance-level metrics on the labelled test utterances (whatever train.on)
    test_ex = fold_examples(records, fold, labels, "test", cfg.inputs)
    logits = run(test_ex, f"fold {k} test")
    y_true = np.array([e.label for e in test_ex], dtype=int)
    y_pred = logits.argmax(1) if len(test_ex) else np.zeros(0, dtype=int)
    metrics = classification_metrics(y_true, y_pred, len(labels))
    probs = torch.softmax(torch.from_numpy(logits), dim=-1).numpy() if len(test_ex) else logits
    atomic_write_text(fold_dir / "predictions.jsonl", "".join(
        json.dumps({"id": e.id, "label": labels[e.label], "prediction": labels[int(p)],
                    "probabilities": {lab: round(float(q), 6) for lab, q in zip(labels, pr)}}) + "\n"
        for e, p, pr in zip(test_ex, y_pred, probs)))
    confusion = {"labels": labels, "rows": "reference", "columns": "prediction",
                 "matrix": metrics["confusion"]}
    atomic_write_json(fold_dir / "confusion.json", confusion)
    save_confusion_png(metrics["confusion"], labels, fold_dir / "confusion.png",
                       f"fold {k} ({fold.get('test_session')}): UA {metrics['UA'] or 0:.3f}")

    # the hypothesis: every turn of the test session with its predicted emotion
    turns, source = session_turns(data_dir, records, fold["test_session"])
    by_id = {r["id"]: r for r in records}
    try:
        turn_ex = turn_examples(turns, by_id, cfg.inputs)
    except (ValueError, OSError) as err:
        raise RecipeError(source, None, str(err)) from None
    hyp = []
    t_pred = run(turn_ex, f"fold {k} turns").argmax(1) if turn_ex else np.zeros(0, dtype=int)
    for row, p in zip(turns, t_pred):
        hyp.append({**row, "emotion": labels[int(p)]})
    write_turns(fold_dir / "hyp.json", hyp)
    result = {"fold": k, "test_session": fold.get("test_session"), "checkpoint": which,
              "checkpoint_epoch": ck.get("epoch"), "trained_on": cfg.train.on, "labels": labels,
              "n_test": len(test_ex), "n_turns": len(hyp), "turns_from": source, **metrics,
              "turns": turn_metrics(turns, t_pred, records, labels, cfg.labels.turn_overlap)}
    atomic_write_json(fold_dir / "eval.json", result)
    return result


def turn_metrics(turns: list[dict], predicted, records: list[dict], labels: list[str],
                 min_seconds: float) -> dict[str, Any]:
    """WA, UA, macro and weighted F1 and ``n`` over the turns that have a label as SER-Align
    labels them (:func:`~recipes.iemocap.stages.common.label_turns`): SER-Align's turn accuracy."""
    by_id = {r["id"]: r for r in records}
    index = {lab: i for i, lab in enumerate(labels)}
    ids = label_turns(turns, records, min_seconds)
    keep = [i for i, uid in enumerate(ids) if uid is not None]
    y_true = np.array([index[by_id[ids[i]]["emotion"]] for i in keep], dtype=int)
    y_pred = np.array([int(predicted[i]) for i in keep], dtype=int)
    m = classification_metrics(y_true, y_pred, len(labels))
    return {**{key: m[key] for key in ("WA", "UA", "macro_f1", "weighted_f1")}, "n": len(keep),
            "confusion": m["confusion"]}


def evaluate(cfg: RecipeConfig, data_dir: str | Path, out: str | Path, *, quiet: bool = False) -> list[dict]:
    from ..lib.runtime import setup_runtime

    rt = setup_runtime(cfg.train)
    if not rt.is_main:     # evaluation is cheap: rank 0 only, no collectives
        return []
    rt = rt.alone()
    records, all_folds = load_data(data_dir)
    chosen = selected_folds(cfg, all_folds)
    which = cfg.evaluate.checkpoint
    for fold in chosen:
        ck = Path(out) / f"fold{fold['fold']}" / f"{which}.pt"
        if not ck.is_file():
            raise RecipeError(ck, None, "missing; run `python -m recipes.iemocap train` first")
    model_cfg = ensure_models(cfg, data_dir, out)
    results = []
    for fold in chosen:
        r = evaluate_fold(fold, records, cfg, data_dir, out, rt=rt, model_cfg=model_cfg, quiet=quiet)
        results.append(r)
        if not quiet:
            print(f"fold {r['fold']} ({r['test_session']}): WA {_f(r['WA'])} UA {_f(r['UA'])} "
                  f"macro-F1 {_f(r['macro_f1'])} weighted-F1 {_f(r['weighted_f1'])}; "
                  f"{r['n_turns']} turns -> {Path(out) / ('fold%d' % r['fold']) / 'hyp.json'}")
    return results


def _f(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, "experiment directory (as for train)")


def main(args: argparse.Namespace) -> int:
    return run_stage(args, lambda cfg, data: evaluate(cfg, data, args.out, quiet=args.quiet))
