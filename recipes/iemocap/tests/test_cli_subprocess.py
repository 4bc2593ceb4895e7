"""The stages as a user runs them: ``python -m ...`` from the repository root."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(*argv) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *map(str, argv)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_synthetic_prepare_align_from_the_command_line(tmp_path):
    corpus = tmp_path / "corpus"
    p = run("recipes.iemocap.tools.synthetic", corpus, "--set", "synthetic.dialogs_per_session=1",
            "--set", "synthetic.utterances_per_dialog=6")
    assert p.returncode == 0, p.stderr
    assert (corpus / "IEMOCAP_full_release" / "Session5" / "dialog" / "EmoEvaluation").is_dir()
    out = tmp_path / "data"
    p = run("recipes.iemocap", "prepare", "--set", f"prepare.corpus={corpus}", "--out", out,
            "--config", "recipes/iemocap/conf/smoke.yaml")
    assert p.returncode == 0, p.stderr
    assert "total" in p.stdout and "Ses05" in p.stdout
    p = run("recipes.iemocap", "align", "--data", out, "--config", "recipes/iemocap/conf/smoke.yaml")
    assert p.returncode == 0, p.stderr
    turns = json.loads((out / "hyp_turns.json").read_text(encoding="utf-8"))
    assert len(turns) == 30 and all(t["utterance_id"] for t in turns)


def test_error_is_one_line_without_traceback(tmp_path):
    p = run("recipes.iemocap", "prepare", "--set", f"prepare.corpus={tmp_path}", "--out", tmp_path / "out")
    assert p.returncode == 2
    assert p.stderr == f"iemocap: error: {tmp_path}: " + p.stderr.split(": ", 3)[3]
    assert "not an IEMOCAP corpus" in p.stderr and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
