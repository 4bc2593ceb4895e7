"""One learning experiment on a synthetic corpus with cues, shared by the learning
tests and by the seed sweep that measured their thresholds.

    python -m recipes.iemocap.tests.learning --seeds 0 1 2 3      # prints one row per run

An experiment: a corpus with ``cue`` (:func:`recipes.iemocap.tools.synthetic.make_corpus`),
balanced over the four classes; ``prepare`` and oracle ``align``; tiny random encoders
(conf/smoke.yaml); fold 1 (test session Ses01, speakers never seen in training) trained
with ``model.modalities`` and evaluated with the recipe's own ``train_fold`` /
``evaluate_fold``. ``permute=k`` first gives the training and validation utterances
the k-th set of labels independent of their emotions (:func:`permuted`, the control).
"""
from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path
from typing import Any

#: the four classes about equally often; a few non-target codes stay in the dialogs
CODE_WEIGHTS = {"neu": 1.0, "hap": 0.5, "exc": 0.5, "ang": 1.0, "sad": 1.0, "fru": 0.1, "xxx": 0.1}
UTTERANCES_PER_DIALOG = 30
#: settings of every learning run (the smoke config otherwise). A tiny random model is all
#: head, so its encoders learn at 1e-3, not at a rate meant for pretrained weights. The tiny
#: wav2vec2's convolutions are trained, not frozen: random, they are no feature encoder
#: (frozen, the audio model reached UA 0.81-0.92 in 10 epochs). Every word carries the audio
#: cue, so the first second of an utterance is enough, and cheaper. Layer norm in the feature
#: encoder (as wav2vec2-large-lv60) takes the sample mask, so that path is exercised too.
SETTINGS = {"train.epochs": 6, "train.batch_size": 8, "train.lr_encoder": 1e-3, "train.lr_head": 3e-3,
            "train.warmup_ratio": 0.1, "train.num_workers": 0, "train.early_stopping.metric": "UA",
            "train.early_stopping.patience": 100, "model.audio.tiny.feat_extract_norm": "layer",
            "model.audio.freeze_feature_encoder": False, "model.audio.max_seconds": 1.0,
            "evaluate.checkpoint": "last", "evaluate.batch_size": 16}


def make_data(root: Path, cue: str, seed: int = 0) -> Path:
    """Corpus, prepare and oracle align under ``root``; returns the data directory."""
    from recipes.iemocap.stages.align import align
    from recipes.iemocap.config import SMOKE_CONFIG, load_config
    from recipes.iemocap.stages.prepare import prepare
    from recipes.iemocap.tools.synthetic import make_corpus

    root = Path(root)
    make_corpus(root / "corpus", seed=seed, utterances_per_dialog=UTTERANCES_PER_DIALOG, cue=cue,
                code_weights=CODE_WEIGHTS)
    cfg = load_config(SMOKE_CONFIG)
    prepare(root / "corpus", root / "data", cfg, verbose=False)
    align(root / "data", root / "data", cfg, verbose=False)
    return root / "data"


def config(modalities: str, seed: int = 0):
    from recipes.iemocap.config import SMOKE_CONFIG, load_config, override

    return override(load_config(SMOKE_CONFIG), {**SETTINGS, "model.modalities": modalities, "train.seed": seed})


def permuted(records: list[dict], fold: dict, seed: int) -> list[dict]:
    """The records with new emotions for the fold's training and validation utterances,
    independent of the true ones: each true class's utterances, in a random order, take the
    labels in turn (in a random order too), so every class is spread evenly over all labels.
    A plain shuffle leaves each class, by chance, a label it has more often than the others,
    and a model that learns the cue well learns that mapping: UA 0.42 on seed 0."""
    records = copy.deepcopy(records)
    by_id = {r["id"]: r for r in records}
    rng = random.Random(seed)
    by_class: dict[str, list[str]] = {}
    for i in list(fold["train"]) + list(fold["valid"]):
        by_class.setdefault(by_id[i]["emotion"], []).append(i)
    labels = sorted(by_class)
    for emotion in labels:
        members, order = by_class[emotion], list(labels)
        rng.shuffle(members)
        rng.shuffle(order)
        for k, i in enumerate(members):
            by_id[i]["emotion"] = order[k % len(order)]
    return records


def fit(data: Path, out: Path, modalities: str, *, seed: int = 0, permute: int = 0) -> dict[str, Any]:
    """Train and evaluate fold 1; returns ``eval.json`` (WA, UA, ...) plus ``out``.
    ``permute``: 0 trains on the true labels, k > 0 on the k-th :func:`permuted` labels."""
    import torch

    from recipes.iemocap.stages.evaluate import evaluate_fold
    from recipes.iemocap.lib.runtime import Runtime
    from recipes.iemocap.stages.common import ensure_models, load_data
    from recipes.iemocap.stages.train import train_fold

    cfg = config(modalities, seed)
    rt = Runtime(torch.device("cpu"))
    records, folds = load_data(data)
    fold = folds[0]
    model_cfg = ensure_models(cfg, data, out)
    train_records = permuted(records, fold, 1000 * seed + permute) if permute else records
    train_fold(fold, train_records, cfg, out, rt=rt, model_cfg=model_cfg, quiet=True)
    result = evaluate_fold(fold, records, cfg, data, out, rt=rt, model_cfg=model_cfg, quiet=True)
    return {**result, "out": str(out)}


def turn_scores(result: dict[str, Any], tmp: Path) -> dict[str, Any]:
    """teer's wu2023 scores of a fit's ``hyp.json`` (the oracle-aligned turns of the test
    session, classified by the model) against ``ref_words.rttm``."""
    from recipes.iemocap.stages.score import filter_rttm, score_with_preset

    data, out = Path(result["data"]), Path(result["out"]) / "fold1"
    dialogs = {h["session_id"] for h in json.loads((out / "hyp.json").read_text())}
    reference = filter_rttm(data / "ref_words.rttm", dialogs, Path(tmp) / "ref.rttm")
    return score_with_preset(reference, out / "hyp.json", "wu2023", emotions=result["labels"])


#: (cue, modalities, permute) of every run the tests make
RUNS = [("both", "both", 0), ("both", "both", 1), ("both", "both", 2),
        ("text", "text", 0), ("text", "both", 0), ("text", "audio", 0),
        ("audio", "audio", 0), ("audio", "both", 0), ("audio", "text", 0)]


def study(out: Path, seeds: list[int]) -> int:
    """The alignment study with trained models: one corpus, one fused model per training seed
    (fold 1), run k with model k and degradation seed k; the mean and spread over the runs."""
    import tempfile

    from recipes.iemocap.stages.alignment_study import alignment_study

    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp) / "data", "both", 0)
        folds = []
        for seed in seeds:
            t0 = time.time()
            r = fit(data, Path(tmp) / f"model{seed}", "both", seed=seed)
            r["data"] = str(data)
            t = turn_scores(r, Path(r["out"]))
            print(f"seed {seed}: UA {r['UA']:.3f}, turn EERa {t['EERa']:.3f}, {time.time() - t0:.0f} s",
                  flush=True)
            folds.append(Path(r["out"]) / "fold1")
        alignment_study(config("both", seeds[0]), data, out, checkpoint=folds, seed=list(seeds), quiet=True)
    print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    import tempfile

    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fused-only", action="store_true", help="only the fused model on both cues")
    parser.add_argument("--study", type=Path, metavar="DIR",
                        help="instead: train the fused model once per seed on one corpus (both cues, "
                             "corpus seed 0) and run alignment-study with the models, into DIR")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    if args.study:
        return study(args.study, args.seeds)
    print("| seed | cue | modalities | labels | UA | WA | turn UA | turn EERa (wu2023) | turn TEER | seconds |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            data = {}
            for cue, modalities, permute in RUNS[:1] if args.fused_only else RUNS:
                if cue not in data:
                    data[cue] = make_data(Path(tmp) / f"s{seed}_{cue}", cue, seed)
                t0 = time.time()
                r = fit(data[cue], Path(tmp) / f"s{seed}_{cue}_{modalities}_{permute}", modalities,
                        seed=seed, permute=permute)
                r["data"] = str(data[cue])
                t = turn_scores(r, Path(r["out"]))
                print(f"| {seed} | {cue} | {modalities} | {f'permuted {permute}' if permute else 'true'} | "
                      f"{r['UA']:.3f} | {r['WA']:.3f} | {r['turns']['UA']:.3f} | {t['EERa']:.3f} | "
                      f"{t['TEER']:.3f} | {time.time() - t0:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
