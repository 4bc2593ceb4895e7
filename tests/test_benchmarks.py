"""benchmarks/run.py keeps working: a tiny end-to-end run. No timing is asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus  # noqa: E402


def test_corpus_is_deterministic_and_realistic(tmp_path):
    a = corpus.write_corpus(str(tmp_path / "a"), 3, seed=7, per_file=200)
    b = corpus.write_corpus(str(tmp_path / "b"), 3, seed=7, per_file=200)
    assert Path(a[0]).read_bytes() == Path(b[0]).read_bytes()
    assert Path(a[1]).read_bytes() == Path(b[1]).read_bytes()
    ref = corpus.reference(20, 200, seed=1)
    assert 180 * 20 < len(ref.start) < 220 * 20
    assert (ref.end > ref.start).all()
    # several speakers and emotions per file, cross-speaker overlap present
    assert len(np.unique(ref.speaker[ref.file == 0])) >= 3
    assert len(np.unique(ref.emotion[ref.file == 0])) >= 4
    nxt = np.r_[ref.start[1:], np.inf]
    assert ((ref.end > nxt) & (np.r_[ref.file[1:], -1] == ref.file)).mean() > 0.05


@pytest.mark.slow
def test_quick_run_writes_table_json_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("spyder")
    pytest.importorskip("pyannote.metrics")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
                           "--out", str(out), "--work", str(tmp_path / "work")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "results.json").read_text())
    assert (out / "time_vs_size.png").stat().st_size > 0
    assert "| teer |" in (out / "results.md").read_text()
    rows = {(r["corpus"], r["scorer"]): r for r in report["results"]}
    for (name, scorer), r in rows.items():
        assert "wall_s" in r and r["rss_mb"] > 0, (name, scorer, r.get("note"))
        if scorer == "spyder":
            # same collar, same scored time: the same DER (spyder prints 2 decimals)
            assert r["rates"]["DER"] == pytest.approx(rows[name, "teer"]["rates"]["DER"], abs=6e-5)


def test_analysis_memory_script_prints_its_table(tmp_path):
    """benchmarks/analysis_memory.py on a 2-file corpus: a row with each command's time and
    peak RSS, and the ratio to score's (no figure is asserted)."""
    out = tmp_path / "table.md"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "analysis_memory.py"), "--files", "2",
                           "--work", str(tmp_path), "--commands", "score,analyze", "--out", str(out)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    rows = out.read_text().splitlines()
    assert rows[0].startswith("| corpus | RTTM lines | score: time, peak RSS | analyze: time, peak RSS |")
    assert rows[2].startswith("| 2 files | ") and " MB | analyze " in rows[2] and rows[2].endswith("x |")
