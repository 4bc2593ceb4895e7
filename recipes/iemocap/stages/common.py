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

from ..config import ModelConfig, RecipeConfig, add_config_arguments, data_dir, load_config
from ..lib.io_utils import RecipeError, atomic_write_json, report_error

if TYPE_CHECKING:
    from ..lib.runtime import Runtime


def load_data(data_dir: str | Path) -> tuple[list[dict], list[dict]]:
    """``prepare``'s utterances and folds."""
    from .prepare import load_folds, load_utterances

    return load_utterances(data_dir), load_folds(data_dir)


def selected_folds(cfg: RecipeConfig, folds: list[dict]) -> list[dict]:
    """The folds ``train.folds`` names, in that order."""
    wanted = [int(w) for w in cfg.train.folds]
    by_k = {int(f["fold"]): f for f in folds}
    bad = [w for w in wanted if w not in by_k]
    if bad:
        raise RecipeError(cfg.path, None, f"train.folds: no fold {bad[0]} (have {sorted(by_k)})")
    return [by_k[w] for w in wanted]


def fold_examples(records: list[dict], fold: dict, labels: list[str], split: str, inputs=None):
    """The labelled examples of one split (``train``, ``valid``, ``test``) of a fold, read as
    ``inputs`` (the ``inputs:`` section) says."""
    from ..lib.data import utterance_examples

    by_id = {r["id"]: r for r in records}
    missing = [i for i in fold[split] if i not in by_id]
    if missing:
        raise RecipeError("folds.json", None, f"fold {fold['fold']} {split}: unknown utterance {missing[0]}")
    return utterance_examples([by_id[i] for i in fold[split]], labels, inputs)


def load_turns(data_dir: str | Path) -> list[dict] | None:
    """align's ``hyp_turns.json`` (SegLST rows), or None when there is none."""
    path = Path(data_dir) / "hyp_turns.json"
    if not path.is_file():
        return None
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise RecipeError(path, err.lineno, f"not JSON: {err.msg}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise RecipeError(path, None, "expected a list of SegLST rows (align's output)")
    return rows


def label_turns(turns: list[dict], records: list[dict], min_seconds: float) -> list[str | None]:
    """SER-Align's turn labels (``preprocess.py``, ``get_label_for_segment``): the id of the
    labelled utterance (emotion in the label set) that a turn overlaps longest, when that
    overlap is more than ``min_seconds``; else None. Utterances outside the label set are not
    candidates, as in SER-Align; equal overlaps go to the earlier utterance; an overlap
    within 1e-9 s of the threshold is not more than it."""
    by_dialog: dict[str, list[dict]] = {}
    for r in records:
        if r.get("emotion") is not None:
            by_dialog.setdefault(r["dialog"], []).append(r)
    out: list[str | None] = []
    for t in turns:
        lo, hi = float(t["start_time"]), float(t["end_time"])
        best, best_key = None, None
        for r in by_dialog.get(t["session_id"], ()):
            overlap = min(hi, float(r["end"])) - max(lo, float(r["start"]))
            key = (overlap, -float(r["start"]), r["id"])
            if overlap > min_seconds + 1e-9 and (best_key is None or key > best_key):   # not float noise
                best, best_key = r["id"], key
        out.append(best)
    return out


def turn_split(turns: list[dict], records: list[dict], fold: dict, split: str,
               min_seconds: float) -> tuple[list[dict], list[str]]:
    """The labelled turns of one split of a fold, and their labelling utterances' ids: ``test``,
    the test session's turns; ``valid``, the other sessions' turns labelled by a validation
    utterance of the fold; ``train``, the rest of the other sessions' labelled turns.
    Unlabelled turns are in no split (they are still classified and scored)."""
    session = {r["dialog"]: r["session"] for r in records}
    valid = set(fold["valid"])
    ids = label_turns(turns, records, min_seconds)
    rows, used = [], []
    for t, uid in zip(turns, ids):
        if uid is None:
            continue
        in_test = session.get(t["session_id"]) == fold["test_session"]
        where = "test" if in_test else ("valid" if uid in valid else "train")
        if where == split:
            rows.append(t)
            used.append(uid)
    return rows, used


def split_examples(records: list[dict], turns: list[dict] | None, fold: dict, cfg: RecipeConfig, split: str):
    """The labelled examples of one split of a fold, as ``train.on`` says: the fold's
    utterances, or the aligned turns labelled as SER-Align labels them (:func:`turn_split`)."""
    labels = cfg.labels.names
    if cfg.train.on == "utterances":
        return fold_examples(records, fold, labels, split, cfg.inputs)
    from ..lib.data import turn_examples

    if turns is None:
        raise RecipeError("hyp_turns.json", None, "train.on is turns: run `python -m recipes.iemocap align` first")
    by_id = {r["id"]: r for r in records}
    rows, used = turn_split(turns, records, fold, split, cfg.labels.turn_overlap)
    index = {lab: i for i, lab in enumerate(labels)}
    examples = turn_examples(rows, by_id, cfg.inputs)
    for ex, t, uid in zip(examples, rows, used):
        ex.id = f"{t['session_id']}@{float(t['start_time']):.2f}-{t.get('speaker')}"
        ex.label = index[by_id[uid]["emotion"]]
    return examples


def ensure_models(cfg: RecipeConfig, data_dir: str | Path, out: str | Path,
                  rt: Runtime | None = None) -> ModelConfig:
    """The ``model:`` section with local paths for tiny random encoders.

    When ``model.text.pretrained`` is null (smoke config) a tiny tokenizer
    (byte-level BPE on the corpus' transcripts) and tiny random RoBERTa and
    wav2vec2 are written once to ``OUT/pretrained`` and used from there, so
    every stage and every resumed run sees the same initial weights.
    """
    from ..lib.model import write_tiny_models

    mcfg = cfg.model
    if mcfg.text.pretrained and mcfg.audio.pretrained:
        return mcfg
    base = Path(out) / "pretrained"
    if (rt is None or rt.is_main) and not (base / "done").is_file():
        from ..lib.normalise import normalise
        from .prepare import load_utterances
        texts = [normalise(r.get("text") or "", cfg.inputs.text) for r in load_utterances(data_dir)]
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


def add_run_arguments(parser: argparse.ArgumentParser, out_help: str, *, resume: bool = False) -> None:
    """The options of a stage that reads prepare's output: ``--config`` and ``--set`` (every
    setting), and what controls the run: ``--data``, ``--out``, ``--resume`` (train), ``-q``."""
    add_config_arguments(parser)
    parser.add_argument("--data", type=Path, help="prepare's output directory (default: prepare.out)")
    parser.add_argument("--out", type=Path, required=True, help=out_help)
    if resume:
        parser.add_argument("--resume", action="store_true", help="continue from OUT/fold*/last.pt")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary output; errors are still printed")


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
            from ..lib.runtime import finish_distributed
            finish_distributed()
    return 0
