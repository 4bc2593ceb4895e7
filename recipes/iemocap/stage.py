"""What the stages after ``align`` share: their data, their folds, their models, their command line.

Nothing here imports torch: a stage's options and its errors about the data
need no model packages.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import ModelConfig, RecipeConfig, data_dir, load_config
from .io_utils import RecipeError, atomic_write_json, report_error

if TYPE_CHECKING:
    from .runtime import Runtime


def load_data(data_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """``prepare``'s utterances and folds."""
    from .prepare import load_folds, load_utterances

    return load_utterances(data_dir), load_folds(data_dir)


def selected_folds(cfg: RecipeConfig, folds: list[dict], override: list[int] | None = None) -> list[dict]:
    """The folds ``train.folds`` (or ``override``, from ``--folds``) names, in that order."""
    wanted = [int(w) for w in override or cfg.train.folds]
    by_k = {int(f["fold"]): f for f in folds}
    bad = [w for w in wanted if w not in by_k]
    if bad:
        raise RecipeError(cfg.path, None, f"train.folds: no fold {bad[0]} (have {sorted(by_k)})")
    return [by_k[w] for w in wanted]


def fold_examples(records: list[dict], fold: dict, labels: list[str], split: str):
    """The labelled examples of one split (``train``, ``valid``, ``test``) of a fold."""
    from .data import utterance_examples

    by_id = {r["id"]: r for r in records}
    missing = [i for i in fold[split] if i not in by_id]
    if missing:
        raise RecipeError("folds.json", None, f"fold {fold['fold']} {split}: unknown utterance {missing[0]}")
    return utterance_examples([by_id[i] for i in fold[split]], labels)


def ensure_models(cfg: RecipeConfig, data_dir: str | Path, out: str | Path,
                  rt: Runtime | None = None) -> ModelConfig:
    """The ``model:`` section with local paths for tiny random encoders.

    When ``model.text.pretrained`` is null (smoke config) a tiny tokenizer
    (byte-level BPE on the corpus' transcripts) and tiny random RoBERTa and
    wav2vec2 are written once to ``OUT/pretrained`` and used from there, so
    every stage and every resumed run sees the same initial weights.
    """
    from .model import write_tiny_models

    mcfg = cfg.model
    if mcfg.text.pretrained and mcfg.audio.pretrained:
        return mcfg
    base = Path(out) / "pretrained"
    if (rt is None or rt.is_main) and not (base / "done").is_file():
        from .prepare import load_utterances
        texts = [r.get("text") or "" for r in load_utterances(data_dir)]
        paths = write_tiny_models(mcfg, texts, base, seed=cfg.train.seed)
        atomic_write_json(base / "done", paths)
    if rt is not None:
        rt.barrier()
    paths = json.loads((base / "done").read_text(encoding="utf-8"))
    if mcfg.text.pretrained:   # the tiny tokenizer goes with the tiny text encoder only
        return mcfg.with_pretrained(audio=paths["audio"])
    return mcfg.with_pretrained(text=paths["text"], audio=paths["audio"], tokenizer=paths["tokenizer"])


def quiet_libraries() -> None:
    """No progress bars from transformers / the hub (``--quiet``)."""
    with contextlib.suppress(Exception):
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()


def run_stage(args: argparse.Namespace, stage: Callable[[RecipeConfig, Path], None]) -> int:
    """A torch stage's command line: config and data directory from ``args``, errors as one
    line (exit status 2), the process group torn down however it ends."""
    if args.quiet:
        quiet_libraries()
    try:
        cfg = load_config(args.config, args.overrides)
        stage(cfg, data_dir(cfg, args))
    except RecipeError as err:
        return report_error(err)
    finally:
        if sys.modules.get("torch") is not None:   # only a stage that imported torch joins a process group
            from .runtime import finish_distributed
            finish_distributed()
    return 0
