"""``prepare``: read IEMOCAP; write utterances, scorer references and folds.

Outputs in OUT (published together; on error OUT is left as it was):

* ``utterances.jsonl``: every utterance, one JSON object a line: id, dialog,
  session, speaker, start, end, code (the corpus's own), emotion (its label in
  the configured set, or null), text, wav (sentence wav path), words
  ([WORD, start, end] in dialog time, or null without a wdseg file);
* ``ref_utterance.rttm``: every utterance with its boundaries (as SER-Align);
* ``ref_words.rttm``: every utterance's speech only, leading, trailing and
  between-word silences removed using the word alignments (as Wu et al.);
  utterances without alignment keep their boundaries;
* ``folds.json``: leave-one-session-out folds over the labelled utterances.

The references are written by ``teer.io``, as RTTM lines
``SPEAKER <dialog> 1 <onset> <dur> <emotion> <NA> <speaker> <NA> <NA>`` with the label for in-set utterances (exc written as hap in 4-class) and the
corpus code for the others (fru, xxx, ...), so ``teer score --emotions`` can
treat non-target speech as a no-score zone.
"""
from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

from ..config import RecipeConfig, add_config_arguments, label_names, load_config
from ..lib.corpus import Corpus, Utterance, read_corpus
from ..lib.io_utils import RecipeError, atomic_output_dir, read_jsonl, report_error, write_segments

if TYPE_CHECKING:
    from teer.segments import SegmentTable

UTTERANCE_FIELDS = ("id", "dialog", "session", "speaker", "start", "end", "code", "emotion",
                    "text", "wav", "words")
SESSION_IDS = tuple(f"Ses{i:02d}" for i in range(1, 6))


# --------------------------------------------------------------------------
# records, references, folds

def utterance_records(utterances: Iterable[Utterance], mapping: dict[str, str]) -> list[dict]:
    """The ``utterances.jsonl`` rows."""
    return [{
        "id": u.id, "dialog": u.dialog, "session": u.session, "speaker": u.speaker,
        "start": round(u.start, 4), "end": round(u.end, 4), "code": u.code,
        "emotion": mapping.get(u.code), "text": u.text, "wav": u.wav,
        "words": None if u.words is None else [[w, round(s, 4), round(e, 4)] for w, s, e in u.words],
    } for u in utterances]


def reference_label(record: dict) -> str:
    """RTTM label: the configured label, else the corpus's own code."""
    return record["emotion"] if record["emotion"] is not None else record["code"]


def speech_segments(record: dict, tol: float = 1e-6) -> list[tuple[float, float]]:
    """Speech of one utterance: its words with touching words merged.

    Without a word alignment the utterance boundaries are used.
    """
    words = record.get("words")
    if not words:
        return [(record["start"], record["end"])]
    segs: list[list[float]] = []
    for _, s, e in sorted(words, key=lambda w: (w[1], w[2])):
        if segs and s - segs[-1][1] <= tol:
            segs[-1][1] = max(segs[-1][1], e)
        else:
            segs.append([s, e])
    return [(s, e) for s, e in segs]


def reference_table(records: list[dict], words: bool) -> SegmentTable:
    """The ``ref_words.rttm`` (``words=True``) or ``ref_utterance.rttm`` segments."""
    from teer.io import from_records

    segments = []
    for r in sorted(records, key=lambda r: (r["dialog"], r["start"], r["id"])):
        label = reference_label(r)
        spans = speech_segments(r) if words else [(r["start"], r["end"])]
        segments.extend({"file": r["dialog"], "start": s, "end": e, "speaker": r["speaker"], "emotion": label}
                        for s, e in spans)
    return from_records(segments, source="<prepare>")


def make_folds(records: list[dict], seed: int, valid_fraction: float) -> list[dict]:
    """Leave-one-session-out folds over the labelled utterances.

    Fold k tests on session Ses0k; its validation set is drawn from the other
    four sessions, stratified by label, with a generator seeded by (seed, k).
    """
    if not 0 <= valid_fraction < 1:
        raise RecipeError(None, None, f"folds.valid_fraction must be in [0, 1), got {valid_fraction}")
    labelled = sorted((r for r in records if r["emotion"] is not None), key=lambda r: r["id"])
    folds = []
    for k, test_session in enumerate(SESSION_IDS, 1):
        test = [r["id"] for r in labelled if r["session"] == test_session]
        pool = [r for r in labelled if r["session"] != test_session]
        rng = np.random.default_rng([int(seed), k])
        valid: set[str] = set()
        for label in sorted({r["emotion"] for r in pool}):
            ids = [r["id"] for r in pool if r["emotion"] == label]
            n = int(round(valid_fraction * len(ids)))
            if n:
                valid.update(ids[i] for i in rng.choice(len(ids), size=n, replace=False))
        folds.append({
            "fold": k, "test_session": test_session,
            "train": [r["id"] for r in pool if r["id"] not in valid],
            "valid": sorted(valid), "test": test,
        })
    return folds


def count_table(records: list[dict], mapping: dict[str, str]) -> str:
    """Per-session x per-class counts of the labelled utterances, as text."""
    labels = label_names(mapping)
    counts = Counter((r["session"], r["emotion"]) for r in records if r["emotion"] is not None)
    width = max(6, *(len(lab) + 1 for lab in labels))
    head = "session".ljust(8) + "".join(lab.rjust(width) for lab in labels) + "total".rjust(8)
    rows = [head]
    for s in SESSION_IDS:
        cells = [counts[(s, lab)] for lab in labels]
        rows.append(s.ljust(8) + "".join(str(c).rjust(width) for c in cells) + str(sum(cells)).rjust(8))
    totals = [sum(counts[(s, lab)] for s in SESSION_IDS) for lab in labels]
    rows.append("total".ljust(8) + "".join(str(c).rjust(width) for c in totals)
                + str(sum(totals)).rjust(8))
    return "\n".join(rows)


# --------------------------------------------------------------------------
# the stage

def prepare(corpus_dir: str | Path, out: str | Path, cfg: RecipeConfig,
            verbose: bool = True) -> dict[str, Any]:
    """Read the corpus and write all outputs to ``out``; returns a summary."""
    mapping = cfg.labels.mapping
    corpus: Corpus = read_corpus(corpus_dir)
    records = utterance_records(corpus.utterances, mapping)
    folds = make_folds(records, seed=cfg.folds.seed, valid_fraction=cfg.folds.valid_fraction)
    with atomic_output_dir(out) as stage:
        (stage / "utterances.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        write_segments(stage / "ref_utterance.rttm", reference_table(records, words=False))
        write_segments(stage / "ref_words.rttm", reference_table(records, words=True))
        (stage / "folds.json").write_text(json.dumps(folds, indent=1) + "\n", encoding="utf-8")
    class_counts = dict(Counter(r["emotion"] for r in records if r["emotion"] is not None))
    session_counts = dict(Counter(r["session"] for r in records if r["emotion"] is not None))
    if verbose:
        for w in corpus.warnings:
            print(f"warning: {w}")
        print(f"{len(records)} utterances in {len(corpus.dialog_durations)} dialogs; "
              f"label set {'labels.map' if cfg.labels.map is not None else cfg.labels.set}: "
              f"{sum(class_counts.values())} labelled")
        print(count_table(records, mapping))
        print(f"wrote {Path(out) / 'utterances.jsonl'}, ref_utterance.rttm, ref_words.rttm, folds.json")
    return {"utterances": len(records), "classes": class_counts, "sessions": session_counts,
            "warnings": list(corpus.warnings)}


def load_utterances(out: str | Path) -> list[dict]:
    """Rows of ``OUT/utterances.jsonl``, each checked (see :func:`check_utterance`)."""
    path = Path(out) / "utterances.jsonl"
    if not path.is_file():
        raise RecipeError(path, None, "missing; run `python -m recipes.iemocap prepare` first")
    rows, seen = [], set()
    for number, row in read_jsonl(path):
        problem = check_utterance(row)
        if problem is None and row["id"] in seen:
            problem = f"utterance {row['id']!r} is listed twice"
        if problem is not None:
            raise RecipeError(path, number, f"{problem} (rerun prepare to rewrite the file)")
        seen.add(row["id"])
        rows.append(row)
    return rows


def check_utterance(row: Any) -> str | None:
    """What is wrong with one ``utterances.jsonl`` row as prepare writes it, or None."""
    if not isinstance(row, dict):
        return f"expected a JSON object, not {type(row).__name__}"
    missing = [k for k in UTTERANCE_FIELDS if k not in row]
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    for key in ("id", "dialog", "session", "speaker", "code", "text", "wav", "emotion"):
        value = row[key]
        if key == "emotion" and value is None:
            continue
        if not isinstance(value, str) or (not value and key not in ("text", "wav")):
            kind = "a label or null" if key == "emotion" else "a string" if key in ("text", "wav") \
                else "a non-empty string"
            return f"{key} must be {kind}, not {json.dumps(value)[:40]}"
        if not _is_unicode(value):
            return f"{key} is not valid Unicode (a lone surrogate)"
    if not (_is_time(row["start"]) and _is_time(row["end"]) and row["start"] <= row["end"]):
        return "start and end must be times in seconds, 0 <= start <= end"
    words = row["words"]
    if words is None:
        return None
    if not isinstance(words, list):
        return "words must be a list of [word, start, end] or null"
    for k, word in enumerate(words):
        if not (isinstance(word, list) and len(word) == 3 and isinstance(word[0], str)
                and _is_unicode(word[0])
                and _is_time(word[1]) and _is_time(word[2]) and word[1] <= word[2]):
            return f"words[{k}] must be [word, start, end] with 0 <= start <= end"
    return None


def _is_unicode(value: str) -> bool:
    """Whether ``value`` can be written back as UTF-8 (JSON can carry a lone surrogate)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_time(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def load_folds(out: str | Path) -> list[dict]:
    """``OUT/folds.json``."""
    path = Path(out) / "folds.json"
    if not path.is_file():
        raise RecipeError(path, None, "missing; run `python -m recipes.iemocap prepare` first")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise RecipeError(path, None, "not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise RecipeError(path, err.lineno, f"not JSON: {err.msg}") from None
    except (OSError, RecursionError) as err:
        raise RecipeError(path, None, f"cannot read: {err}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="output directory; default: prepare.out")
    add_config_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary output; errors are still printed")


def main(args: argparse.Namespace) -> int:
    try:
        cfg = load_config(args.config, args.overrides)
        corpus_dir = cfg.prepare.corpus
        out = args.out or cfg.prepare.out
        if not corpus_dir:
            raise RecipeError(args.config, None, "no corpus: set prepare.corpus (--set prepare.corpus=DIR)")
        if not out:
            raise RecipeError(args.config, None, "no output directory: give --out or set prepare.out")
        prepare(corpus_dir, out, cfg, verbose=not args.quiet)
    except RecipeError as err:
        return report_error(err)
    return 0
