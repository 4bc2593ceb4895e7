"""Bootstrap intervals: hand-computed resamples, coverage on a simulated case, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from teer import bootstrap
from teer.components import RATES, Components, Report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def report(*files: dict) -> Report:
    comps = {f"f{i}": Components(**c) for i, c in enumerate(files)}
    return Report({}, sum(comps.values(), Components()), comps)


# file f0: TEER 1/10, file f1: TEER 1/2 (as MS only), AGREE = TOTAL - MS
F0 = dict(MS=1, TOTAL=10, AGREE=9)
F1 = dict(MS=1, TOTAL=2, AGREE=1)


def test_components_are_resummed_not_rates_averaged():
    settings = bootstrap.Settings(2000, 0.95, 0)
    (sums,) = bootstrap.resampled_sums([bootstrap.component_matrix(report(F0, F1))], settings)
    teer = bootstrap.rates(sums)["TEER"]
    # the three possible resamples: f0 twice, f1 twice, one of each (2/12, not the mean 0.3)
    assert set(np.round(teer, 12)) == {0.1, 0.5, round(2 / 12, 12)}
    assert np.mean(np.isclose(teer, 2 / 12)) == pytest.approx(0.5, abs=0.05)


def test_interval_of_two_files_spans_their_rates():
    cis = bootstrap.intervals(report(F0, F1), bootstrap.Settings(2000, 0.95, 0))
    assert cis["TEER"] == pytest.approx((0.1, 0.5))
    assert cis["DER"] == pytest.approx((0.1, 0.5))
    assert cis["EERa"] == pytest.approx((0.0, 0.0))


def test_one_file_gives_a_point_interval_and_undefined_rates_none():
    cis = bootstrap.intervals(report(dict(MS=1, FA=1, TOTAL=4, AGREE=3)), bootstrap.Settings(50))
    assert cis["TEER"] == pytest.approx((0.5, 0.5))
    no_emotions = Report({}, Components(MS=1, TOTAL=4, emotions=False),
                         {"f": Components(MS=1, TOTAL=4, emotions=False)})
    cis = bootstrap.intervals(no_emotions, bootstrap.Settings(50))
    assert cis["TEER"] is None and cis["DER"] == pytest.approx((0.25, 0.25))
    assert bootstrap.intervals(Report({}, Components(), {}), bootstrap.Settings(10)) == {k: None for k in RATES}


def test_same_seed_same_interval():
    r = report(F0, F1, dict(MS=3, TOTAL=7, AGREE=4), dict(FA=2, TOTAL=5, AGREE=5))
    a = bootstrap.intervals(r, bootstrap.Settings(300, 0.9, 7))
    assert a == bootstrap.intervals(r, bootstrap.Settings(300, 0.9, 7))
    assert a != bootstrap.intervals(r, bootstrap.Settings(300, 0.9, 8))


@pytest.mark.parametrize("bad", [dict(resamples=0), dict(confidence=1.0), dict(confidence=0)])
def test_bad_settings(bad):
    with pytest.raises(ValueError):
        bootstrap.Settings(**{"resamples": 10, **bad})


def test_coverage_on_simulated_files():
    # 40 files whose error share x_i (mean 0.2) is independent of their length:
    # the corpus TEER estimates sum(err)/sum(total), whose limit is 0.2.
    rng = np.random.default_rng(1)
    reps, hits = 300, 0
    for rep in range(reps):
        total = rng.uniform(20, 200, 40)
        err = total * rng.beta(2, 8, 40)
        r = report(*[dict(MS=e, TOTAL=t, AGREE=t - e) for e, t in zip(err, total)])
        lo, hi = bootstrap.intervals(r, bootstrap.Settings(400, 0.95, rep))["TEER"]
        hits += lo <= 0.2 <= hi
    assert 0.88 <= hits / reps <= 0.99


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})


def test_score_bootstrap_json_table_csv():
    args = ["score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"]
    plain = json.loads(teer_cli(*args, "--format", "json").stdout)
    assert set(plain) == {"settings", "total", "files", "speaker_mapping"}
    data = json.loads(teer_cli(*args, "--format", "json", "--bootstrap", "200", "--seed", "3").stdout)
    assert set(data) == {"settings", "total", "files", "speaker_mapping", "intervals", "bootstrap"}
    assert data["total"] == plain["total"] and data["settings"] == plain["settings"]
    assert data["bootstrap"]["resamples"] == 200 and data["bootstrap"]["seed"] == 3
    # two files: the interval runs from one file's rate to the other's
    files = data["files"]
    assert data["intervals"]["TEER"] == pytest.approx(sorted(f["TEER"] for f in files.values()))
    table = teer_cli(*args, "--bootstrap", "200").stdout.splitlines()
    assert table[-4].startswith("# bootstrap: 95% percentile intervals, 200 resamples of 2 file(s), seed 0")
    assert table[-2].split()[:4] == ["95%", "CI", "low", "16.81"]
    assert table[-1].split()[:4] == ["95%", "CI", "high", "34.43"]
    rows = teer_cli(*args, "--bootstrap", "50", "--format", "csv").stdout.splitlines()
    assert rows[-2].startswith("CI_low,0.168") and rows[-1].startswith("CI_high,0.344")
    assert rows[-1].endswith(",,,,,,,")


@pytest.mark.parametrize("option", [["--bootstrap", "0"], ["--bootstrap", "10", "--confidence", "1.5"]])
def test_score_bad_bootstrap_options(option, tmp_path):
    out = teer_cli("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", *option, "-o", tmp_path / "x")
    assert out.returncode == 2 and out.stderr.startswith("teer: error: ")
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "x").exists()
