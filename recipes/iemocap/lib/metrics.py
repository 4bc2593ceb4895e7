"""Utterance-level classification metrics, the field's standard set.

* ``WA`` (weighted accuracy): plain accuracy over the utterances;
* ``UA`` (unweighted accuracy): the mean of the per-class recalls over the
  classes present in the reference (balanced accuracy);
* ``macro_f1``: the mean per-class F1 over the classes present in the
  reference or the predictions (scikit-learn's default label set);
* ``weighted_f1``: per-class F1 weighted by reference support;
* ``confusion``: rows = reference class, columns = predicted class;
* ``precision``, ``recall``, ``f1``: per class (None where undefined: a class never
  predicted has no precision, one absent from the reference no recall).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

KEYS = ("WA", "UA", "macro_f1", "weighted_f1")
#: what early stopping can watch, and whether a higher value is better
METRICS_HIGHER_IS_BETTER = {"UA": True, "WA": True, "macro_f1": True, "weighted_f1": True, "loss": False}


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return cm


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> dict:
    """WA, UA, macro/weighted F1 and the confusion matrix (as lists)."""
    if len(y_true) != len(y_pred):
        raise ValueError("y_true and y_pred differ in length")
    if len(y_true) == 0:
        return {**{k: None for k in KEYS}, "confusion": [[0] * num_classes for _ in range(num_classes)],
                "support": [0] * num_classes, **{k: [None] * num_classes for k in ("precision", "recall", "f1")}}
    cm = confusion_matrix(y_true, y_pred, num_classes)
    support = cm.sum(1)
    predicted = cm.sum(0)
    tp = np.diag(cm).astype(float)
    present = support > 0
    recall = np.divide(tp, support, out=np.zeros(num_classes), where=support > 0)
    precision = np.divide(tp, predicted, out=np.zeros(num_classes), where=predicted > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(num_classes), where=denom > 0)
    used = present | (predicted > 0)
    return {
        "WA": float(tp.sum() / cm.sum()),
        "UA": float(recall[present].mean()),
        "macro_f1": float(f1[used].mean()),
        "weighted_f1": float((f1 * support).sum() / support.sum()),
        "confusion": cm.tolist(),
        "support": support.tolist(),
        "precision": [float(x) if p else None for x, p in zip(precision, predicted > 0)],
        "recall": [float(x) if p else None for x, p in zip(recall, present)],
        "f1": [float(x) if u else None for x, u in zip(f1, used)],
    }


def unweighted_accuracy(confusion: np.ndarray) -> np.ndarray:
    """UA of each confusion matrix in a stack ``(..., C, C)`` (NaN where no class is present)."""
    support = confusion.sum(-1)
    tp = np.diagonal(confusion, axis1=-2, axis2=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.where(support > 0, tp / support, 0.0)
        return recall.sum(-1) / (support > 0).sum(-1)


def mean_std(values: Sequence[float | None]) -> dict:
    """``{"mean", "std", "n"}`` over the non-null values (population std, ddof=0)."""
    vals = np.array([v for v in values if v is not None], dtype=float)
    if len(vals) == 0:
        return {"mean": None, "std": None, "n": 0}
    return {"mean": float(vals.mean()), "std": float(vals.std()), "n": int(len(vals))}
