"""The scored-time accounting: the reference speech and what each step removed add up to TOTAL,
and the warnings when a step swallows most of the reference or an emotion option names a
label the inputs lack (issue 20, section 3)."""
from __future__ import annotations

import json
import warnings
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import teer
from teer import render
from teer.components import ACCOUNTING, SKIPPED_SPEECH
from teer.ticks import of_value

from .corpus import corpus, table
from .test_cli import EXAMPLES
from .test_cli import teer as cli

REMOVED = ACCOUNTING[1:] + (SKIPPED_SPEECH,)

# file a: A 0-8 hap, B 6-12 hap, C 13-14 sad, A 10-16 neu; a system that says hap throughout.
# Scored with emotions hap,neu (sad: a no-score zone), UEM [1, 15], regions single, collar 0.5:
# speech A 14 + B 6 + C 1 = 21; the UEM removes A's 0-1 and 15-16 (2); the zone 13-14 removes
# A's and C's speech there (2); the filter removes where A and B overlap, 6-8 and 10-12 (8);
# collars remove 5.5-6, 8-8.5, 9.5-10, 12-13 and 14-14.5 of what is left (3): TOTAL 6.
HAND_REF = (("a", 0, 8, "A", "hap"), ("a", 6, 12, "B", "hap"), ("a", 13, 14, "C", "sad"),
            ("a", 10, 16, "A", "neu"))
HAND_HYP = (("a", 0, 16, "X", "hap"),)
HAND_OPTIONS = dict(emotions="hap,neu", uem={"a": [(1, 15)]}, regions="single", collar=0.5)


def accounting(c) -> dict:
    return {k: c[k] for k in ACCOUNTING + ("TOTAL",)}


def assert_adds_up(c, where=""):
    """SPEECH minus what each step removed is TOTAL, exactly (in ticks)."""
    assert all(c[k].ticks >= 0 for k in ACCOUNTING), (where, accounting(c))
    assert c.SPEECH.ticks - sum(c[k].ticks for k in REMOVED) == c.TOTAL.ticks, (where, accounting(c))


def assert_report_adds_up(report):
    """Every file's and the total's accounting adds up; skipped files are in the total."""
    for name, c in report.accounted().items():
        assert_adds_up(c, name)
    assert_adds_up(report.total, "total")
    for k in ("SPEECH",) + REMOVED:  # components that add up across files, as pyannote.metrics'
        assert report.total[k].ticks == sum(c[k].ticks for c in report.accounted().values()), k


def test_each_step_on_a_hand_computed_example():
    c = teer.score(table(*HAND_REF), table(*HAND_HYP), **HAND_OPTIONS).total
    assert accounting(c) == dict(SPEECH=21, REMOVED_UEM=2, REMOVED_NOSCORE=2, REMOVED_REGIONS=8,
                                 REMOVED_COLLAR=3, TOTAL=6)


def test_dropped_non_target_speech_is_removed_before_the_other_steps():
    # C (1 s of sad) is deleted: no zone, and no collars around its boundaries, so that the
    # filter keeps A alone at 13-14 and the collars remove 5.5-6, 8-8.5, 9.5-10 and 12-12.5
    c = teer.score(table(*HAND_REF), table(*HAND_HYP), non_target="drop", **HAND_OPTIONS).total
    assert accounting(c) == dict(SPEECH=21, REMOVED_UEM=2, REMOVED_NOSCORE=1, REMOVED_REGIONS=8,
                                 REMOVED_COLLAR=2, TOTAL=8)


def test_what_collar_0_would_keep_is_what_collars_removed():
    ref, hyp = table(*HAND_REF), table(*HAND_HYP)
    with_collar = teer.score(ref, hyp, **HAND_OPTIONS).total
    without = teer.score(ref, hyp, **{**HAND_OPTIONS, "collar": 0}).total
    assert without.REMOVED_COLLAR == 0
    assert without.TOTAL == with_collar.TOTAL + with_collar.REMOVED_COLLAR == 9
    assert accounting(without) == {**accounting(with_collar), "REMOVED_COLLAR": 0, "TOTAL": 9}


def test_a_speaker_overlapping_itself_counts_once_as_in_total():
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "sad"), ("a", 4, 9, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"))
    once = teer.score(ref, hyp, collar=0).total
    assert (once.SPEECH, once.TOTAL) == (15, 15)
    each = teer.score(ref, hyp, preset="ser-align").total  # each segment, as pyannote and the script
    assert (each.SPEECH, each.TOTAL) == (17, 17)


def words(rng, file, speaker, start, n, emotion):
    """A word-level reference turn: words of 0.15-0.45 s, with one in eight a longer word
    or a short phrase (0.6-1.5 s), 0.02-0.2 s apart."""
    rows, t = [], start
    for _ in range(n):
        length = rng.uniform(0.6, 1.5) if rng.random() < 0.125 else rng.uniform(0.15, 0.45)
        rows.append((file, round(t, 2), round(t + length, 2), speaker, emotion))
        t += length + rng.uniform(0.02, 0.2)
    return rows, t


def word_level(seed=0, turns=12):
    """A dialogue with a word-level reference and a turn-level system output whose emotion is
    right on most turns."""
    rng = np.random.default_rng(seed)
    ref, hyp, t = [], [], 0.0
    for k in range(turns):
        speaker, emotion = "AB"[k % 2], ("neu", "hap", "ang")[k % 3]
        rows, end = words(rng, "d1", speaker, t, int(rng.integers(4, 12)), emotion)
        ref += rows
        said = emotion if k % 5 else "sad"
        hyp.append(("d1", rows[0][1], rows[-1][2], "XY"[k % 2], said))
        t = end + rng.uniform(0.3, 1.0)
    return table(*ref), table(*hyp)


def test_a_word_level_reference_that_collars_swallow_is_warned(recwarn):
    ref, hyp = word_level()
    report = teer.score(ref, hyp)
    c = report.total
    assert_report_adds_up(report)
    assert c.REMOVED_COLLAR > 0.5 * c.SPEECH and c.REMOVED_UEM == c.REMOVED_NOSCORE == c.REMOVED_REGIONS == 0
    bare = teer.score(ref, hyp, collar=0).total
    assert bare.SPEECH.ticks == c.SPEECH.ticks and bare.TOTAL.ticks == c.TOTAL.ticks + c.REMOVED_COLLAR.ticks
    assert bare.TEER > c.TEER  # the collars hide the turns whose emotion is wrong
    shown = [w for w in report.warnings if w.startswith("collars remove")]
    assert len(shown) == 1, report.warnings
    assert (f"{c.REMOVED_COLLAR:.2f} s of the {c.SPEECH:.2f} s of reference speech "
            f"({100 * c.REMOVED_COLLAR / c.SPEECH:.0f} %)") in shown[0]
    assert f"--collar 0 would score {bare.TOTAL:.2f} s" in shown[0]
    assert any(issubclass(w.category, teer.TeerWarning) and str(w.message) == shown[0] for w in recwarn)
    assert not any("collars remove" in w for w in teer.score(ref, hyp, collar=0.05).warnings)


def sad_dialogue():
    """Two speakers; more than half of the reference speech is sad."""
    ref = table(("d", 0, 5, "A", "neu"), ("d", 5, 12, "B", "sad"), ("d", 12, 15, "A", "hap"),
                ("d", 15, 20, "B", "sad"), ("d", 20, 22, "A", "ang"))
    hyp = table(("d", 0, 12, "X", "neu"), ("d", 12, 22, "Y", "hap"))
    return ref, hyp


@pytest.mark.parametrize("non_target", ["noscore", "drop"])
def test_emotions_that_leave_out_a_reference_label_name_it_and_its_seconds(non_target):
    ref, hyp = sad_dialogue()
    report = teer.score(ref, hyp, collar=0, emotions="neu,hap,ang", non_target=non_target)
    c = report.total
    assert_report_adds_up(report)
    assert (c.SPEECH, c.REMOVED_NOSCORE, c.TOTAL) == (22, 12, 10)
    left_out = [w for w in report.warnings if w.startswith("--emotions leaves out")]
    assert len(left_out) == 1 and "sad (12.00 s)" in left_out[0], report.warnings
    assert ("no-score" if non_target == "noscore" else "false alarm") in left_out[0]
    half = [w for w in report.warnings if w.startswith("no-score zones remove")]
    assert len(half) == 1 and "12.00 s of the 22.00 s of reference speech (55 %)" in half[0]


def test_an_emotion_set_that_covers_the_reference_says_nothing_about_it():
    ref, hyp = sad_dialogue()
    report = teer.score(ref, hyp, emotions="neu,hap,ang,sad")
    assert not any("--emotions" in w or "remove" in w for w in report.warnings), report.warnings
    assert report.total.REMOVED_NOSCORE == 0


def test_an_emotion_map_key_that_occurs_nowhere_is_a_typo_with_near_matches():
    # IEMOCAP's labels are lower case: Exc=hap maps nothing
    ref = table(("d", 0, 5, "A", "exc"), ("d", 5, 9, "B", "hap"))
    hyp = table(("d", 0, 9, "X", "hap"))
    report = teer.score(ref, hyp, emotion_map="Exc=hap")
    typo = [w for w in report.warnings if w.startswith("--emotion-map")]
    assert len(typo) == 1 and "'Exc' (near: 'exc')" in typo[0] and "maps nothing" in typo[0], report.warnings
    # a key that occurs on one side only is not a typo
    assert not any(w.startswith("--emotion-map") for w in teer.score(ref, hyp, emotion_map="exc=hap").warnings)
    assert not any(w.startswith("--emotion-map")
                   for w in teer.score(hyp, ref, emotion_map="exc=hap").warnings)


def test_an_emotions_label_that_occurs_nowhere_is_a_typo_with_near_matches():
    ref, hyp = sad_dialogue()
    report = teer.score(ref, hyp, emotions="neu,happy,ang,sadd")
    typo = [w for w in report.warnings if w.startswith("--emotions label(s)")]
    assert len(typo) == 1, report.warnings
    assert "'happy' (near: 'hap')" in typo[0] and "'sadd' (near: 'sad')" in typo[0]
    # compared with the labels after the map
    mapped = teer.score(ref, hyp, emotion_map="sad=sadness", emotions="neu,hap,ang,sadness")
    assert not any(w.startswith("--emotions label(s)") for w in mapped.warnings), mapped.warnings
    # a label only the hypothesis has is not a typo, but the reference never has it
    hyp_only = teer.score(ref, table(("d", 0, 22, "X", "fru")), emotions="neu,hap,ang,sad,fru")
    assert any(w == "emotion(s) fru of the scored set never occur in the reference" for w in hyp_only.warnings)
    assert not any(w.startswith("--emotions label(s)") for w in hyp_only.warnings)


def test_a_region_filter_that_removes_most_speech_is_warned():
    ref = table(("d", 0, 10, "A", "neu"), ("d", 1, 9, "B", "neu"))
    hyp = table(("d", 0, 10, "X", "neu"))
    report = teer.score(ref, hyp, collar=0, regions="nonoverlap")
    assert accounting(report.total) == dict(SPEECH=18, REMOVED_UEM=0, REMOVED_NOSCORE=0, REMOVED_REGIONS=16,
                                            REMOVED_COLLAR=0, TOTAL=2)
    assert any(w.startswith("the region filter removes 16.00 s of the 18.00 s") for w in report.warnings)


OPTIONS = [
    dict(), dict(collar=0), dict(collar=0.5, regions="overlap"), dict(uem_default="union", regions="single"),
    dict(emotions="neu,hap", collar=0.1), dict(emotions="neu,hap", non_target="drop", regions="nonoverlap"),
    dict(preset="ser-align"), dict(preset="ser-align", emotions="neu,hap,ang"), dict(preset="eder"),
    dict(preset="eder", emotions="neu,hap"), dict(jobs=2, emotions="hap,sad,neu", collar=0.3),
    dict(average="files", uem="uem"),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
@pytest.mark.parametrize("seed", [0, 1])
def test_the_accounting_adds_up_per_file_and_over_files(options, seed):
    ref_rows, hyp_rows = corpus(seed, n_files=4, self_overlap=seed == 1)
    # identical time stamps, as real corpora have them
    ref_rows += [dict(r) for r in ref_rows[:5]]
    if options.get("uem") == "uem":
        options = {**options, "uem": {f"file{i}": [(1.0, 20.0), (25.0, 40.0)] for i in range(4)}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = teer.score(ref_rows, hyp_rows, **options)
    assert_report_adds_up(report)
    assert report.total.SPEECH > 0
    if "uem" in options:
        assert report.total.REMOVED_UEM > 0


def merged_speech(rows) -> int:
    """Each (file, speaker)'s speech merged, summed: speaker time as md-eval counts it (ticks)."""
    by = {}
    for r in rows:
        by.setdefault((r["file"], r["speaker"]), []).append((of_value(r["start"]), of_value(r["end"])))
    total = 0
    for spans in by.values():
        end = -1
        for s, e in sorted(spans):
            total += max(0, e - max(s, end))
            end = max(end, e)
    return total


@pytest.mark.parametrize("seed", [2, 3])
def test_speech_is_the_merged_speaker_time_of_the_reference(seed):
    ref_rows, hyp_rows = corpus(seed, n_files=3, self_overlap=True)
    report = teer.score(ref_rows, hyp_rows, emotions="neu,hap", non_target="drop")
    assert report.total.SPEECH.ticks == merged_speech(ref_rows)


@pytest.mark.parametrize("shift", ["0.1", "1e-9", "3600.000000007"])
def test_shifting_every_time_by_whole_ticks_changes_no_second_of_the_accounting(shift):
    ref_rows, hyp_rows = corpus(4, n_files=3, self_overlap=True)
    uem = {f"file{i}": [(1.0, 20.0), (25.0, 40.0)] for i in range(3)}
    options = dict(emotions="neu,hap,ang", collar=0.25, regions="nonoverlap")

    def shifted(rows):
        return [{**r, "start": str(Decimal(repr(r["start"])) + Decimal(shift)),
                 "end": str(Decimal(repr(r["end"])) + Decimal(shift))} for r in rows]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = teer.score(ref_rows, hyp_rows, uem=uem, **options)
        after = teer.score(shifted(ref_rows), shifted(hyp_rows), **options, uem={
            f: [(Fraction(Decimal(repr(a)) + Decimal(shift)), Fraction(Decimal(repr(b)) + Decimal(shift)))
                for a, b in spans]
            for f, spans in uem.items()})
    for name in before.files:
        assert accounting(before.files[name]) == accounting(after.files[name]), name
        assert_adds_up(after.files[name], name)


def test_json_csv_and_table_report_it(tmp_path):
    ref, hyp = EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"
    data = json.loads(cli("score", ref, hyp, "--format", "json").stdout, parse_float=Decimal)
    for row in [data["total"], *data["files"].values()]:  # exact decimals that add up exactly
        assert row["SPEECH"] - sum(row.get(k, 0) for k in REMOVED) == row["TOTAL"]
    assert SKIPPED_SPEECH not in data["total"]  # (the presets that skip no file)
    assert (data["total"]["SPEECH"], data["total"]["REMOVED_COLLAR"]) == (Decimal("30.2"), Decimal("6.7"))
    rows = [line.split(",") for line in cli("score", ref, hyp, "--format", "csv", "--per-file").stdout.splitlines()
            if not line.startswith("#")]
    header = rows[0]
    assert header[-len(ACCOUNTING):] == list(ACCOUNTING)
    assert [r[0] for r in rows[1:]] == ["dialog1", "dialog2", "TOTAL"]
    assert float(rows[-1][header.index("SPEECH")]) == 30.2
    table_text = cli("score", ref, hyp).stdout
    assert ("# scored time: reference speech 30.20 s - outside the UEM 0.00 s - no-score zones 0.00 s - "
            "region filter 0.00 s - collars 6.70 s = TOTAL 23.50 s (77.8 % of it)") in table_text.splitlines()


def test_compare_and_analyze_still_run_and_compare_reports_the_accounting():
    ref, hyp = EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"
    out = cli("compare", ref, hyp, hyp, "--format", "json", "--bootstrap", "20")
    assert out.returncode == 0, out.stderr
    systems = json.loads(out.stdout)["systems"]
    assert systems["A"]["total"]["SPEECH"] == systems["B"]["total"]["SPEECH"] == 30.2
    for fmt in ("table", "json", "csv"):
        out = cli("analyze", ref, hyp, "--format", fmt, *(("--view", "emotion") if fmt == "csv" else ()))
        assert out.returncode == 0 and out.stdout, out.stderr


def test_per_file_sums_in_float_and_in_integers():
    from teer.engine.scoring import _per_file_sums

    file = np.array([0, 0, 2, 2, 2, 3])
    floats = np.array([0.25, 4.5, 0.1, 0.2, 0.3, 1.0])
    assert _per_file_sums(file, floats, np.zeros(5)).tolist() == np.bincount(file, floats, 5).tolist()
    ticks = np.array([1, 2, 3, 4, 2 ** 61, 6], np.int64)  # (an int64 TOTAL, or Python integers)
    for like in (np.zeros(5, np.int64), np.zeros(5, object)):
        assert _per_file_sums(file, ticks, like).tolist() == [3, 0, 7 + 2 ** 61, 6, 0]
    assert _per_file_sums(file[:0], ticks[:0], np.zeros(2, np.int64)).tolist() == [0, 0]


@pytest.mark.parametrize("non_target", ["noscore", "drop"])
@pytest.mark.parametrize("batched", [False, True])
def test_left_out_seconds_count_a_speaker_overlapping_itself_once(non_target, batched, tmp_path, monkeypatch):
    # B's two sad segments overlap for 2 s: B is sad for 10 s, not 12 (the sum of the segments)
    from teer import stream

    rows = [("d", 0, 5, "A", "neu"), ("d", 5, 11, "B", "sad"), ("d", 9, 15, "B", "sad"), ("d", 15, 20, "A", "hap")]
    ref = tmp_path / "ref.rttm"
    ref.write_text("".join(f"SPEAKER {f} 1 {s} {e - s} {m} <NA> {k} <NA> <NA>\n" for f, s, e, k, m in rows))
    hyp = tmp_path / "hyp.rttm"
    hyp.write_text("SPEAKER d 1 0 20 neu <NA> X <NA> <NA>\n")
    if batched:
        monkeypatch.setattr(stream, "STREAM_BYTES", 0)
        monkeypatch.setattr(stream, "READ_BATCH_SEGMENTS", 1)
    report = teer.score(ref, hyp, collar=0, emotions="neu,hap", non_target=non_target)
    c = report.total
    assert_report_adds_up(report)
    assert (c.SPEECH, c.REMOVED_NOSCORE, c.TOTAL) == (20, 10, 10)
    left_out = [w for w in report.warnings if w.startswith("--emotions leaves out")]
    assert len(left_out) == 1 and "sad (10.00 s)" in left_out[0], report.warnings
    # a speaker with two left-out labels at once counts in each; two speakers at once, each
    two = table(("d", 0, 4, "A", "sad"), ("d", 2, 6, "A", "ang"), ("d", 0, 6, "B", "sad"), ("d", 6, 9, "A", "neu"))
    shown = [w for w in teer.score(two, table(("d", 0, 9, "X", "neu")), collar=0, emotions="neu").warnings
             if w.startswith("--emotions leaves out")]
    assert "ang (4.00 s), sad (10.00 s)" in shown[0]


def test_the_files_ser_align_skips_are_in_the_accounting(tmp_path):
    # SER-Align's script skips b (no target emotion), c (no hypothesis) and d (no reference):
    # their reference speech (b: 5 + 4 s, every segment as the preset counts it; c: 4 s)
    # is REMOVED_SKIPPED, per file and in the total, and SPEECH holds it
    ref = table(("a", 0, 10, "A", "hap"), ("b", 0, 5, "B", "sad"), ("b", 2, 6, "B", "sad"), ("c", 0, 4, "C", "neu"))
    hyp = table(("a", 0, 10, "X", "hap"), ("b", 0, 5, "Y", "sad"), ("d", 0, 3, "Z", "hap"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = teer.score(ref, hyp, preset="ser-align", emotions="hap,neu")
    assert sorted(report.skipped) == ["b", "c", "d"] and list(report.files) == ["a"]
    c = report.total
    assert (c.SPEECH, c.REMOVED_SKIPPED, c.TOTAL) == (23, 13, 10)
    assert_report_adds_up(report)
    data = json.loads(render.as_json(report))
    assert {name: row["REMOVED_SKIPPED"] for name, row in data["files"].items()} == {"a": 0, "b": 9, "c": 4, "d": 0}
    assert data["total"]["SPEECH"] == 23 and data["files"]["b"]["TEER"] is None
    csv = render.as_csv(report, per_file=True).splitlines()
    assert csv[4].startswith("file,") and csv[4].endswith(",REMOVED_SKIPPED")
    assert [line.split(",")[0] for line in csv[5:]] == ["a", "b", "c", "d", "TOTAL"]
    assert "- skipped files 13.00 s = TOTAL 10.00 s" in render.as_table(report)
    frame = report.to_dataframe()
    assert frame.loc["c", "REMOVED_SKIPPED"] == 4 and frame.loc["TOTAL", "SPEECH"] == 23
    # the rates and the scored files are those of the script: the same without the skipped files
    alone = teer.score(table(("a", 0, 10, "A", "hap")),
                       table(("a", 0, 10, "X", "hap")), preset="ser-align", emotions="hap,neu")
    assert (alone.total.TEER, alone.total.TOTAL) == (c.TEER, c.TOTAL)
    # presets that skip nothing keep their columns
    assert SKIPPED_SPEECH not in teer.score(ref, hyp, collar=0).fields
