"""What ``results.json`` adds to the per-fold figures: the folds pooled, per-class scores and
percentile bootstrap intervals, and the mean and spread over seeds.

* ``pooled``: WA, UA, macro and weighted F1 over the test utterances of all folds together
  (each utterance is tested in exactly one fold), with per-class precision, recall and F1.
* ``intervals.UA``: the percentile bootstrap interval of the pooled UA, resampling **dialogs**
  (the utterances of one conversation are not independent; teer resamples the same unit):
  each resample draws as many dialogs as there are, with replacement, sums their confusion
  matrices and takes the UA of the sum.
* ``intervals[preset]``: teer's own bootstrap over files (``teer.bootstrap.intervals``) of the
  report that scores all folds' hypotheses together against their references.
* :func:`over_seeds`: mean and standard deviation (population, as over folds) of the pooled
  figures of several runs that differ in ``train.seed`` only.

All intervals use teer's default bootstrap settings (``teer.bootstrap.Settings()``: 1000
resamples, 95 %, seed 0), written next to them in ``results.json``.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .metrics import KEYS as CLS_KEYS, classification_metrics, mean_std, unweighted_accuracy

RATE_KEYS = ("TEER", "sTEER", "EERa", "sEERa")


def _settings():
    from teer.bootstrap import Settings

    return Settings()


def read_predictions(fold_dir: Path) -> list[dict]:
    path = fold_dir / "predictions.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def pooled_classification(predictions: list[dict], labels: list[str], dialog_of: dict[str, str]) -> dict[str, Any]:
    """WA, UA, F1 and per-class precision / recall / F1 over every fold's test utterances, and
    the bootstrap interval of UA over dialogs."""
    from teer.bootstrap import percentile_interval, resample_counts

    index = {lab: i for i, lab in enumerate(labels)}
    y_true = np.array([index[p["label"]] for p in predictions], dtype=int)
    y_pred = np.array([index[p["prediction"]] for p in predictions], dtype=int)
    m = classification_metrics(y_true, y_pred, len(labels))
    pooled = {**{k: m[k] for k in CLS_KEYS}, "n": len(predictions), "confusion": m["confusion"],
              "per_class": {lab: {"precision": m["precision"][i], "recall": m["recall"][i], "f1": m["f1"][i],
                                  "support": m["support"][i]} for i, lab in enumerate(labels)}}
    dialogs = sorted({dialog_of[p["id"]] for p in predictions})
    if not dialogs:
        return {**pooled, "UA_interval": None}
    row = {d: i for i, d in enumerate(dialogs)}
    per_dialog = np.zeros((len(dialogs), len(labels), len(labels)))
    np.add.at(per_dialog, ([row[dialog_of[p["id"]]] for p in predictions], y_true, y_pred), 1)
    flat = per_dialog.reshape(len(dialogs), -1)
    settings = _settings()
    rng = np.random.default_rng(settings.seed)
    ua = [unweighted_accuracy((counts.astype(float) @ flat).reshape(-1, len(labels), len(labels)))
          for counts in resample_counts(len(dialogs), settings.resamples, rng)]
    interval = percentile_interval(np.concatenate(ua), settings.confidence)
    return {**pooled, "UA_interval": None if interval is None else list(interval), "dialogs": len(dialogs)}


def pooled_rates(reference: Path, hypothesis: Path, preset: str, **options) -> dict[str, Any]:
    """teer on all folds together: the rates and teer's bootstrap intervals over files."""
    import teer
    from teer.bootstrap import intervals

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = teer.score(str(reference), str(hypothesis), preset=preset, **options)
        cis = intervals(report, _settings())
    figures = report.total.to_dict()
    return {**{k: figures.get(k) for k in (*RATE_KEYS, "DER")}, "files": len(report.files),
            "intervals": {k: None if v is None else list(v) for k, v in cis.items()},
            "warnings": sorted({str(w.message) for w in caught})[:20]}


def over_seeds(results: Sequence[dict]) -> dict[str, Any]:
    """Mean and std over runs (one per seed) of each run's pooled figures."""
    out: dict[str, Any] = {k: mean_std([r["pooled"][k] for r in results]) for k in CLS_KEYS}
    presets = results[0]["pooled"]["scores"] if results else {}
    out["scores"] = {name: {k: mean_std([r["pooled"]["scores"][name][k] for r in results])
                            for k in (*RATE_KEYS, "DER")} for name in presets}
    return out
