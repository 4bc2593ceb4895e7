"""Hedged output is never rewarded: a hypothesis speaker with several emotions at once is
right only if every one of them is among the reference speaker's (H ⊆ R)."""
from __future__ import annotations

import itertools
import json
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import teer
from teer import analysis, api, engine
from teer.io import from_records

from .corpus import table, total

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
RATES = ("TEER", "sTEER", "EERa", "sEERa", "DER")
LABELS = ("neu", "hap", "ang", "sad")


def every_label(rows: list[dict], labels) -> list[dict]:
    """Each hypothesis segment repeated once per label (same speaker, same time)."""
    return [dict(r, emotion=label) for r in rows for label in labels]


def with_majority(rows: list[dict], majority: str) -> list[dict]:
    """The majority class beside every prediction of another class."""
    return rows + [dict(r, emotion=majority) for r in rows if r["emotion"] != majority]


def majority_of(ref: list[dict]) -> str:
    seconds = Counter()
    for r in ref:
        seconds[r["emotion"]] += r["end"] - r["start"]
    return min(seconds, key=lambda label: (-seconds[label], label))


# --------------------------------------------------------------------------
# hand-computed cases


def test_a_hypothesis_speaker_is_right_only_if_all_its_emotions_are_the_references():
    ref = table(("a", 0, 10, "A", "hap"))
    assert total(ref, table(("a", 0, 10, "X", "hap"))).CONF_emo == 0
    # hap and sad at once against hap: wrong (it was right under "any of them")
    hedged = total(ref, table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", "sad")))
    assert (hedged.CONF_emo, hedged.CONF_emo_spk, hedged.EERa) == (10, 10, 1.0)
    # half hedged: 0-4 hap only (right), 4-10 hap and sad (wrong)
    part = total(ref, table(("a", 0, 10, "X", "hap"), ("a", 4, 10, "X", "sad")))
    assert (part.CONF_emo, part.CONF_emo_spk) == (6, 6)


def test_the_reference_may_allow_several_emotions_and_a_subset_of_them_is_right():
    # A is hap and sad at once over 4-6 (annotators disagree): either, or both, is right there
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "sad"))
    assert total(ref, table(("a", 0, 10, "X", "sad"))).CONF_emo == 4  # 0-4
    assert total(ref, table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", "sad"))).CONF_emo == 8  # 0-4, 6-10
    # hap and ang over 4-6: ang is not among A's
    assert total(ref, table(("a", 0, 10, "X", "hap"), ("a", 4, 6, "X", "ang"))).CONF_emo == 6  # 4-10


def test_the_matching_pairs_only_agreeing_speakers():
    # X says hap and sad at once: it agrees with neither A (hap) nor B (sad); Y (sad) agrees with B
    ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", "sad"), ("a", 0, 10, "Y", "sad"))
    c = total(ref, hyp)
    assert (c.AGREE, c.CONF_emo) == (20, 10)
    # three reference speakers, one hypothesis speaker with two emotions (read off one side)
    ref3 = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"), ("a", 0, 10, "C", "neu"))
    assert total(ref3, table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", "sad"))).CONF_emo == 10


def test_the_speaker_mapping_breaks_ties_by_the_same_rule():
    # B overlaps X and Y for 1 s each; X says hap and neu at once, Y says neu: Y agrees with B
    for names in (("X", "Y"), ("Y", "X")):
        ref = table(("a", 0, 1, "B", "neu"), ("a", 1, 2, "B", "neu"))
        hyp = table(("a", 0, 1, names[0], "neu"), ("a", 0, 1, names[0], "hap"), ("a", 1, 2, names[1], "neu"))
        sw = engine.sweep(ref, hyp)
        mapped = [hyp.speakers[sw.hyp.speaker_name[h]] for h in np.flatnonzero(sw.mapping >= 0)]
        assert mapped == [names[1]]
        assert total(ref, hyp).CONF_emo_spk == 1


def test_more_than_62_emotions_and_unlabelled_hypothesis_segments_follow_the_rule():
    many = [f"e{k}" for k in range(70)]
    ref = table(*[("a", 0, 10, "A", "e3")], *[("b", 0, 1, "Z", label) for label in many])
    hyp = table(("a", 0, 10, "X", "e3"), ("a", 5, 10, "X", "e69"))
    assert total(ref, hyp, uem={"a": [(0, 10)]}).CONF_emo == 5
    # a hypothesis segment without an emotion beside one with: the emotion alone is judged
    ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", None), ("a", 0, 10, "Y", "sad"),
                ("a", 0, 10, "Y", "hap"))
    assert total(ref, hyp).CONF_emo == 10  # X right, Y (sad and hap) wrong


def test_hedging_the_examples_scores_worse_on_every_rate(tmp_path):
    plain = json.loads((EXAMPLES / "hyp.json").read_text())
    ref_rows = [line.split() for line in (EXAMPLES / "ref.rttm").read_text().splitlines()
                if line.startswith("SPEAKER")]
    ref = [dict(start=float(x[3]), end=float(x[3]) + float(x[4]), emotion=x[5]) for x in ref_rows]
    labels = sorted({r["emotion"] for r in ref} | {r["emotion"] for r in plain})
    ours = teer.score(EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json").total
    for rows in (every_label(plain, labels), with_majority(plain, majority_of(ref))):
        path = tmp_path / "hedged.json"
        path.write_text(json.dumps(rows))
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            hedged = teer.score(EXAMPLES / "ref.rttm", path).total
        for rate in RATES:
            assert hedged[rate] >= ours[rate], rate
    # every label at once is never right against one reference emotion
    assert hedged.DER == ours.DER
    path.write_text(json.dumps(every_label(plain, labels)))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert teer.score(EXAMPLES / "ref.rttm", path).total.EERa == 1.0


def test_several_emotions_at_once_are_reported_with_their_seconds(tmp_path):
    ref = table(("a", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 2, 5, "X", "sad"), ("a", 4, 6, "X", "ang"))
    with pytest.warns(teer.TeerWarning, match=r"two or more emotions at once in 4\.00 s"):
        report = teer.score(ref, hyp, collar=0)
    assert any("right only if every one" in w for w in report.warnings)
    # no warning where each speaker has one emotion at a time, nor for the reference
    with warnings.catch_warnings():
        warnings.simplefilter("error", teer.TeerWarning)
        teer.score(table(("a", 0, 10, "A", "hap")), table(("a", 0, 10, "X", "hap")), collar=0)
    report = teer.score(table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "A", "sad")),
                        table(("a", 0, 10, "X", "hap")), collar=0)
    assert not any("emotions at once" in w for w in report.warnings)


def test_the_warning_counts_the_same_seconds_when_read_in_batches(tmp_path, monkeypatch):
    from teer import stream

    rows = [f"SPEAKER f{k} 1 {t} 2 {e} <NA> X <NA> <NA>" for k in range(30) for t, e in ((0, "hap"), (1, "sad"))]
    ref = tmp_path / "ref.rttm"
    hyp = tmp_path / "hyp.rttm"
    ref.write_text("\n".join(f"SPEAKER f{k} 1 0 3 hap <NA> A <NA> <NA>" for k in range(30)) + "\n")
    hyp.write_text("\n".join(rows) + "\n")
    whole = teer.score(ref, hyp, collar=0).warnings
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "READ_BATCH_SEGMENTS", 10)
    batched = teer.score(ref, hyp, collar=0).warnings
    assert [w for w in whole if "at once" in w] == [w for w in batched if "at once" in w]
    assert any("in 30.00 s" in w for w in whole)


def test_analyze_is_consistent_with_the_rates_on_hedged_output():
    ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "X", "sad"), ("a", 0, 10, "Y", "sad"))
    scoring = api.run(ref, hyp, collar=0)
    a = analysis.analyze(scoring)
    t = scoring.report.total
    diagonal = float(np.trace(a.confusion.matrix))
    assert diagonal == pytest.approx(t.AGREE - t.CONF_emo) == 10
    speakers = {r["speaker"]: r for r in a.speakers}
    assert speakers["B"]["CORRECT"] == 10 and speakers["A"]["CORRECT"] == 0
    assert speakers["A"]["CORRECT_emo_spk"] == 0  # X (hap and sad) is mapped to A: not right


# --------------------------------------------------------------------------
# random corpora

segment = st.tuples(st.sampled_from(["f0", "f1"]), st.integers(0, 40), st.integers(1, 12),
                    st.sampled_from(["A", "B", "C"]), st.sampled_from(LABELS + ("<NA>",)))
labelled_segment = st.tuples(st.sampled_from(["f0", "f1"]), st.integers(0, 40), st.integers(1, 12),
                             st.sampled_from(["A", "B", "C"]), st.sampled_from(LABELS))


def records(rows, prefix=""):
    """(file, start, length, speaker, emotion) on a grid of half seconds; "<NA>": no emotion."""
    return [dict(file=f, start=s / 2, end=(s + d) / 2, speaker=prefix + k, emotion=None if e == "<NA>" else e)
            for f, s, d, k, e in rows]


def brute_force(ref: list[dict], hyp: list[dict], mapping: dict) -> tuple[float, float]:
    """CONF_emo and CONF_emo_spk at collar 0 over each file's reference extent, region by
    region, from the rule itself: a largest matching of reference and hypothesis speakers
    where every emotion of the hypothesis speaker is one of the reference speaker's.
    ``mapping``: (file, hyp speaker) -> ref speaker."""
    conf_emo = conf_emo_spk = 0.0
    for file in sorted({r["file"] for r in ref}):
        own = [r for r in ref if r["file"] == file]
        lo, hi = min(r["start"] for r in own), max(r["end"] for r in own)
        theirs = [r for r in hyp if r["file"] == file]
        points = sorted({lo, hi} | {x for r in own + theirs for x in (r["start"], r["end"]) if lo <= x <= hi})
        for a, b in zip(points[:-1], points[1:]):
            def active(rows):
                out: dict[str, set] = {}
                for r in rows:
                    if r["start"] <= a and b <= r["end"]:
                        out.setdefault(r["speaker"], set())
                        if r["emotion"] is not None:
                            out[r["speaker"]].add(r["emotion"])
                return out

            R, H = active(own), active(theirs)
            agree = {(s, h) for s in R for h in H if H[h] and H[h] <= R[s]}
            best = 0
            hs = list(H)
            for k in range(min(len(R), len(H)), 0, -1):
                if any(all((s, h) in agree for s, h in zip(chosen, perm))
                       for chosen in itertools.combinations(R, k) for perm in itertools.permutations(hs, k)):
                    best = k
                    break
            n = min(len(R), len(H))
            conf_emo += (b - a) * (n - best)
            conf_emo_spk += (b - a) * (n - sum((mapping.get((file, h)), h) in agree for h in H))
    return conf_emo, conf_emo_spk


@settings(max_examples=300, deadline=None)
@given(st.lists(labelled_segment, min_size=1, max_size=12), st.lists(segment, min_size=1, max_size=14))
@example([("f0", 0, 10, "A", "hap")], [("f0", 0, 10, "A", "hap"), ("f0", 0, 10, "A", "sad")])
# a hypothesis speaker without an emotion beside one with two (their counts do not tell)
@example([("f0", 0, 1, "A", "neu")], [("f0", 0, 1, "A", "<NA>"), ("f0", 0, 1, "A", "<NA>")])
@example([("f1", 0, 1, "A", "neu")], [("f1", 0, 1, "A", "neu"), ("f1", 0, 1, "A", "hap"), ("f1", 0, 1, "B", "<NA>")])
def test_conf_emo_is_the_rule_computed_region_by_region(ref_rows, hyp_rows):
    ref, hyp = records(ref_rows), records(hyp_rows, "h")
    ref_table, hyp_table = from_records(ref), from_records(hyp)
    sw = engine.sweep(ref_table, hyp_table)
    mapping = {(sw.files[sw.hyp.speaker_file[h]], hyp_table.speakers[sw.hyp.speaker_name[h]]):
               ref_table.speakers[sw.ref.speaker_name[s]] for h, s in enumerate(sw.mapping.tolist()) if s >= 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = teer.score(ref_table, hyp_table, collar=0).total
    conf_emo, conf_emo_spk = brute_force(ref, hyp, mapping)
    assert c.CONF_emo == pytest.approx(conf_emo, abs=1e-9)
    assert c.CONF_emo_spk == pytest.approx(conf_emo_spk, abs=1e-9)


def _rates(ref, hyp, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return teer.score(from_records(ref), from_records(hyp), **kw).total


@settings(max_examples=100, deadline=None)
@given(st.lists(labelled_segment, min_size=1, max_size=14), st.lists(labelled_segment, min_size=1, max_size=14),
       st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.sampled_from(["every label", "majority"]))
# hA and hB overlap A for 2 s each, 0.25 s of hB's in A's collar: hedging used to take hB's
# emotion agreement away, and with it the tie (before collars) that had mapped hB
@example([("f0", 0, 20, "A", "hap")], [("f0", 4, 4, "A", "sad"), ("f0", 16, 4, "B", "hap")], 0.25, "every label")
def test_hedged_output_never_scores_better_than_plain_output(ref_rows, hyp_rows, collar, construction):
    """On any rate, at any collar. The speaker mapping maximises md-eval's overlap, then the
    scored overlap, then the scored emotion agreement (``teer.matcher``): hedging leaves the
    first two as they are and can only lower the third, so that the plain output's mapping
    is at least as good for it as the hedged output's."""
    ref, plain = records(ref_rows), records(hyp_rows, "h")
    hedged = every_label(plain, LABELS) if construction == "every label" else with_majority(plain, majority_of(ref))
    ours, theirs = _rates(ref, plain, collar=collar), _rates(ref, hedged, collar=collar)
    for rate in RATES:
        if ours[rate] is None:
            assert theirs[rate] is None
            continue
        assert theirs[rate] >= ours[rate] - 1e-12, rate
    assert theirs.DER == ours.DER


@settings(max_examples=60, deadline=None)
@given(st.lists(labelled_segment, min_size=1, max_size=12), st.lists(segment, min_size=1, max_size=14),
       st.sampled_from([0.0, 0.25]))
@example([("f0", 0, 10, "A", "hap"), ("f0", 0, 10, "B", "sad")],
         [("f0", 0, 10, "A", "hap"), ("f0", 0, 10, "A", "sad"), ("f0", 0, 10, "B", "sad")], 0.0)
def test_the_matrix_and_per_speaker_tables_add_up_to_the_rates_with_several_emotions_at_once(ref_rows, hyp_rows,
                                                                                                 collar):
    """The identities of ``teer.analysis`` where speakers of both sides have several emotions
    at once (self-overlapping segments, hedged output, segments without an emotion)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scoring = api.run(from_records(records(ref_rows)),
                          from_records(records(hyp_rows, "h")), collar=collar)
    a = analysis.analyze(scoring)
    t, c = scoring.report.total, a.confusion
    diagonal = float(np.trace(c.matrix))
    assert diagonal == pytest.approx(t.AGREE - t.CONF_emo, abs=1e-9)
    assert c.matrix.sum() - diagonal == pytest.approx(t.CONF_emo, abs=1e-9)
    assert c.matrix.sum() + c.missed.sum() == pytest.approx(t.TOTAL, abs=1e-9)
    assert c.missed.sum() == pytest.approx(t.MS, abs=1e-9)
    assert c.false_alarm.sum() == pytest.approx(t.FA, abs=1e-9)
    s = a.speakers
    assert sum(r["TOTAL"] for r in s) == pytest.approx(t.TOTAL, abs=1e-9)
    assert sum(r["ERR"] for r in s) + a.false_alarm == pytest.approx(t.MS + t.FA + t.CONF_emo, abs=1e-9)
    assert sum(r["sERR"] for r in s) + a.false_alarm == pytest.approx(t.MS + t.FA + t.CONF_emo_spk, abs=1e-9)


def test_the_timeline_shades_hedged_time_as_an_error(tmp_path):
    pytest.importorskip("matplotlib")
    from teer import figures

    ref = table(("a", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 6, 10, "X", "sad"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scoring = api.run(ref, hyp, collar=0)
    fig = figures.timeline_figure(scoring, "a")
    # the emotion confusion lane (teer plot's error lanes) is shaded over the hedged 6-10 s only
    ax = fig.axes[0]
    lane = [t.get_text() for t in ax.get_yticklabels()].index("emotion confusion")
    spans = [path.get_extents().get_points()[:, 0].tolist() for c in ax.collections if c.get_zorder() == 2
             for path in c.get_paths() if path.get_extents().y0 < lane < path.get_extents().y1]
    assert spans == [[6, 10]]
