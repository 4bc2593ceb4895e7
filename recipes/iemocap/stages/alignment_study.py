"""``alignment-study``: how the quality of word time stamps and speakers moves TEER.

    python -m recipes.iemocap alignment-study --data DATA --out DIR [--checkpoint FOLD_DIR]

The SER-Align question, as a command. Starting from the oracle words of
``prepare`` (wdseg alignments, reference speakers), each *factor* degrades the
alignment in seeded steps (the config's ``study.levels``; level 0 is the undegraded one):

* ``word_jitter``: every word moved by its own N(0, σ²) offset (σ in s);
* ``boundary_shift``: every word's start and end moved by their own uniform
  offset in [-δ, δ] s (the word keeps at least ``study.min_word``, 10 ms);
* ``word_drop`` / ``word_merge``: a share of the words deleted, or merged with
  the following word of the same speaker (at most ``study.merge_gap``, 0.3 s, later) into one timed
  word (ASR errors);
* ``speaker_words`` / ``speaker_turns``: a share of the words, or of the
  reference utterances (all their words), given the dialog's other speaker;
* ``turn_shift``: a diarization made of the reference utterances with each
  boundary moved by a uniform offset in [-δ, δ] s; words take its speakers
  through ``align.assign_speakers``;
* ``max_gap``: align's turn-building pause threshold swept (the configured
  value is the undegraded point).

For every setting the turns are rebuilt with align's own steps
(``align_words``), each turn gets an emotion, and teer scores the turns
against prepare's references under every preset of ``score.presets``
(``wu2023`` on ``ref_words.rttm``, ``ser-align`` on ``ref_utterance.rttm``),
with the label set as the scored emotions. Emotions:

* oracle (default): the label of the reference utterance the turn overlaps
  most (none overlapping: the nearest one):
  what alignment alone costs, no model; all dialogs of the corpus. Turns
  whose oracle emotion is outside the label set are left out of the
  hypothesis (the scorer does not score that speech either);
* model (``--checkpoint OUT/fold{k} ...``, with the ``--config`` it was trained
  with): the trained model classifies each rebuilt turn as ``evaluate`` does
  (the dialog recording over the turn's span and the degraded words, read as
  ``inputs:`` says); the dialogs of the fold's test session only.

Several runs (``study.seeds``, one per run; ``--checkpoint`` one model per run, e.g. the
same fold trained with three seeds) give the mean and standard deviation of every
figure. Each level is also measured: the DER of the rebuilt turns (teer's, under
each preset) and the word boundary error (WBE, the mean absolute start and end
error of the words against their reference times).

Writes to OUT: ``alignment_study.csv`` (one row per run, factor, level and preset:
seed, turns, WBE, TEER, sTEER, EERa, sEERa, DER, the missed and false-alarm shares),
``alignment_study.md`` (a table per factor, mean ± std over runs) and ``<factor>.png``
(the five rates against the degradation, one panel per preset, mean and a band of one
standard deviation, the undegraded point circled, the measured DER and WBE under each
level).
"""
from __future__ import annotations

import argparse
import copy
import csv
import io
import sys
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from teer.components import RATES as TEER_RATES

from .align import Word, align_words, oracle_words, turns_to_seglst
from ..config import RecipeConfig, ScoreConfig, StudyConfig, add_config_arguments, data_dir, load_config
from ..lib.io_utils import RecipeError, atomic_write_text, read_segments, report_error, seglst_table
from .prepare import load_utterances
from .common import ensure_models, quiet_libraries

if TYPE_CHECKING:
    from teer.segments import SegmentTable

#: the rates teer reports (defined once, in teer.components)
RATES = tuple(TEER_RATES)
EXTRA = ("missed", "false_alarm")   # shares of the scored reference time, in the CSV
#: factor -> its axis label; the levels are the config's (``study.levels``)
FACTORS: dict[str, str] = {
    "word_jitter": "word time jitter σ (s)",
    "boundary_shift": "word boundary shift δ (s)",
    "word_drop": "share of words dropped",
    "word_merge": "share of words merged with the next",
    "speaker_words": "share of words given the wrong speaker",
    "speaker_turns": "share of turns given the wrong speaker",
    "turn_shift": "diarization turn boundary shift δ (s)",
    "max_gap": "align.max_gap (s)",
}


# --------------------------------------------------------------------------
# degradations: words (per dialog) -> words, seeded, the input left as it was

def _copy(words: dict[str, list[Word]]) -> dict[str, list[Word]]:
    return {d: [copy.copy(w) for w in ws] for d, ws in words.items()}


def _other_speaker(speakers: Sequence[str], speaker: str, rng: np.random.Generator) -> str:
    others = [s for s in speakers if s != speaker]
    return str(rng.choice(others)) if others else speaker


def degrade(words: dict[str, list[Word]], factor: str, level: float, rng: np.random.Generator,
            records: Sequence[dict] = (), study: StudyConfig | None = None
            ) -> tuple[dict[str, list[Word]], dict | None]:
    """Degraded copy of ``words`` and the diarization to assign speakers with (or None);
    ``study`` (default: its defaults) gives the shortest word and the longest merged pause."""
    study = study or StudyConfig()
    out = _copy(words)
    if factor in ("max_gap",) or level == 0:
        return out, None
    for dialog, ws in out.items():
        speakers = sorted({w.speaker for w in ws if w.speaker})
        if factor == "word_jitter":
            for w in ws:
                d = float(rng.normal(0.0, level))
                w.start, w.end = max(0.0, w.start + d), max(0.0, w.end + d)
        elif factor == "boundary_shift":
            for w in ws:
                s = w.start + float(rng.uniform(-level, level))
                e = w.end + float(rng.uniform(-level, level))
                w.start = max(0.0, s)
                w.end = max(w.start + study.min_word, e)
        elif factor == "word_drop":
            keep = rng.random(len(ws)) >= level
            if not keep.any():
                keep[int(rng.integers(len(ws)))] = True
            out[dialog] = [w for w, k in zip(ws, keep) if k]
        elif factor == "word_merge":
            merged: list[Word] = []
            for w in ws:
                prev = merged[-1] if merged else None
                # ASR runs two neighbouring words of one speaker together; never across a pause
                if prev is not None and prev.speaker == w.speaker and 0 <= w.start - prev.end <= study.merge_gap \
                        and "+" not in prev.word and rng.random() < level:
                    prev.word, prev.end = f"{prev.word}+{w.word}", max(prev.end, w.end)
                    if getattr(prev, "ref", None) is not None:   # it carries both words now
                        prev.ref = (prev.ref[0], max(prev.ref[1], w.ref[1]))
                else:
                    merged.append(w)
            out[dialog] = merged
        elif factor == "speaker_words":
            for w in ws:
                if rng.random() < level:
                    w.speaker = _other_speaker(speakers, w.speaker, rng)
        elif factor == "speaker_turns":
            utts = sorted((r for r in records if r["dialog"] == dialog), key=lambda r: r["start"])
            wrong = {r["id"] for r in utts if rng.random() < level}
            for w in ws:
                if _utterance_of(w, utts) in wrong:
                    w.speaker = _other_speaker(speakers, w.speaker, rng)
        elif factor != "turn_shift":
            raise ValueError(f"unknown factor {factor!r}")
    if factor == "turn_shift":
        diar: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
        for r in records:
            s = float(r["start"]) + float(rng.uniform(-level, level))
            e = float(r["end"]) + float(rng.uniform(-level, level))
            if e > s:
                diar[r["dialog"]].append((max(0.0, s), e, r["speaker"]))
        return out, dict(diar)
    return out, None


def _utterance_of(w: Word, utts: Sequence[dict]) -> str | None:
    """The utterance of the word's own speaker containing its midpoint."""
    mid = (w.start + w.end) / 2
    for r in utts:
        if r["speaker"] == w.speaker and r["start"] - 1e-6 <= mid <= r["end"] + 1e-6:
            return r["id"]
    return None


# --------------------------------------------------------------------------
# emotions for the rebuilt turns

def oracle_emotions(rows: list[dict], records: Sequence[dict], labels: Sequence[str]) -> list[str]:
    """Per turn: the label (or, outside the label set, the code) of the reference
    utterance it overlaps most (of its own speaker on a tie), else of the nearest."""
    by_dialog: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_dialog[r["dialog"]].append(r)
    out = []
    for row in rows:
        s, e = row["start_time"], row["end_time"]
        utts = by_dialog[row["session_id"]]

        def overlap(r):
            return min(e, r["end"]) - max(s, r["start"])

        pool = [r for r in utts if overlap(r) > 0]
        if pool:
            best = max(pool, key=lambda r: (overlap(r), r["speaker"] == row["speaker"]))
        else:
            best = min(utts, key=lambda r: max(r["start"] - e, s - r["end"]))
        out.append(best.get("emotion") or best["code"])
    return out


class ModelLabeller:
    """The trained model of one fold, classifying rebuilt turns."""

    def __init__(self, cfg: RecipeConfig, data: Path, fold_dir: Path, quiet: bool = True):
        fold_dir = Path(fold_dir)
        which = cfg.evaluate.checkpoint
        ck_path = fold_dir / f"{which}.pt"
        if not ck_path.is_file():
            raise RecipeError(ck_path, None, "missing: --checkpoint must name a trained fold directory "
                              "(OUT/fold{k} of `train`)")
        from ..lib.data import Collator
        from ..lib.model import build_model, load_tokenizer
        from ..lib.checkpoint import load_checkpoint
        from ..lib.runtime import setup_runtime

        ck = load_checkpoint(ck_path)
        self.labels = list(ck.get("labels") or cfg.labels.names)
        self.rt = setup_runtime(cfg.train).alone()
        model_cfg = ensure_models(cfg, data, fold_dir.parent)
        self.model = build_model(model_cfg, num_classes=len(self.labels))
        self.model.load_state_dict(ck["model"])
        self.model.to(self.rt.device).eval()
        self.collate = Collator(load_tokenizer(model_cfg), max_tokens=model_cfg.text.max_tokens)
        self.max_seconds = model_cfg.audio.max_seconds
        self.inputs = cfg.inputs
        self.batch_size = cfg.evaluate.batch_size
        self.fold = int(ck.get("fold") or fold_dir.name.removeprefix("fold") or 0)
        self.quiet = quiet

    def __call__(self, rows: list[dict], by_id: dict[str, dict]) -> list[str]:
        from ..lib.data import turn_examples
        from ..lib.runtime import classify

        if not rows:
            return []
        examples = turn_examples(rows, by_id, self.inputs)
        logits = classify(self.model, examples, self.collate, self.rt, seconds=self.max_seconds,
                          hop=self.inputs.window_hop, batch_size=self.batch_size)
        pred = logits.argmax(1)
        return [self.labels[int(p)] for p in pred]


# --------------------------------------------------------------------------
# the study

def score_rows(rows: list[dict], references: dict[str, SegmentTable], scfg: ScoreConfig,
               labels: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """teer under each preset of ``score.presets``: ``{preset: {TEER, sTEER, EERa, sEERa, DER}}``."""
    import teer

    hyp = seglst_table(rows)
    out = {}
    for name in scfg.presets:
        report = teer.score(references[name], hyp, preset=name, collar=scfg.collar_for(name),
                            regions=scfg.regions_for(name), emotions=list(labels))
        total = report.total.to_dict()
        scored = total["TOTAL"] or None
        out[name] = {**{k: total[k] for k in RATES},
                     "missed": total["MS"] / scored if scored else None,
                     "false_alarm": total["FA"] / scored if scored else None}
    return out


def word_boundary_error(words: dict[str, list[Word]]) -> float | None:
    """Seconds: the mean of |start - reference start| and |end - reference end| over the words
    that carry a reference word (``Word.ref``, set before degrading; a merged word carries its
    first word's start and its last word's end, a dropped word is not counted)."""
    errors = [abs(w.start - w.ref[0]) + abs(w.end - w.ref[1])
              for ws in words.values() for w in ws if getattr(w, "ref", None) is not None]
    return float(np.mean(errors) / 2) if errors else None


def _study_run(cfg: RecipeConfig, data: Path, records: list[dict], factors: list[str], seed: int,
               labeller, quiet: bool) -> list[dict]:
    """One run of the grid (every factor and level, degradations seeded with ``seed``)."""
    labels = labeller.labels if labeller else cfg.labels.names
    max_gap0, min_overlap = cfg.align.max_gap, cfg.align.min_overlap
    dialogs = {r["dialog"] for r in records}
    references = {name: read_segments(data / p.reference).select_files(dialogs)
                  for name, p in cfg.score.presets.items()}
    by_id = {r["id"]: r for r in records}
    words = oracle_words(records)
    for ws in words.values():
        for w in ws:
            w.ref = (w.start, w.end)   # what word_boundary_error measures against
    rows: list[dict] = []
    for f_index, factor in enumerate(factors):
        levels = cfg.study.levels[factor]
        if factor == "max_gap" and max_gap0 not in levels:
            levels = sorted([*levels, max_gap0])
        for level in levels:
            rng = np.random.default_rng([seed, f_index, int(round(level * 1000))])
            degraded, diar = degrade(words, factor, level, rng, records, cfg.study)
            wbe = word_boundary_error(degraded)
            max_gap = level if factor == "max_gap" else max_gap0
            turns = align_words(degraded, records, diar, max_gap, min_overlap)
            seglst = turns_to_seglst(turns)
            if labeller:
                emotions = labeller(seglst, by_id)
            else:
                # a turn on non-target speech (fru, xxx, ...) is left out, as the reference leaves
                # that speech out (ser-align) or unscored (wu2023): the oracle knows it is not scored
                emotions = oracle_emotions(seglst, records, labels)
            for row, emo in zip(seglst, emotions):
                row["emotion"] = emo
            seglst = [row for row in seglst if row["emotion"] in labels]
            scores = score_rows(seglst, references, cfg.score, labels)
            undegraded = level == (max_gap0 if factor == "max_gap" else 0.0)
            for name, sc in scores.items():
                rows.append({"factor": factor, "level": level, "undegraded": undegraded, "preset": name,
                             "emotions": "model" if labeller else "oracle", "seed": seed,
                             "turns": len(seglst), "WBE": wbe, **{k: sc[k] for k in (*RATES, *EXTRA)}})
        if not quiet:
            print(f"seed {seed}, {factor}: {len(levels)} levels", file=sys.stderr, flush=True)
    return rows


def alignment_study(cfg: RecipeConfig, data: str | Path, out: str | Path, *,
                    checkpoint: str | Path | Sequence[str | Path] | None = None,
                    factors: Sequence[str] | None = None, seed: int | Sequence[int] | None = None,
                    quiet: bool = False) -> list[dict]:
    """Run the study; write the CSV, Markdown and figures to ``out``; return the CSV rows.

    ``checkpoint``: one or more trained fold directories (the same fold: several training
    seeds); ``factors`` (default ``study.factors``, else every factor of ``study.levels``);
    ``seed``: one or more degradation seeds (default ``study.seeds``). Run k uses checkpoint k
    and seed k (one checkpoint: every seed with it; none: oracle emotions, every seed); the
    tables and figures show the mean and the standard deviation over the runs."""
    data, out = Path(data), Path(out)
    factors = list(factors or cfg.study.factors or cfg.study.levels)
    unknown = [f for f in factors if f not in cfg.study.levels]
    if unknown:
        raise RecipeError(None, None, f"unknown factor {unknown[0]!r} (choose from {', '.join(cfg.study.levels)})")
    checkpoints = [] if checkpoint is None else \
        [checkpoint] if isinstance(checkpoint, (str, Path)) else list(checkpoint)
    seeds = list(cfg.study.seeds) if seed is None else [seed] if isinstance(seed, int) else list(seed)
    if len(checkpoints) > 1 and len(seeds) == 1:
        seeds = [seeds[0] + k for k in range(len(checkpoints))]
    if len(checkpoints) > 1 and len(seeds) != len(checkpoints):
        raise RecipeError(None, None, f"{len(checkpoints)} checkpoints need as many seeds, not {len(seeds)}")
    records = load_utterances(data)
    runs = [(checkpoints[min(k, len(checkpoints) - 1)] if checkpoints else None, s) for k, s in enumerate(seeds)]
    rows: list[dict] = []
    mode = "oracle"
    folds = {int(f["fold"]): f for f in _load_folds(data)} if checkpoints else {}
    for ck, s in runs:
        labeller = None
        run_records = records
        if ck is not None:
            labeller = ModelLabeller(cfg, data, Path(ck), quiet=quiet)
            if labeller.fold not in folds:
                raise RecipeError(ck, None, f"fold {labeller.fold} is not in {data / 'folds.json'}")
            session = folds[labeller.fold]["test_session"]
            run_records = [r for r in records if r["session"] == session]
            mode = f"model (fold {labeller.fold}, {session})"
        rows += _study_run(cfg, data, run_records, factors, s, labeller, quiet)
    write_outputs(rows, out, f"{mode}, {len(runs)} run{'s' if len(runs) > 1 else ''}")
    if not quiet:
        print(f"wrote {out / 'alignment_study.csv'}, {out / 'alignment_study.md'} and "
              f"{len(factors)} figures")
    return rows


def _load_folds(data: Path) -> list[dict]:
    from .prepare import load_folds

    return load_folds(data)


def _fmt(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}"


def summarise(rows: list[dict]) -> list[dict]:
    """One row per (factor, level, preset): mean and population std over the runs of every
    rate, of ``WBE`` and of ``turns`` (``<key>`` the mean, ``<key>_std`` the spread)."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["factor"], r["level"], r["preset"])].append(r)
    out = []
    for (factor, level, preset), rs in groups.items():
        row = {"factor": factor, "level": level, "preset": preset, "undegraded": rs[0]["undegraded"],
               "runs": len(rs)}
        for k in (*RATES, *EXTRA, "WBE", "turns"):
            vals = [r[k] for r in rs if r.get(k) is not None]
            row[k] = float(np.mean(vals)) if vals else None
            row[f"{k}_std"] = float(np.std(vals)) if vals else None
        out.append(row)
    return out


def write_outputs(rows: list[dict], out: Path, mode: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    fields = ["factor", "level", "undegraded", "preset", "emotions", "seed", "turns", "WBE", *RATES, *EXTRA]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, **{k: "" if r[k] is None else f"{r[k]:.6f}" for k in (*RATES, *EXTRA, "WBE")}})
    atomic_write_text(out / "alignment_study.csv", buf.getvalue())
    summary = summarise(rows)
    runs = max((r["runs"] for r in summary), default=1)
    spread = " ± the standard deviation over the runs" if runs > 1 else ""
    md = ["# Alignment study", "",
          f"Emotions: {mode}. Rates in %, mean{spread}; **bold** level: undegraded. DER is the "
          "rebuilt turns' own under each preset; WBE, the word boundary error (s): the mean "
          "|start - reference| and |end - reference| of the words.", ""]
    by_factor: dict[str, list[dict]] = defaultdict(list)
    for r in summary:
        by_factor[r["factor"]].append(r)
    presets = list(dict.fromkeys(r["preset"] for r in summary))
    for factor, frows in by_factor.items():
        md += [f"## {factor}: {FACTORS[factor]}", "",
               "| level | WBE (s) | turns | " + " | ".join(f"{k} {p}" for p in presets for k in RATES) + " |",
               "|---|---|---|" + "---|" * (len(RATES) * len(presets))]
        for level in dict.fromkeys(r["level"] for r in frows):
            lrows = {r["preset"]: r for r in frows if r["level"] == level}
            first = next(iter(lrows.values()))
            name = f"**{level:g}**" if first["undegraded"] else f"{level:g}"
            wbe = "–" if first["WBE"] is None else f"{first['WBE']:.3f}"
            md.append(f"| {name} | {wbe} | {first['turns']:.0f} | "
                      + " | ".join(_ms(lrows[p][k], lrows[p][f"{k}_std"], runs > 1)
                                   for p in presets for k in RATES) + " |")
        md.append("")
        plot_factor(frows, presets, out / f"{factor}.png", mode)
    atomic_write_text(out / "alignment_study.md", "\n".join(md))


def _ms(mean: float | None, std: float | None, spread: bool) -> str:
    if mean is None:
        return "–"
    return f"{100 * mean:.1f} ± {100 * std:.1f}" if spread else f"{100 * mean:.1f}"


def plot_factor(rows: list[dict], presets: list[str], path: Path, mode: str) -> None:
    """The rates against the degradation, one panel per preset: the mean over runs, a band of
    ± one standard deviation, the undegraded point circled; under each level on the x axis the
    measured DER of the rebuilt turns and their word boundary error."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..lib.io_utils import atomic_write

    factor = rows[0]["factor"]
    fig, axes = plt.subplots(1, len(presets), figsize=(5.6 * len(presets), 4.4), sharey=True, squeeze=False)
    for ax, preset in zip(axes[0], presets):
        prow = [r for r in rows if r["preset"] == preset]
        x = np.arange(len(prow))    # evenly spaced levels: the labels carry the measured quality
        for k, marker in zip(RATES, "osD^v"):
            y = np.array([np.nan if r[k] is None else 100 * r[k] for r in prow])
            sd = np.array([0.0 if r[f"{k}_std"] is None else 100 * r[f"{k}_std"] for r in prow])
            ax.plot(x, y, marker=marker, ms=4, label=k)
            ax.fill_between(x, y - sd, y + sd, alpha=0.15)
            for xx, r, yy in zip(x, prow, y):
                if r["undegraded"]:
                    ax.plot([xx], [yy], "o", ms=11, mfc="none", mec="black")
        ax.set_xticks(x, [f"{r['level']:g}\nDER {_fmt(r['DER'])}\nWBE "
                          + ("–" if r["WBE"] is None else f"{r['WBE']:.2f}") for r in prow], fontsize=7)
        ax.set_title(f"{preset}")
        ax.set_xlabel(f"{FACTORS[factor]}; measured DER (%) and word boundary error (s)", fontsize=8)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("%  (mean ± std over runs; circled: undegraded)")
    axes[0][-1].legend(fontsize=8)
    fig.suptitle(f"{factor} — emotions: {mode}", fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))


# --------------------------------------------------------------------------
# command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "YAML config laid over the defaults (with --checkpoint: the one the fold "
                                 "was trained with; default: %(default)s)")
    parser.add_argument("--data", type=Path, help="prepare's output directory (default: prepare.out)")
    parser.add_argument("--out", type=Path, required=True, help="where the table and figures go")
    parser.add_argument("--checkpoint", type=Path, nargs="+",
                        help="trained fold directories (OUT/fold{k}, one per training seed): the model "
                             "gives the emotions")
    parser.add_argument("-q", "--quiet", action="store_true")


def main(args: argparse.Namespace) -> int:
    import teer

    if args.quiet and args.checkpoint:   # only the model path loads transformers
        quiet_libraries()
    try:
        cfg = load_config(args.config, args.overrides)
        alignment_study(cfg, data_dir(cfg, args), args.out, checkpoint=args.checkpoint, quiet=args.quiet)
    except (RecipeError, teer.InputError) as err:
        return report_error(err)
    return 0
