"""Confusion matrix and breakdowns: hand-computed cases and the identities with the report."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from teer import analysis, api

from .corpus import corpus, table

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def analyze(ref, hyp, **kw):
    kw.setdefault("collar", 0.0)
    scoring = api.run(ref, hyp, **kw)
    return scoring, analysis.analyze(scoring)


def cells(c: analysis.Confusion) -> dict:
    out = {(r, h): c.matrix[i, j] for i, r in enumerate(c.labels) for j, h in enumerate(c.labels) if c.matrix[i, j]}
    out.update({(r, "missed"): v for r, v in zip(c.labels, c.missed) if v})
    out.update({("fa", h): v for h, v in zip(c.labels, c.false_alarm) if v})
    return out


def test_worked_example():
    # regions: 0-3 A|X, 3-5 A|X,Y, 5-8 A|Y, 8-9 A,B|Y, 9-10 A,B|-, 10-11 B|-, 11-12 B|Z, 12-15 -|Z
    ref = table(("a", 0, 10, "A", "hap"), ("a", 8, 12, "B", "sad"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 3, 9, "Y", "sad"), ("a", 11, 15, "Z", "sad"))
    scoring, a = analyze(ref, hyp, uem={"a": [(0, 16)]})
    assert a.confusion.labels == ["hap", "sad"]
    # hap: 0-3, 3-5 right; 5-8 as sad; 8-10 missed. sad: 8-9 right (Y sad pairs with B), 9-11 missed,
    # 11-12 right; FA: 3-5 Y, 12-15 Z
    assert cells(a.confusion) == pytest.approx({
        ("hap", "hap"): 5, ("hap", "sad"): 3, ("hap", "missed"): 2,
        ("sad", "sad"): 2, ("sad", "missed"): 2, ("fa", "sad"): 5})
    speakers = {r["speaker"]: r for r in a.speakers}
    assert speakers["A"] == pytest.approx(dict(
        file="a", speaker="A", TOTAL=10, CORRECT=5, CONF_emo=3, MS=2, ERR=5, CORRECT_emo_spk=0, sERR=10))
    # B -> Z: right speaker and emotion over 11-12 only
    assert speakers["B"] == pytest.approx(dict(
        file="a", speaker="B", TOTAL=4, CORRECT=2, CONF_emo=0, MS=2, ERR=2, CORRECT_emo_spk=1, sERR=3))
    assert a.false_alarm == 5
    emotions = {r["emotion"]: r for r in a.emotions}
    assert emotions["sad"] == pytest.approx(dict(
        emotion="sad", TOTAL=4, CORRECT=2, CONF=0, MS=2, ERR=2, HYP=10, FA=5, recall=0.5, precision=0.2))
    assert emotions["hap"]["recall"] == pytest.approx(0.5) and emotions["hap"]["precision"] == 1


def test_confusions_without_a_pairing_are_spread_in_proportion():
    # 0-2: A ang, B hap | X neu, Y sad: two confusions, nothing says which meets which
    ref = table(("a", 0, 2, "A", "ang"), ("a", 0, 2, "B", "hap"))
    hyp = table(("a", 0, 2, "X", "neu"), ("a", 0, 2, "Y", "sad"))
    _, a = analyze(ref, hyp)
    assert cells(a.confusion) == pytest.approx({
        ("ang", "neu"): 1, ("ang", "sad"): 1, ("hap", "neu"): 1, ("hap", "sad"): 1})


def test_three_against_one_pairs_the_matching_emotion_and_misses_the_rest():
    # 0-4: A ang, B hap, C hap | X hap: one right (hap), two missed (ang and one hap)
    ref = table(("a", 0, 4, "A", "ang"), ("a", 0, 4, "B", "hap"), ("a", 0, 4, "C", "hap"))
    hyp = table(("a", 0, 4, "X", "hap"))
    _, a = analyze(ref, hyp)
    assert cells(a.confusion) == pytest.approx({("hap", "hap"): 4, ("ang", "missed"): 4, ("hap", "missed"): 4})
    speakers = {r["speaker"]: r for r in a.speakers}
    # B and C share the hap that was right and the one that was missed
    assert speakers["B"]["CORRECT"] == pytest.approx(2) and speakers["B"]["MS"] == pytest.approx(2)
    assert speakers["A"]["MS"] == pytest.approx(4)


def test_hypothesis_without_emotion_is_a_none_column_and_never_right():
    ref = table(("a", 0, 4, "A", "hap"))
    hyp = table(("a", 0, 2, "X", "hap"), ("a", 2, 4, "X", None))
    scoring, a = analyze(ref, hyp)
    assert a.confusion.labels == ["hap", "<none>"]
    assert cells(a.confusion) == pytest.approx({("hap", "hap"): 2, ("hap", "<none>"): 2})
    assert scoring.report.total.CONF_emo == 2


@pytest.mark.parametrize("seed", range(6))
def test_matrix_and_breakdowns_add_up_to_the_report(seed):
    ref, hyp = corpus(seed, n_files=3)
    scoring, a = analyze(ref, hyp, collar=0.25)
    t = scoring.report.total
    c = a.confusion
    diagonal = np.trace(c.matrix)
    assert c.matrix.sum() + c.missed.sum() == pytest.approx(t.TOTAL)
    assert c.missed.sum() == pytest.approx(t.MS)
    assert c.false_alarm.sum() == pytest.approx(t.FA)
    assert c.matrix.sum() - diagonal == pytest.approx(t.CONF_emo)
    assert diagonal == pytest.approx(t.AGREE - t.CONF_emo)
    assert (c.matrix.sum() - diagonal + c.missed.sum() + c.false_alarm.sum()) / t.TOTAL == pytest.approx(t.TEER)
    # per speaker: sums give TEER's and sTEER's numerators
    s = a.speakers
    assert sum(r["TOTAL"] for r in s) == pytest.approx(t.TOTAL)
    assert sum(r["ERR"] for r in s) + a.false_alarm == pytest.approx(t.MS + t.FA + t.CONF_emo)
    assert sum(r["sERR"] for r in s) + a.false_alarm == pytest.approx(t.MS + t.FA + t.CONF_emo_spk)
    # per emotion: the totals are the reference time of each emotion
    e = {r["emotion"]: r for r in a.emotions}
    for label, row in e.items():
        assert row["TOTAL"] == pytest.approx(_time([r for r in ref if r["emotion"] == label], scoring)), label
    assert sum(r["ERR"] for r in e.values()) + sum(r["FA"] for r in e.values()) == pytest.approx(
        t.MS + t.FA + t.CONF_emo)


def _time(rows, scoring):
    """Seconds of these reference segments inside the scored regions of ``scoring`` (brute force)."""
    sweep = scoring.sweep
    keep = np.flatnonzero(sweep.scored & (sweep.duration > 0))
    start = sweep.grid_time[keep] / 1e9  # (the sweep counts ticks: ns)
    end = start + sweep.duration[keep] / 1e9
    file = np.array(sweep.files)[sweep.grid_file[keep]]
    total = 0.0
    for r in rows:
        inside = (file == r["file"]) & (start >= r["start"]) & (end <= r["end"])
        total += float((end - start)[inside].sum())
    return total


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_analyze_command_formats(tmp_path):
    out = teer_cli("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("# teer |") and "# emotion confusion matrix" in out.stdout
    assert "# per reference speaker" in out.stdout and "# per reference emotion" in out.stdout
    data = json.loads(teer_cli("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "json").stdout)
    assert set(data) == {"settings", "confusion", "speakers", "emotions"}
    assert data["confusion"]["matrix"]["neu"]["hap"] == pytest.approx(1.7)
    assert data["confusion"]["missed"]["neu"] == pytest.approx(2.5)
    target = tmp_path / "c.csv"
    out = teer_cli("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "csv", "--view", "emotion",
                   "-o", target)
    assert out.returncode == 0 and out.stdout == ""
    rows = target.read_text().splitlines()
    assert rows[0].startswith("# teer | preset: wu2023")
    assert rows[1].startswith("emotion,TOTAL,CORRECT") and len(rows) == 6
    # a column named "%" holds percentages, as in the table
    table = teer_cli("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--view", "emotion").stdout
    err_in_table = [line.split()[-1] for line in table.splitlines() if line and not line.startswith("#")][1:]
    err_in_csv = [f"{float(row.split(',')[-1]):.2f}" for row in rows[2:]]
    assert rows[1].endswith(",ERR %") and err_in_csv == err_in_table
    out = teer_cli("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "csv", "-o", target)
    assert out.returncode == 2 and out.stderr.startswith("teer: error: ") and "--view" in out.stderr


def test_analyze_bad_input_is_one_line(tmp_path):
    ref = tmp_path / "r.rttm"
    ref.write_text("SPEAKER f 1 0 x hap <NA> A <NA> <NA>\n")
    out = teer_cli("analyze", ref, EXAMPLES / "hyp.json", "-o", tmp_path / "out")
    assert out.returncode == 2 and out.stderr.strip() == f"teer: error: {ref}:1: duration 'x' is not a number"
    assert not (tmp_path / "out").exists()


def test_analyze_under_ser_align_says_the_matrix_compares_emotions_literally():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "teer.cli", "analyze", root / "examples/ref.rttm",
                          root / "examples/hyp.json", "--preset", "ser-align", "--view", "confusion"],
                         capture_output=True, text=True, cwd=root)
    assert out.returncode == 0, out.stderr
    assert "compared literally" in out.stdout
    plain = subprocess.run([sys.executable, "-m", "teer.cli", "analyze", root / "examples/ref.rttm",
                            root / "examples/hyp.json", "--view", "confusion"], capture_output=True, text=True,
                           cwd=root)
    assert "compared literally" not in plain.stdout


def test_mapping_view_lists_each_hypothesis_speaker_with_its_reference_speaker(tmp_path):
    # X speaks with A, Y with B; Z speaks where nobody of the reference does: mapped to none
    ref = table(("a", 0, 4, "A", "hap"), ("a", 5, 9, "B", "sad"), ("b", 0, 3, "C", "neu"))
    hyp = table(("a", 0, 4, "Y", "hap"), ("a", 5, 9, "X", "sad"), ("a", 9, 10, "Z", "sad"),
                ("b", 0, 3, "X", "neu"))
    scoring, a = analyze(ref, hyp, uem={"a": [(0, 10)], "b": [(0, 3)]})
    assert scoring.report.speaker_mapping == {"a": {"X": "B", "Y": "A", "Z": None}, "b": {"X": "C"}}
    assert a.mapping == [{"file": "a", "hypothesis": "X", "reference": "B"},
                         {"file": "a", "hypothesis": "Y", "reference": "A"},
                         {"file": "a", "hypothesis": "Z", "reference": None},
                         {"file": "b", "hypothesis": "X", "reference": "C"}]
    frame = a.to_dataframe("mapping")
    assert frame.shape == (4, 3) and list(frame.columns) == ["file", "hypothesis", "reference"]
    text = analysis.render(a, "table", ("mapping",))
    assert text.splitlines()[-2].split() == ["a", "Z", "n/a"]
    assert json.loads(analysis.render(a, "json", ("mapping",)))["mapping"]["rows"][0]["reference"] == "B"


def test_a_fixed_speaker_map_is_the_mapping_reported():
    ref = table(("a", 0, 4, "A", "hap"), ("a", 5, 9, "B", "sad"))
    hyp = table(("a", 0, 4, "X", "hap"), ("a", 5, 9, "Y", "sad"))
    scoring, _ = analyze(ref, hyp, speaker_map={("a", "X"): "B"})
    assert scoring.report.speaker_mapping == {"a": {"X": "B", "Y": None}}


def test_views_as_dataframes_hold_the_csv_figures():
    import io

    import pandas as pd

    scoring, a = analyze(EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    for view in analysis.ALL_VIEWS:
        csv = pd.read_csv(io.StringIO(analysis.render(a, "csv", (view,))), comment="#", na_values=["n/a"],
                          keep_default_na=False, index_col=0 if view == "confusion" else None)
        frame = a.to_dataframe(view)
        pd.testing.assert_frame_equal(frame, csv, check_dtype=False, rtol=1e-12)
    confusion = a.to_dataframe("confusion")
    assert confusion.index[-1] == analysis.FALSE_ALARM
    assert confusion[analysis.MISSED].iloc[:-1].sum() == pytest.approx(scoring.report.total.MS)
    assert confusion["TOTAL"].iloc[:-1].sum() == pytest.approx(scoring.report.total.TOTAL)
    speakers = a.to_dataframe("speaker")
    assert speakers["ERR"].sum() == pytest.approx(  # the last row holds the false alarms
        scoring.report.total.TEER * scoring.report.total.TOTAL)
    with pytest.raises(ValueError, match="view must be one of"):
        a.to_dataframe("speakers")


def _write_rttm(path, rows):
    path.write_text("".join(f"SPEAKER {r['file']} 1 {r['start']:.2f} {r['end'] - r['start']:.2f} {r['emotion']} "
                            f"<NA> {r['speaker']} <NA> <NA>\n" for r in rows))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("streamed", [False, True])
def test_the_analysis_batch_by_batch_is_the_analysis_of_the_whole_sweep(tmp_path, monkeypatch, seed, streamed):
    """teer analyze and teer plot sweep a batch of files at a time (api.analyze_batches): the
    parts of the batches add up to the analysis of one sweep over all files."""
    from teer import stream
    from teer.engine import scoring

    ref_rows, hyp_rows = corpus(seed, n_files=7)
    ref, hyp = tmp_path / "ref.rttm", tmp_path / "hyp.rttm"
    _write_rttm(ref, ref_rows)
    _write_rttm(hyp, hyp_rows)
    whole = analysis.analyze(api.run(ref, hyp, collar=0.1))
    monkeypatch.setattr(scoring, "BATCH_SEGMENTS", 40)  # several batches of files
    if streamed:  # the RTTM files read in batches too, as large ones are
        monkeypatch.setattr(stream, "STREAM_BYTES", 0)
        monkeypatch.setattr(stream, "READ_BATCH_SEGMENTS", 60)
    scoring = api.analyze_batches(ref, hyp, analysis.part, collar=0.1)
    assert len(scoring.inspected) > 2
    batched = analysis.combine(scoring.inspected, scoring.report.speaker_mapping)
    assert batched.confusion.labels == whole.confusion.labels
    np.testing.assert_allclose(batched.confusion.matrix, whole.confusion.matrix, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(batched.confusion.missed, whole.confusion.missed, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(batched.confusion.false_alarm, whole.confusion.false_alarm, rtol=1e-12, atol=1e-9)
    assert [(r["file"], r["speaker"]) for r in batched.speakers] == [(r["file"], r["speaker"]) for r in whole.speakers]
    for a, b in zip(batched.speakers, whole.speakers):
        numbers = [k for k, v in b.items() if not isinstance(v, str)]
        assert [a[k] for k in numbers] == pytest.approx([b[k] for k in numbers], rel=1e-12, abs=1e-9)
    assert batched.mapping == whole.mapping
    assert scoring.report.to_dict() == api.score(ref, hyp, collar=0.1).to_dict()
