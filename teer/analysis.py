"""Where the errors are: the emotion confusion matrix and per-speaker / per-emotion breakdowns.

Everything is computed from one scoring run (``teer.api.run``), over the same
scored regions as the report, in seconds.

**Confusion matrix** (reference emotion x hypothesis emotion, plus a *missed*
column and a *false alarm* row). In each scored region of length *d*, let
``r_e`` and ``h_e`` be the numbers of active reference and hypothesis speakers
with emotion *e* (a speaker active without an emotion has the label ``<none>``,
which is never right; a speaker active with *k* emotions at once, from
overlapping segments of its own, counts 1/k for each).

* *Right:* ``m_e = min(r_e, h_e)`` of them are paired: cell [e, e] += d·m_e.
  So the diagonal adds up to AGREE − CONF_emo: TEER pairs speakers by emotion,
  whoever they are. In a region where a speaker has several emotions at once,
  the speakers are paired as the rates pair them instead (a largest matching of
  speakers that agree, ``teer.engine.agrees``: every emotion of the hypothesis
  speaker is one of the reference speaker's); a right pair adds d/k to [e, e]
  for each of the hypothesis speaker's k emotions, and its reference speaker
  counts for those emotions only (the reference allowed any of its own). A
  hypothesis speaker left unpaired with several emotions at once is one
  speaker of the label ``<several>`` (so that its wrong time is never on the
  diagonal); the speakers left unpaired are spread as below.
* *Confused:* of the ``R = n_ref − Σm`` unpaired reference and ``H = n_hyp − Σm``
  unpaired hypothesis speakers, ``k = min(n_ref, n_hyp) − Σm`` pairs are
  confusions; which emotion meets which is not determined by the counts, so the
  pairs are spread in proportion: cell [e, f] += d·k·r'_e·h'_f / (R·H), where
  ``r'_e = r_e − m_e`` and ``h'_f = h_f − m_f``. (Exact whenever either side has
  at most one unpaired emotion, as with at most two speakers.)
* *Missed:* the other R − k reference speakers: missed[e] += d·(R − k)·r'_e / R.
* *False alarm:* the other H − k hypothesis speakers: fa[f] += d·(H − k)·h'_f / H.

Identities (tested): each row plus its missed cell sums to the reference time of
that emotion (all rows: TOTAL); the missed column sums to MS, the false-alarm
row to FA, the off-diagonal cells to CONF_emo, so that
TEER = (off-diagonal + missed + false alarm) / TOTAL. (A reference speaker with
several emotions at once that is paired counts for the emotions of the pairing,
above: its rows then hold its time as the pairing split it.)

**Per reference speaker** (file, speaker): its scored speech TOTAL, and its share
of the regions' MS and CONF_emo above (each unpaired speaker of emotion *e* gets
an equal share; a speaker paired where someone has several emotions at once is
right for the whole region); ``ERR = MS + CONF_emo``; ``CORRECT_emo_spk`` is
the time its mapped hypothesis speaker is active and agrees with it on the
emotion (``teer.engine.agrees``), and ``sERR = TOTAL − CORRECT_emo_spk``. False alarms belong to no reference speaker
and are one row of their own, so that Σ ERR + FA is TEER's numerator and
Σ sERR + FA is sTEER's.

**Per reference emotion**: its row of the matrix: TOTAL, CORRECT (diagonal),
CONF (rest of the row), MS (missed cell), ``ERR = CONF + MS``; and its column:
HYP (hypothesis time with that emotion, false alarms included), FA (false-alarm
cell), ``recall = CORRECT / TOTAL``, ``precision = CORRECT / HYP``.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from . import engine, ticks
from .intervals import expand, merge

NONE_LABEL = "<none>"
#: the column of hypothesis speakers with several emotions at once that are not right
SEVERAL_LABEL = "<several>"
MISSED = "(missed)"
FALSE_ALARM = "(false alarm)"
#: the views ``teer analyze`` shows by default
VIEWS = ("confusion", "speaker", "emotion")
#: every view, the speaker mapping (``--view mapping``) included
ALL_VIEWS = VIEWS + ("mapping",)
#: the most emotion labels a confusion matrix takes: its per-region counts are regions x labels
#: (100,000 labels asked for 74 GB)
MAX_LABELS = 1000


@dataclass
class Confusion:
    """Seconds per [reference label, hypothesis label], plus missed and false alarm."""

    labels: list[str]
    matrix: np.ndarray  # (L, L)
    missed: np.ndarray  # (L,) per reference label
    false_alarm: np.ndarray  # (L,) per hypothesis label

    def to_dict(self) -> dict:
        return {
            "labels": list(self.labels),
            "matrix": {r: {h: float(self.matrix[i, j]) for j, h in enumerate(self.labels)}
                       for i, r in enumerate(self.labels)},
            "missed": {r: float(v) for r, v in zip(self.labels, self.missed)},
            "false_alarm": {h: float(v) for h, v in zip(self.labels, self.false_alarm)},
        }


@dataclass
class Analysis:
    """The confusion matrix and both breakdowns of one scoring run."""

    confusion: Confusion
    speakers: list[dict]  # rows: file, speaker, TOTAL, CORRECT, CONF_emo, MS, ERR, CORRECT_emo_spk, sERR
    false_alarm: float
    emotions: list[dict]  # rows: emotion, TOTAL, CORRECT, CONF, MS, ERR, HYP, FA, recall, precision
    #: rows: file, hypothesis speaker, the reference speaker it is mapped to (None: none)
    mapping: list[dict] = field(default_factory=list)

    def to_dict(self, views=VIEWS) -> dict:
        out: dict = {}
        if "confusion" in views:
            out["confusion"] = self.confusion.to_dict()
        if "speaker" in views:
            out["speakers"] = {"rows": self.speakers, "false_alarm": self.false_alarm}
        if "emotion" in views:
            out["emotions"] = {"rows": self.emotions}
        if "mapping" in views:
            out["mapping"] = {"rows": self.mapping}
        return out

    def to_dataframe(self, view: str = "confusion"):
        """One view as a ``pandas.DataFrame`` with the columns and figures of its CSV
        (seconds unrounded; a column named ``... %`` in percent; ``NaN`` where not
        available): the confusion matrix is indexed by reference label, with the missed and
        TOTAL columns and the false-alarm row."""
        import pandas as pd

        if view not in ALL_VIEWS:
            raise ValueError(f"view must be one of {', '.join(ALL_VIEWS)}, not {view!r}")
        header, rows = _ROWS[view](self)
        frame = pd.DataFrame([[float("nan") if v is None else v if isinstance(v, str)
                               else 100 * float(v) if k.endswith("%") else float(v)
                               for k, v in zip(header, row)] for row in rows], columns=header)
        if view == "confusion":
            frame = frame.set_index(header[0])
        return frame


def analyze(scoring) -> Analysis:
    """Confusion matrix and breakdowns of a ``teer.api.Scoring`` (from ``teer.api.run``)."""
    return combine([part(scoring.sweep, (scoring.ref, scoring.hyp))], scoring.report.speaker_mapping)


@dataclass
class Part:
    """The analysis of one sweep (one batch of files): its matrix with its labels, and its
    speakers' rows. The parts of batches add up (``combine``)."""

    labels: list[str]
    matrix: np.ndarray
    missed: np.ndarray
    false_alarm: np.ndarray
    speakers: list[dict]


#: the labels that are no emotion, last in a matrix in this order
SPECIAL_LABELS = (NONE_LABEL, SEVERAL_LABEL)


def combine(parts: list[Part], mapping: dict[str, dict[str, str | None]]) -> Analysis:
    """The analysis of all files from the parts of their batches (emotions in first-seen
    order, then ``<none>`` and ``<several>``), with the report's speaker mapping."""
    labels = list(dict.fromkeys(label for p in parts for label in p.labels if label not in SPECIAL_LABELS))
    labels += [label for label in SPECIAL_LABELS if any(label in p.labels for p in parts)]
    if len(parts) == 1 and parts[0].labels == labels:
        only = parts[0]
        confusion = Confusion(labels, only.matrix, only.missed, only.false_alarm)
    else:
        at = {label: i for i, label in enumerate(labels)}
        n = len(labels)
        confusion = Confusion(labels, np.zeros((n, n)), np.zeros(n), np.zeros(n))
        for p in parts:
            idx = np.asarray([at[label] for label in p.labels], np.intp)
            confusion.matrix[np.ix_(idx, idx)] += p.matrix
            confusion.missed[idx] += p.missed
            confusion.false_alarm[idx] += p.false_alarm
    speakers = sorted((row for p in parts for row in p.speakers), key=lambda r: (r["file"], r["speaker"]))
    return Analysis(confusion, speakers, float(confusion.false_alarm.sum()), _by_emotion(confusion),
                    mapping_rows(mapping))


def part(sweep, tables) -> Part:
    """The analysis of one sweep, ``tables`` the (reference, hypothesis) it swept: what
    ``teer.api.analyze_batches`` keeps of each batch (``teer analyze``, ``teer plot``)."""
    n_emotions = len(sweep.emotions)
    if n_emotions > MAX_LABELS:
        raise ValueError(f"{n_emotions:,} distinct emotion labels: the confusion matrix takes at most "
                         f"{MAX_LABELS:,} (are these emotions? --emotion-map merges labels)")
    n_labels = n_emotions + 2  # the last labels are <none> and <several>
    keep = np.flatnonzero(sweep.scored & (sweep.duration > 0) & ((sweep.n_ref + sweep.n_hyp) > 0))
    d = sweep.duration[keep] / ticks.TICKS_PER_SECOND
    n_ref = sweep.n_ref[keep].astype(float)
    n_hyp = sweep.n_hyp[keep].astype(float)

    ref_counts, ref_pairs = _label_counts(sweep.ref, keep, n_labels)
    hyp_counts, hyp_pairs = _label_counts(sweep.hyp, keep, n_labels)

    paired = np.zeros_like(ref_counts)
    paired[:, :n_emotions] = np.minimum(ref_counts[:, :n_emotions], hyp_counts[:, :n_emotions])
    ref_left = ref_counts - paired
    hyp_left = hyp_counts - paired
    # per (speaker, region, label) entry of the reference, the part of it that is right
    ref_speaker, ref_pos, ref_lab, _ = ref_pairs
    with np.errstate(divide="ignore", invalid="ignore"):
        entry_right = np.where(ref_counts > 0, paired / ref_counts, 0.0)[ref_pos, ref_lab]
    _pair_exactly(ref_pairs, hyp_pairs, n_emotions, paired, ref_left, hyp_left, entry_right)
    matched = paired.sum(axis=1)
    r_left = np.maximum(n_ref - matched, 0.0)
    h_left = np.maximum(n_hyp - matched, 0.0)
    confused = np.maximum(np.minimum(n_ref, n_hyp) - matched, 0.0)

    with np.errstate(divide="ignore", invalid="ignore"):
        conf_weight = np.where(r_left * h_left > 0, d * confused / (r_left * h_left), 0.0)
        missed_share = np.where(r_left > 0, (r_left - confused) / r_left, 0.0)
        conf_share = np.where(r_left > 0, confused / r_left, 0.0)
        fa_share = np.where(h_left > 0, (h_left - confused) / h_left, 0.0)
    matrix = (ref_left * conf_weight[:, None]).T @ hyp_left
    matrix[np.diag_indices(n_labels)] += (paired * d[:, None]).sum(axis=0)
    missed = (ref_left * (d * missed_share)[:, None]).sum(axis=0)
    false_alarm = (hyp_left * (d * fa_share)[:, None]).sum(axis=0)

    used = (matrix.sum(0) + matrix.sum(1) + missed + false_alarm) > 0
    used[:n_emotions] = True  # every emotion of either side, even if only in unscored time
    idx = np.flatnonzero(used)
    labels = [sweep.emotions[i] if i < n_emotions else (NONE_LABEL, SEVERAL_LABEL)[i - n_emotions] for i in idx]
    speakers = _by_speaker(sweep, tables[0], keep, d, entry_right, missed_share, conf_share,
                           ref_pairs, hyp_pairs, n_emotions, n_labels)
    return Part(labels, matrix[np.ix_(idx, idx)], missed[idx], false_alarm[idx], speakers)


def mapping_rows(mapping: dict[str, dict[str, str | None]]) -> list[dict]:
    """The speaker mapping of a report (``Report.speaker_mapping``) as rows, by file."""
    return [{"file": name, "hypothesis": hyp, "reference": ref}
            for name in sorted(mapping) for hyp, ref in mapping[name].items()]


def literal_emotions_note(scoring) -> list[str]:
    """The note the analyses carry under a preset that maps emotion labels per file (ser-align)."""
    from .presets import PRESETS
    from .protocols import get

    if not get(PRESETS[scoring.report.settings["preset"]].protocol).maps_emotions:
        return []
    return ["emotions are compared literally here: the preset's CONF_emo maps them per file first, "
            "so the matrix does not add up to its TEER"]


def _label_counts(side: engine.Side, keep: np.ndarray, n_labels: int):
    """Per kept region and label, the (weighted) number of active speakers; and the
    (speaker, region position, label, weight) of every active speaker-label pair."""
    none = n_labels - 2
    label = np.where(side.emotion >= 0, side.emotion, none).astype(np.int64)
    iv, _ = merge(side.speaker.astype(np.int64) * n_labels + label, side.i0, side.i1)
    which, region = expand(iv, keep)
    pos = np.searchsorted(keep, region).astype(np.int64)
    group = iv.group[which].astype(np.int64)
    speaker, lab = group // n_labels, group % n_labels
    # a speaker active with several labels at once counts 1/k for each
    _, inverse, count = np.unique(speaker * max(len(keep), 1) + pos, return_inverse=True,
                                  return_counts=True)
    weight = 1.0 / count[inverse.reshape(-1)] if len(count) else np.zeros(0)
    counts = np.bincount(pos * n_labels + lab, weights=weight,
                         minlength=len(keep) * n_labels).reshape(len(keep), n_labels)
    return counts, (speaker, pos, lab, weight)


def _pair_exactly(ref_pairs, hyp_pairs, n_emotions: int, paired: np.ndarray, ref_left: np.ndarray,
                  hyp_left: np.ndarray, entry_right: np.ndarray) -> None:
    """Set the rows of ``paired``, ``ref_left``, ``hyp_left`` and the reference entries'
    ``entry_right`` of the regions where a speaker has several labels at once, by pairing
    their speakers as the rates do (a largest matching of the speakers that agree)."""
    ref_several = ref_pairs[3] < 1
    hyp_several = hyp_pairs[3] < 1
    regions = np.union1d(ref_pairs[1][ref_several], hyp_pairs[1][hyp_several])
    if len(regions) == 0:
        return
    # per side, region -> speaker -> its labels (and the reference's entries)
    sides: list[dict[int, dict[int, list[int]]]] = [{}, {}]
    ref_entries: dict[int, dict[int, list[int]]] = {}
    for side, (speaker, pos, lab, _) in enumerate((ref_pairs, hyp_pairs)):
        wanted = np.flatnonzero(np.isin(pos, regions))
        for k, s, r, label in zip(wanted.tolist(), speaker[wanted].tolist(), pos[wanted].tolist(),
                                  lab[wanted].tolist()):
            sides[side].setdefault(r, {}).setdefault(s, []).append(label)
            if side == 0:
                ref_entries.setdefault(r, {}).setdefault(s, []).append(k)
    for r in regions.tolist():
        ref_speakers, hyp_speakers = sides[0].get(r, {}), sides[1].get(r, {})

        def emotions(labels: list[int]) -> int:  # the labels that are emotions, as the bits of an int
            return sum(1 << label for label in labels if label < n_emotions)

        hyp_masks = {h: emotions(labels) for h, labels in hyp_speakers.items()}
        edges = {s: [h for h, mask in hyp_masks.items() if mask and engine.agrees(emotions(labels), mask)]
                 for s, labels in sorted(ref_speakers.items())}
        owner: dict[int, int] = {}
        engine.max_matching(edges, owner)
        partner = {s: h for h, s in owner.items()}
        paired[r] = ref_left[r] = hyp_left[r] = 0.0
        for s, labels in ref_speakers.items():
            right = s in partner
            for k in ref_entries[r][s]:
                entry_right[k] = float(right)
            if right:
                h_labels = [label for label in hyp_speakers[partner[s]] if label < n_emotions]
                for label in h_labels:
                    paired[r, label] += 1.0 / len(h_labels)
            else:
                for label in labels:
                    ref_left[r, label] += 1.0 / len(labels)
        for h, labels in hyp_speakers.items():
            if h not in owner:
                # judged by its emotions (``engine.agrees``): several at once, one, or none
                emotions_of_h = [label for label in labels if label < n_emotions]
                hyp_left[r, n_emotions + 1 if len(emotions_of_h) > 1 else
                         emotions_of_h[0] if emotions_of_h else n_emotions] += 1.0


def _by_speaker(sweep, ref, keep, d, entry_right, missed_share, conf_share,
                ref_pairs, hyp_pairs, n_emotions, n_labels) -> list[dict]:
    speaker, pos, lab, weight = ref_pairs
    right = entry_right
    left = 1.0 - entry_right
    seconds = d[pos] * weight
    n_speakers = len(sweep.ref.speaker_file)

    def per_speaker(values):
        return np.bincount(speaker, weights=values, minlength=n_speakers)

    total = per_speaker(seconds)
    correct = per_speaker(seconds * right)
    ms = per_speaker(seconds * left * missed_share[pos])
    conf = per_speaker(seconds * left * conf_share[pos])

    # emotion and speaker right: the mapped hypothesis speaker is active there, and every
    # emotion it has there is one of the reference speaker's (``engine.agrees``)
    h_speaker, h_pos, h_lab, _ = hyp_pairs
    h_ref = sweep.mapping[h_speaker] if len(h_speaker) else h_speaker
    ok = (h_ref >= 0) & (h_lab < n_emotions)
    h_ref, h_pos, h_lab = h_ref[ok], h_pos[ok], h_lab[ok]
    n_pos = np.int64(max(len(keep), 1))
    ref_keys = np.unique((speaker * n_pos + pos) * n_labels + lab)
    # per (mapped reference speaker, region): the hypothesis speaker's emotions, and how many are the reference's
    group, inverse = np.unique(h_ref * n_pos + h_pos, return_inverse=True)
    inverse = inverse.reshape(-1)
    emotions = np.bincount(inverse, minlength=len(group))
    shared = np.bincount(inverse, weights=np.isin(group[inverse] * n_labels + h_lab, ref_keys), minlength=len(group))
    agreeing = group[shared == emotions]
    hit = np.isin(speaker * n_pos + pos, agreeing)
    correct_spk = per_speaker(seconds * hit)

    rows = []
    for s in np.flatnonzero(total > 0).tolist():
        rows.append({
            "file": sweep.files[sweep.ref.speaker_file[s]],
            "speaker": ref.speakers[sweep.ref.speaker_name[s]],
            "TOTAL": float(total[s]), "CORRECT": float(correct[s]), "CONF_emo": float(conf[s]),
            "MS": float(ms[s]), "ERR": float(ms[s] + conf[s]),
            "CORRECT_emo_spk": float(correct_spk[s]), "sERR": float(total[s] - correct_spk[s]),
        })
    rows.sort(key=lambda r: (r["file"], r["speaker"]))
    return rows


def _by_emotion(c: Confusion) -> list[dict]:
    rows = []
    for i, label in enumerate(c.labels):
        correct = float(c.matrix[i, i]) if label not in (NONE_LABEL, SEVERAL_LABEL) else 0.0
        row_sum = float(c.matrix[i].sum())
        total = row_sum + float(c.missed[i])
        hyp = float(c.matrix[:, i].sum() + c.false_alarm[i])
        if total == 0 and hyp == 0:
            continue
        conf = row_sum - correct
        rows.append({
            "emotion": label, "TOTAL": total, "CORRECT": correct, "CONF": conf,
            "MS": float(c.missed[i]), "ERR": conf + float(c.missed[i]), "HYP": hyp,
            "FA": float(c.false_alarm[i]),
            "recall": correct / total if total > 0 else None,
            "precision": correct / hyp if hyp > 0 else None,
        })
    return rows


# --------------------------------------------------------------------------
# rendering

SPEAKER_COLUMNS = ("file", "speaker", "TOTAL", "CORRECT", "CONF_emo", "MS", "ERR", "CORRECT_emo_spk", "sERR")
EMOTION_COLUMNS = ("emotion", "TOTAL", "CORRECT", "CONF", "MS", "ERR", "HYP", "FA", "recall", "precision")


def _rate(num: float, den: float):
    return num / den if den > 0 else None


def confusion_rows(a: Analysis) -> tuple[list[str], list[list]]:
    """Header and rows (label then seconds) of the matrix with its missed column and FA row."""
    c = a.confusion
    header = ["ref \\ hyp", *c.labels, MISSED, "TOTAL"]
    rows = [[label, *c.matrix[i].tolist(), float(c.missed[i]), float(c.matrix[i].sum() + c.missed[i])]
            for i, label in enumerate(c.labels)]
    rows.append([FALSE_ALARM, *c.false_alarm.tolist(), 0.0, float(c.false_alarm.sum())])
    return header, rows


def speaker_rows(a: Analysis) -> tuple[list[str], list[list]]:
    header = [*SPEAKER_COLUMNS, "ERR %", "sERR %"]
    rows = [[r[k] for k in SPEAKER_COLUMNS] + [_rate(r["ERR"], r["TOTAL"]), _rate(r["sERR"], r["TOTAL"])]
            for r in a.speakers]
    rows.append(["", FALSE_ALARM, 0.0, 0.0, 0.0, 0.0, a.false_alarm, 0.0, a.false_alarm, None, None])
    return header, rows


def emotion_rows(a: Analysis) -> tuple[list[str], list[list]]:
    header = [*EMOTION_COLUMNS, "ERR %"]
    rows = [[r[k] for k in EMOTION_COLUMNS] + [_rate(r["ERR"], r["TOTAL"])] for r in a.emotions]
    return header, rows


def mapping_rows_of(a: Analysis) -> tuple[list[str], list[list]]:
    header = list(MAPPING_COLUMNS)
    return header, [[r[k] for k in header] for r in a.mapping]


MAPPING_COLUMNS = ("file", "hypothesis", "reference")
_ROWS = {"confusion": confusion_rows, "speaker": speaker_rows, "emotion": emotion_rows, "mapping": mapping_rows_of}
_TITLES = {
    "confusion": "emotion confusion matrix, seconds (rows: reference, columns: hypothesis)",
    "speaker": "per reference speaker, seconds (ERR = MS + CONF_emo; sERR = TOTAL - CORRECT_emo_spk)",
    "emotion": "per reference emotion, seconds (ERR = MS + CONF; recall, precision and ERR in %)",
    "mapping": "speaker mapping per file: the reference speaker each hypothesis speaker stands for "
               "(n/a: none), as DER and sTEER compare them",
}


def _table(header: list[str], rows: list[list], percent: set[str]) -> list[str]:
    def cell(k, v):
        if v is None:
            return "n/a"
        if isinstance(v, str):
            return v
        return f"{100 * v:.2f}" if k in percent else f"{v:.2f}"

    body = [[cell(k, v) for k, v in zip(header, row)] for row in rows]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    text_cols = {i for i, h in enumerate(header)
                 if h in ("file", "speaker", "emotion", "ref \\ hyp", "hypothesis", "reference")}
    return ["  ".join(c.ljust(w) if i in text_cols else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths))).rstrip()
            for row in [header] + body]


#: fractions among the analysis' figures; every other number is seconds
_FRACTIONS = frozenset({"recall", "precision"})


def _rounded(data, key: str | None = None):
    """The analysis as JSON data, its seconds rounded as in ``teer score`` JSON (1e-9 s)."""
    from .render import round_seconds

    if isinstance(data, dict):
        return {k: _rounded(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [_rounded(v, key) for v in data]
    if isinstance(data, float) and key not in _FRACTIONS:
        return round_seconds(data)
    return data


def render(a: Analysis, fmt: str, views=VIEWS, settings_line: str | None = None) -> str:
    """``views`` of the analysis as an aligned table, JSON, or CSV (one view only)."""
    if fmt == "json":
        return ticks.dumps(_rounded(a.to_dict(views)), indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        if len(views) != 1:
            raise ValueError("CSV holds one table: choose one --view (confusion, speaker or emotion)")
        header, rows = _ROWS[views[0]](a)
        out = io.StringIO()
        # the settings as # comments first, as in the table; a column named "... %" holds percentages
        out.write(f"{settings_line}\n" if settings_line else "")
        from .render import CsvWriter

        writer = CsvWriter(out)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["n/a" if v is None else v if isinstance(v, str)
                             else repr(100 * float(v) if k.endswith("%") else float(v))
                             for k, v in zip(header, row)])
        return out.getvalue()
    lines = [settings_line] if settings_line else []
    for view in views:
        header, rows = _ROWS[view](a)
        if lines:
            lines.append("")
        lines.append(f"# {_TITLES[view]}")
        lines += _table(header, rows, {"recall", "precision", "ERR %", "sERR %"})
    return "\n".join(lines) + "\n"
