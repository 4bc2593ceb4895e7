"""``score``: teer on each fold's hypothesis; ``results.json`` and ``report.md``.

Per fold, ``OUT/fold{k}/hyp.json`` (from ``evaluate``) is scored with
``teer.score`` against the reference (written by ``prepare``) of each configured preset
(``score.presets``: preset name -> reference file in the data directory),
restricted to the test session's dialogs (written as ``ref_<preset>.rttm``
next to the hypothesis). Under ``ser-align``, reference speech outside the
label set is dropped (the preset's rule), so system turns there count as false
alarm: with turns on every utterance, its TEER can exceed 100 %.

``OUT/results.json``: ``folds`` (per fold: WA, UA, macro_f1, weighted_f1,
confusion; ``turns``: the same over the test session's turns labelled as SER-Align
labels them, with their number ``n``; and ``scores[preset]``: TEER, sTEER, EERa, sEERa, DER, the
seconds) and ``summary`` (mean and std over folds of every metric, plus the
rates of the seconds pooled over folds). ``OUT/report.md``: the same as tables.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..config import RecipeConfig, data_dir, load_config
from ..lib.io_utils import (RecipeError, atomic_write_json, atomic_write_text, read_segments, report_error,
                       write_segments, write_turns)
from ..lib.metrics import KEYS as CLS_KEYS, mean_std
from .common import add_run_arguments, load_data, selected_folds

RATE_KEYS = ("TEER", "sTEER", "EERa", "sEERa")


def filter_rttm(src: Path, dialogs: set[str], dst: Path) -> Path:
    """The segments of ``src`` whose file id is one of ``dialogs``, written to ``dst`` (through ``teer.io``)."""
    return write_segments(dst, read_segments(src).select_files(dialogs))


def score_with_preset(reference: str | Path, hypothesis: str | Path, preset: str, *,
                      collar: float | None = None, regions: str | None = None,
                      emotions: list[str] | None = None) -> dict[str, Any]:
    """``teer.score`` with one preset: the report's total as a dict.

    ``collar`` / ``regions`` left as None take the preset's values. Bad input
    (``teer.InputError``) propagates; an unknown preset or an option the preset
    does not allow is a :class:`RecipeError`.
    """
    import teer

    try:
        report = teer.score(str(reference), str(hypothesis), preset=preset, collar=collar, regions=regions,
                            emotions=emotions)
    except teer.InputError:
        raise
    except ValueError as err:
        raise RecipeError(None, None, f"teer, preset {preset}: {err}") from None
    out = report.total.to_dict()
    if report.warnings:
        out["warnings"] = list(report.warnings)[:20]
    return out


def _pooled_rates(entries: list[dict]) -> dict[str, Any]:
    """Rates from the seconds summed over folds (the corpus-level figure)."""
    from teer.components import SECONDS, Components

    total = sum((Components(**{k: float(e[k]) for k in SECONDS}) for e in entries), Components())
    return {k: total[k] for k in (*RATE_KEYS, "DER")}


def score(cfg: RecipeConfig, data_dir: str | Path, out: str | Path, *, quiet: bool = False) -> dict[str, Any]:
    scfg = cfg.score
    labels = cfg.labels.names
    records, all_folds = load_data(data_dir)
    out = Path(out)
    fold_results = []
    for fold in selected_folds(cfg, all_folds):
        k = int(fold["fold"])
        fold_dir = out / f"fold{k}"
        eval_path = fold_dir / "eval.json"
        hyp_path = fold_dir / "hyp.json"
        for p in (eval_path, hyp_path):
            if not p.is_file():
                raise RecipeError(p, None, "missing; run `python -m recipes.iemocap evaluate` first")
        ev = json.loads(eval_path.read_text(encoding="utf-8"))
        dialogs = {r["dialog"] for r in records if r["session"] == fold["test_session"]}
        scores = {}
        for name, preset in scfg.presets.items():
            ref = filter_rttm(Path(data_dir) / preset.reference, dialogs, fold_dir / f"ref_{name}.rttm")
            entry = score_with_preset(ref, hyp_path, name, collar=scfg.collar_for(name),
                                      regions=scfg.regions_for(name),
                                      emotions=labels if scfg.restrict_to_labels else None)
            entry["reference"] = preset.reference
            scores[name] = entry
        fold_results.append({"fold": k, "test_session": fold["test_session"],
                             **{key: ev.get(key) for key in CLS_KEYS},
                             "confusion": ev.get("confusion"), "support": ev.get("support"),
                             "n_test": ev.get("n_test"), "n_turns": ev.get("n_turns"),
                             "turns": ev.get("turns"),
                             "checkpoint_epoch": ev.get("checkpoint_epoch"), "scores": scores})
    summary: dict[str, Any] = {key: mean_std([f[key] for f in fold_results]) for key in CLS_KEYS}
    summary["turns"] = {key: mean_std([(f["turns"] or {}).get(key) for f in fold_results]) for key in CLS_KEYS}
    summary["scores"] = {}
    for name in scfg.presets:
        entries = [f["scores"][name] for f in fold_results]
        summary["scores"][name] = {
            **{key: mean_std([e.get(key) for e in entries]) for key in RATE_KEYS},
            "pooled": _pooled_rates(entries),
        }
    results = {"config": cfg.path, "labels": labels, "folds": fold_results, "summary": summary,
               "pooled": pooled(cfg, data_dir, out, records, [f["fold"] for f in fold_results], all_folds)}
    atomic_write_json(out / "results.json", results)
    atomic_write_text(out / "report.md", markdown_report(results))
    if not quiet:
        print(markdown_report(results))
        print(f"wrote {out / 'results.json'} and {out / 'report.md'}")
    return results


def pooled(cfg: RecipeConfig, data_dir: str | Path, out: Path, records: list[dict], folds: list[int],
           all_folds: list[dict]) -> dict[str, Any]:
    """Every selected fold's test utterances and turns together (``OUT/pooled/``): classification
    metrics with per-class scores, teer's rates, and bootstrap intervals of UA and of each rate."""
    from teer.bootstrap import Settings

    from ..lib.statistics import pooled_classification, pooled_rates, read_predictions

    scfg = cfg.score
    labels = cfg.labels.names
    sessions = {int(f["fold"]): f["test_session"] for f in all_folds}
    dialogs = {r["dialog"] for r in records if r["session"] in {sessions[k] for k in folds}}
    predictions = [p for k in folds for p in read_predictions(out / f"fold{k}")]
    result = pooled_classification(predictions, labels, {r["id"]: r["dialog"] for r in records})
    pooled_dir = out / "pooled"
    pooled_dir.mkdir(parents=True, exist_ok=True)
    rows = [row for k in folds for row in json.loads((out / f"fold{k}" / "hyp.json").read_text(encoding="utf-8"))]
    hyp = write_turns(pooled_dir / "hyp.json", rows)
    result["scores"] = {}
    for name, preset in scfg.presets.items():
        ref = filter_rttm(Path(data_dir) / preset.reference, dialogs, pooled_dir / f"ref_{name}.rttm")
        result["scores"][name] = pooled_rates(ref, hyp, name, collar=scfg.collar_for(name),
                                              regions=scfg.regions_for(name),
                                              emotions=labels if scfg.restrict_to_labels else None)
    result["bootstrap"] = {**Settings().to_dict(len(dialogs)), "unit": "dialog (file)"}
    return result


def _pct(x) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def _ms(s: dict) -> str:
    if s.get("mean") is None:
        return "–"
    return f"{100 * s['mean']:.1f} ± {100 * s['std']:.1f}"


def markdown_report(results: dict[str, Any]) -> str:
    from teer import presets as teer_presets

    folds = results["folds"]
    presets = list(results["summary"]["scores"])
    lines = ["# IEMOCAP: RoBERTa + wav2vec2 (SER-Align model)", "",
             f"Config: `{results.get('config')}`; labels: {', '.join(results['labels'])}. "
             "All figures in %; mean ± std over folds (population std).", "",
             "## Utterance classification (test session of each fold)", "",
             "| fold | test session | WA | UA | macro F1 | weighted F1 |", "|---|---|---|---|---|---|"]
    for f in folds:
        lines.append(f"| {f['fold']} | {f['test_session']} | {_pct(f['WA'])} | {_pct(f['UA'])} | "
                     f"{_pct(f['macro_f1'])} | {_pct(f['weighted_f1'])} |")
    s = results["summary"]
    lines.append(f"| mean | | {_ms(s['WA'])} | {_ms(s['UA'])} | {_ms(s['macro_f1'])} | "
                 f"{_ms(s['weighted_f1'])} |")
    p = results.get("pooled")
    if p:
        ci = p["UA_interval"]
        lines.append(f"| pooled | | {_pct(p['WA'])} | {_pct(p['UA'])}"
                     f"{'' if ci is None else f' [{_pct(ci[0])}, {_pct(ci[1])}]'} | {_pct(p['macro_f1'])} | "
                     f"{_pct(p['weighted_f1'])} |")
        lines += ["", "Pooled: the test utterances of all folds together; UA's 95 % percentile bootstrap "
                  "interval resamples dialogs.", "", "| class | precision | recall | F1 | support |",
                  "|---|---|---|---|---|"]
        for lab, c in p["per_class"].items():
            lines.append(f"| {lab} | {_pct(c['precision'])} | {_pct(c['recall'])} | {_pct(c['f1'])} | {c['support']} |")
    lines += ["", "Confusion matrices: `fold*/confusion.json`, `fold*/confusion.png`.", "",
              "## Turn classification (test session's turns, labelled as SER-Align labels them)", "",
              "| fold | turns | WA | UA | macro F1 | weighted F1 |", "|---|---|---|---|---|---|"]
    for f in folds:
        t = f.get("turns") or {}
        lines.append(f"| {f['fold']} | {t.get('n', 0)} | {_pct(t.get('WA'))} | {_pct(t.get('UA'))} | "
                     f"{_pct(t.get('macro_f1'))} | {_pct(t.get('weighted_f1'))} |")
    st = s["turns"]
    lines += [f"| mean | | {_ms(st['WA'])} | {_ms(st['UA'])} | {_ms(st['macro_f1'])} | "
              f"{_ms(st['weighted_f1'])} |", ""]
    for name in presets:
        lines += [f"## teer, preset `{name}`", "",
                  "| fold | TEER | sTEER | EERa | sEERa |", "|---|---|---|---|---|"]
        for f in folds:
            e = f["scores"][name]
            lines.append(f"| {f['fold']} | " + " | ".join(_pct(e.get(k)) for k in RATE_KEYS) + " |")
        ss = s["scores"][name]
        lines.append("| mean | " + " | ".join(_ms(ss[k]) for k in RATE_KEYS) + " |")
        lines.append("| pooled | " + " | ".join(_pct(ss["pooled"][k]) for k in RATE_KEYS) + " |")
        if p and name in p["scores"]:
            cis = p["scores"][name]["intervals"]
            lines.append("| 95 % CI (files) | " + " | ".join(
                "–" if cis.get(k) is None else f"[{_pct(cis[k][0])}, {_pct(cis[k][1])}]" for k in RATE_KEYS) + " |")
        if teer_presets.get(name).non_target == "drop":  # the preset's own rule, not its name
            lines.append(f"\nUnder `{name}`, reference speech outside the label set is dropped, so system "
                         "turns there are false alarms: with turns on every utterance, TEER can exceed 100 %.")
        lines.append("")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_run_arguments(parser, "experiment directory (as for evaluate)")


def main(args: argparse.Namespace) -> int:
    import teer

    try:
        cfg = load_config(args.config, args.overrides)
        data = data_dir(cfg, args)
        score(cfg, data, args.out, quiet=args.quiet)
    except (RecipeError, teer.InputError) as err:
        return report_error(err)
    return 0
