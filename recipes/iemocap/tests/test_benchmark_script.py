"""benchmarks/recipe_train.py runs (tiny shapes, CPU, every mode); no timing is asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]


def _bench(tmp_path, *modes):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "recipe_train.py"), "--tiny", "--device", "cpu",
           "--modes", *modes, "--dialogs-per-session", "1", "--utterances-per-dialog", "12",
           "--workers", "0", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["mode"] for r in rows] == list(modes)
    for r in rows:
        assert r["utterances"] > 0 and r["samples_per_s"] > 0 and r["epoch_s"] > 0 and r["audio_s_per_s"] > 0
        assert r["peak_gpu_gib"] is None and r["gpu_util_pct"] is None   # no GPU here
        assert r["peak_rss_gib"] > 0 and r["train_loss"] > 0
    return res.stdout


@pytest.mark.slow
def test_recipe_train_benchmark_runs_the_fine_tuned_modes_on_cpu(tmp_path):
    out = _bench(tmp_path, "fp32", "bf16", "ddp2")
    assert "| fp32 | cpu | fp32 |" in out and "| ddp2 | 2 x cpu | fp32 |" in out and "| bf16 | cpu | bf16 |" in out


@pytest.mark.slow
def test_recipe_train_benchmark_runs_the_frozen_modes_on_cpu(tmp_path):
    out = _bench(tmp_path, "frozen", "frozen-cache")
    assert "| frozen | cpu | fp32 |" in out and "| frozen-cache | cpu | fp32 |" in out
    assert list((tmp_path / "runs" / "frozen-cache" / "features").glob("audio-*/*/*.npy"))
    assert not (tmp_path / "runs" / "frozen" / "features").exists()
