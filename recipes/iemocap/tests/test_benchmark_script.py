"""benchmarks/recipe_train.py runs (tiny shapes, CPU, every mode); no timing is asserted."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from recipes.iemocap.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_recipe_train_benchmark_runs_every_mode_on_cpu(tmp_path):
    cmd = [sys.executable, str(ROOT / "benchmarks" / "recipe_train.py"), "--tiny", "--device", "cpu",
           "--modes", "fp32", "bf16", "ddp2", "--dialogs-per-session", "1", "--utterances-per-dialog", "12",
           "--workers", "0", "--out", str(tmp_path)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "| fp32 | cpu | fp32 |" in res.stdout and "| ddp2 | 2 x cpu | fp32 |" in res.stdout
    assert "| bf16 | cpu | bf16 |" in res.stdout
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [r["mode"] for r in rows] == ["fp32", "bf16", "ddp2"]
    for r in rows:
        assert r["utterances"] > 0 and r["samples_per_s"] > 0 and r["epoch_s"] > 0
        assert r["peak_gpu_gib"] is None and r["gpu_util_pct"] is None   # no GPU here
        assert r["train_loss"] > 0
