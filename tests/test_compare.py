"""Paired bootstrap comparison of two systems: p-values, intervals, the command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from teer import bootstrap
from teer.components import Components, Report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def report(*files: dict) -> Report:
    comps = {f"f{i}": Components(**c) for i, c in enumerate(files)}
    return Report({}, sum(comps.values(), Components()), comps)


def test_p_value_definition():
    assert bootstrap.p_value(np.zeros(99)) == 1.0
    assert bootstrap.p_value(np.ones(99)) == pytest.approx(2 / 100)
    assert bootstrap.p_value(-np.ones(99)) == pytest.approx(2 / 100)
    # 9 of 99 at or below zero: 2 * 10 / 100
    assert bootstrap.p_value(np.r_[-np.ones(9), np.ones(90)]) == pytest.approx(0.2)
    assert bootstrap.p_value(np.array([np.nan])) is None


def test_identical_systems_differ_by_zero_with_p_one():
    r = report(dict(MS=1, TOTAL=10, AGREE=9), dict(FA=2, TOTAL=4, AGREE=4))
    result = bootstrap.compare(r, r, bootstrap.Settings(200))
    assert result["TEER"].difference == 0 and result["TEER"].interval == (0, 0) and result["TEER"].p == 1


def test_paired_difference_on_two_files_by_hand():
    # A: TEER 1/10 and 1/2 per file; B: 0 everywhere. Resamples: (2,0) 0.1, (1,1) 2/12, (0,2) 0.5
    a = report(dict(MS=1, TOTAL=10, AGREE=9), dict(MS=1, TOTAL=2, AGREE=1))
    b = report(dict(TOTAL=10, AGREE=10), dict(TOTAL=2, AGREE=2))
    d = bootstrap.compare(a, b, bootstrap.Settings(1000, 0.95, 0))["TEER"]
    assert (d.a, d.b, d.difference) == pytest.approx((2 / 12, 0, 2 / 12))
    assert d.interval == pytest.approx((0.1, 0.5))
    assert d.p == pytest.approx(2 / 1001)


def test_pairing_cancels_what_the_files_share():
    # 30 files of very different difficulty; B is A plus 1 s of error on every file
    rng = np.random.default_rng(0)
    total = rng.uniform(50, 100, 30)
    err = total * rng.uniform(0.05, 0.6, 30)
    a = report(*[dict(MS=e, TOTAL=t, AGREE=t - e) for e, t in zip(err, total)])
    b = report(*[dict(MS=e + 1, TOTAL=t, AGREE=t - e - 1) for e, t in zip(err, total)])
    d = bootstrap.compare(a, b, bootstrap.Settings(500))["TEER"]
    assert d.difference == pytest.approx(-30 / total.sum())
    lo, hi = d.interval
    assert lo <= d.difference <= hi < 0 and d.p == pytest.approx(2 / 501)
    # unpaired, the two systems' own intervals overlap heavily
    ia = bootstrap.intervals(a, bootstrap.Settings(500, seed=1))["TEER"]
    ib = bootstrap.intervals(b, bootstrap.Settings(500, seed=2))["TEER"]
    assert ia[1] > ib[0]


def test_reports_on_different_files_are_refused():
    with pytest.raises(ValueError, match="same files"):
        bootstrap.compare(report(dict(TOTAL=1)), report(dict(TOTAL=1), dict(TOTAL=1)), bootstrap.Settings(10))


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_compare_says_which_system_each_warning_is_about(tmp_path):
    """Warnings of one system are named A or B (stderr, CSV comments, JSON); CSV starts with
    the settings line as score's does."""
    plain = json.loads((EXAMPLES / "hyp.json").read_text())
    hedged = tmp_path / "hedged.json"
    hedged.write_text(json.dumps(plain + [dict(r, emotion="neu") for r in plain if r["emotion"] != "neu"]))
    args = ("compare", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", hedged, "--bootstrap", "20")
    table = teer_cli(*args)
    assert table.returncode == 0, table.stderr
    assert "teer: warning: B: the hypothesis gives a speaker two or more emotions at once" in table.stderr
    csv_out = teer_cli(*args, "--format", "csv")
    lines = csv_out.stdout.splitlines()
    score_csv = teer_cli("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "csv").stdout
    assert lines[0] == score_csv.splitlines()[0] and lines[0].startswith("# teer | preset: wu2023")
    assert any(line.startswith("# warning (B): the hypothesis gives a speaker two or more emotions")
               for line in lines)
    assert not any(line.startswith("# warning (A)") for line in lines)
    data = json.loads(teer_cli(*args, "--format", "json").stdout)
    assert {w["systems"] for w in data["warnings"]} == {"B"}
    assert any("two or more emotions at once" in w["message"] for w in data["warnings"])
    # swapped: the same warning is about A; a warning of both says so
    swapped = json.loads(teer_cli("compare", EXAMPLES / "ref.rttm", hedged, hedged, "--bootstrap", "20",
                                  "--format", "json").stdout)
    assert {w["systems"] for w in swapped["warnings"]} == {"A and B"}


def test_compare_command(tmp_path):
    ref, hyp = EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"
    out = teer_cli("compare", ref, hyp, ref, "--bootstrap", "500")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("# teer |") and lines[1] == f"# A: {hyp}" and lines[2] == f"# B: {ref}"
    assert lines[4].split() == ["rate", "A", "%", "B", "%", "A-B", "%", "95%", "CI", "of", "A-B", "p"]
    assert lines[5].split() == ["TEER", "25.96", "0.00", "25.96", "[16.81,", "34.43]", "0.0040"]
    data = json.loads(teer_cli("compare", ref, hyp, hyp, "--format", "json").stdout)
    assert set(data) == {"settings", "bootstrap", "systems", "difference", "warnings"}
    assert data["bootstrap"]["resamples"] == 1000 and data["bootstrap"]["paired"] is True
    assert data["difference"]["TEER"] == {"A": pytest.approx(0.2596, abs=1e-4), "B": pytest.approx(0.2596, abs=1e-4),
                                          "difference": 0.0, "interval": [0.0, 0.0], "p": 1.0}
    target = tmp_path / "c.csv"
    assert teer_cli("compare", ref, hyp, ref, "--format", "csv", "-o", target).returncode == 0
    rows = target.read_text().splitlines()
    assert rows[0].startswith("# teer | preset: wu2023") and rows[1] == f"# A: {hyp}" and rows[2] == f"# B: {ref}"
    assert rows[3].startswith("# paired bootstrap")
    assert rows[4] == "rate,A,B,difference,CI_low,CI_high,p" and len(rows) == 10


def test_compare_bad_input_names_the_file(tmp_path):
    bad = tmp_path / "b.json"
    bad.write_text('[{"session_id": "dialog1", "start_time": 0, "end_time": "x", "speaker": "a"}]')
    out = teer_cli("compare", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", bad, "-o", tmp_path / "out")
    assert out.returncode == 2 and out.stderr.startswith(f"teer: error: {bad}:segment [0]: ")
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_compare_warns_when_there_are_too_few_files_for_a_bootstrap(tmp_path):
    ref, hyp = EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"  # two files
    out = teer_cli("compare", ref, hyp, ref, "--bootstrap", "100")
    assert out.returncode == 0
    assert "teer: warning: only 2 files: a bootstrap over files has at most 3 distinct resamples" in out.stderr
    out = teer_cli("score", ref, hyp, "--bootstrap", "100")
    assert "teer: warning: only 2 files" in out.stderr
    import teer
    from teer.bootstrap import Settings, compare, few_files

    report = teer.score(str(ref), str(hyp))
    with pytest.warns(teer.TeerWarning, match="only 2 files"):
        compare(report, report, Settings(100))
    assert few_files(10) == [] and "nothing to resample" in few_files(1)[0]


def test_per_file_gives_a_b_and_the_difference_of_each_file(tmp_path):
    import teer

    hyp_b = tmp_path / "b.json"
    seglst = json.loads((EXAMPLES / "hyp.json").read_text())
    hyp_b.write_text(json.dumps([s for s in seglst if s["session_id"] == "dialog1"]))
    args = [sys.executable, "-m", "teer.cli", "compare", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", hyp_b,
            "--bootstrap", "20", "--per-file"]
    run = lambda *extra: subprocess.run([*map(str, args), *extra], capture_output=True, text=True,  # noqa: E731
                                        cwd=ROOT)
    a, b = teer.score(EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"), teer.score(EXAMPLES / "ref.rttm", hyp_b)
    data = json.loads(run("--format", "json").stdout)
    assert set(data["files"]) == {"dialog1", "dialog2"}
    one = data["files"]["dialog2"]
    assert one["A"]["TEER"] == a.files["dialog2"].TEER and one["B"]["TEER"] == 1.0  # all missed
    assert one["difference"]["TEER"] == a.files["dialog2"].TEER - 1.0
    assert one["B"]["EERa"] is None and one["difference"]["EERa"] is None  # nothing detected to compare
    assert data["files"]["dialog1"]["difference"]["DER"] == 0.0
    table = run().stdout.splitlines()
    at = table.index("# per file")
    assert table[at + 1].split() == ["file", "rate", "A", "%", "B", "%", "A-B", "%"]
    assert table[at + 7].split() == ["dialog2", "TEER", f"{100 * a.files['dialog2'].TEER:.2f}", "100.00",
                                     f"{100 * (a.files['dialog2'].TEER - 1):.2f}"]
    csv = [line for line in run("--format", "csv").stdout.splitlines() if not line.startswith("#")]
    assert csv[0] == "file,rate,A,B,difference,CI_low,CI_high,p"
    assert csv[1].startswith("TOTAL,TEER,") and len(csv) == 1 + 5 + 2 * 5
    # without --per-file, the output is as before
    plain = subprocess.run([*map(str, args[:-1]), "--format", "csv"], capture_output=True, text=True, cwd=ROOT)
    assert [x for x in plain.stdout.splitlines() if not x.startswith("#")][0] == "rate,A,B,difference,CI_low,CI_high,p"
