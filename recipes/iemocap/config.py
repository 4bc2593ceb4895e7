"""The recipe's YAML configuration (one file, SpeechBrain-style sections).

The data sections are ``labels:``, ``prepare:``, ``folds:`` and ``align:``; the
model, training and scoring stages read their own sections of the same file.
:func:`load_config` fills in defaults for the data sections so a config that
leaves them out still works.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from .io_utils import RecipeError
from .metrics import METRICS_HIGHER_IS_BETTER

CONF_DIR = Path(__file__).resolve().parent / "conf"
DEFAULT_CONFIG = CONF_DIR / "default.yaml"
SMOKE_CONFIG = CONF_DIR / "smoke.yaml"

#: Every emotion code the corpus uses (``xxx``: no majority among evaluators).
ALL_CODES = ("neu", "hap", "exc", "ang", "sad", "fru", "fea", "sur", "dis", "oth", "xxx")

#: Built-in label sets: corpus code -> label. Codes outside a map get no label.
LABEL_SETS: dict[str, dict[str, str]] = {
    # the standard 4-class benchmark: excited merged into happy
    "4class": {"neu": "neu", "hap": "hap", "exc": "hap", "ang": "ang", "sad": "sad"},
    # every category with a majority label (xxx excluded)
    "full": {c: c for c in ALL_CODES if c != "xxx"},
}

DEFAULTS: dict[str, Any] = {
    "labels": {"set": "4class"},
    "prepare": {"corpus": None, "out": None},
    "folds": {"seed": 1234, "valid_fraction": 0.1},
    "align": {
        "source": "oracle",
        "max_gap": 1.0,
        "min_overlap": 0.5,
        "asr": None,
        "diarization": None,
        "whisperx": {"model": "large-v2", "language": "en", "device": "cpu",
                     "compute_type": "int8", "batch_size": 8,
                     "diarization_model": "pyannote/speaker-diarization-3.1"},
    },
}

TRAIN_DEFAULTS: dict[str, Any] = {
    "folds": [1, 2, 3, 4, 5],
    "epochs": 10,
    "batch_size": 8,
    "grad_accum": 4,
    "lr_encoder": 2.0e-5,
    "lr_head": 1.0e-4,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "max_grad_norm": 1.0,
    "early_stopping": {"metric": "UA", "patience": 3},
    "seed": 1234,
    "precision": "auto",      # auto | fp32 | bf16 | fp16
    "device": "auto",         # auto | cpu | cuda | cuda:N
    "num_workers": 4,
    "bucket_batches": 50,
    "eval_batch_size": 16,
    "find_unused_parameters": True,   # DDP: safe default (frozen/optional parameters)
}


def train_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The ``train:`` section, defaults filled in and choices checked."""
    t = {**TRAIN_DEFAULTS, **(cfg.get("train") or {})}
    t["early_stopping"] = {**TRAIN_DEFAULTS["early_stopping"], **(t.get("early_stopping") or {})}
    metric = t["early_stopping"]["metric"]
    if metric not in METRICS_HIGHER_IS_BETTER:
        raise RecipeError(cfg.get("_path"), None, f"train.early_stopping.metric: unknown metric {metric!r} "
                          f"(choose from {sorted(METRICS_HIGHER_IS_BETTER)})")
    if t["precision"] not in ("auto", "fp32", "bf16", "fp16"):
        raise RecipeError(cfg.get("_path"), None, "train.precision must be auto, fp32, bf16 or fp16")
    return t


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML config (default: ``conf/default.yaml``), defaults filled in."""
    path = Path(path) if path is not None else DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RecipeError(path, None, f"cannot read config: {err.strerror}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise RecipeError(path, line, f"bad YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(data, dict):
        raise RecipeError(path, 1, "config must be a mapping of sections")
    cfg = _merge(DEFAULTS, data)
    cfg["_path"] = str(path)
    label_map(cfg)  # validate early
    return cfg


def label_map(cfg: dict[str, Any]) -> dict[str, str]:
    """The configured code -> label map (``labels.map`` overrides ``labels.set``)."""
    labels = cfg.get("labels") or {}
    where = cfg.get("_path")
    custom = labels.get("map")
    if custom is not None:
        if not isinstance(custom, dict) or not custom:
            raise RecipeError(where, None, "labels.map must be a non-empty mapping code: label")
        unknown = sorted(set(custom) - set(ALL_CODES))
        if unknown:
            raise RecipeError(where, None, f"labels.map: unknown emotion codes {unknown}")
        return {str(k): str(v) for k, v in custom.items()}
    name = labels.get("set", "4class")
    sets = {**LABEL_SETS, **(labels.get("sets") or {})}
    if name not in sets:
        raise RecipeError(where, None, f"labels.set: unknown label set {name!r} "
                          f"(choose from {sorted(sets)})")
    return dict(sets[name])


def label_names(mapping: dict[str, str]) -> list[str]:
    """The distinct labels of a map, in first-seen order."""
    return list(dict.fromkeys(mapping.values()))


def data_dir(cfg: dict[str, Any], args) -> Path:
    """The prepare output a stage reads: ``--data``, else ``prepare.out`` of the config."""
    data = getattr(args, "data", None) or cfg["prepare"].get("out")
    if not data:
        raise RecipeError(args.config, None, "no data directory: give --data or set prepare.out")
    return Path(data)
