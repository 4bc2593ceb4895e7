"""`teer score` imports only what the run uses: start-up time is most of a small run's time."""
from __future__ import annotations

import ast
import functools
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@functools.lru_cache(maxsize=1)
def _preloaded() -> frozenset[str]:
    """The modules a bare interpreter of this environment has loaded before any teer code:
    site's .pth files may load some (a setuptools editable finder, for one, loads tempfile
    through certifi in some versions); those are not teer's doing."""
    out = subprocess.run([sys.executable, "-c", "import sys; print(repr(sorted(sys.modules)))"],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return frozenset(ast.literal_eval(out.stdout.splitlines()[-1]))


def modules_after(*args: str) -> set[str]:
    """The modules a whole `teer` run loads in a fresh interpreter (beyond those the
    environment loads at start-up, ``_preloaded``)."""
    code = ("import io, contextlib, sys, teer.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            f"    status = teer.cli.main({list(args)!r})\n"
            "print(repr([status, sorted(sys.modules)]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    status, modules = ast.literal_eval(out.stdout.splitlines()[-1])
    assert status == 0
    return set(modules) - _preloaded()


NEVER = ("matplotlib", "pyannote", "scipy", "teer.figures", "teer.analysis", "teer.validation", "teer.comparison",
         "teer.pyannote", "numpy.ma", "tempfile")


def unused(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NEVER))


def test_rttm_run_loads_no_json_reader_plotting_pyannote_or_scipy_package():
    ref = str(EXAMPLES / "ref.rttm")
    modules = modules_after("score", ref, ref)
    assert not unused(modules)
    assert not {"json", "teer.io.seglst", "teer.io.zed", "teer.io.frames", "teer.io.uem"} & modules
    # the mapping is computed, and the reference against itself needs no solver: each
    # speaker's largest overlap settles it (``teer.matcher.greedy_unique``), scipy's
    # assignment solver is not even loaded
    assert "teer.matcher" in modules and "_lsap" not in modules


def test_json_run_loads_the_json_reader_and_a_fixed_mapping_no_solver(tmp_path):
    speaker_map = tmp_path / "map.txt"
    speaker_map.write_text("dialog1 spk0 alice\ndialog1 spk1 bob\n")
    modules = modules_after("score", str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"),
                            "--speaker-map", str(speaker_map), "--format", "json")
    assert "teer.io.seglst" in modules and "json" in modules
    assert not unused(modules)
    assert "_lsap" not in modules


def test_a_mapping_the_largest_overlaps_leave_open_loads_scipys_solver_alone(tmp_path):
    # overlaps A-X 10, A-Y 5, B-X 4, B-Y 1 s: both reference speakers overlap X most and both
    # hypothesis speakers overlap A most, so the largest overlaps settle nothing and the
    # assignment solver runs (A-X, B-Y: 11 s), loaded without the scipy package
    ref, hyp = tmp_path / "ref.rttm", tmp_path / "hyp.rttm"
    ref.write_text("SPEAKER f 1 0 15 hap <NA> A <NA> <NA>\nSPEAKER f 1 15 5 sad <NA> B <NA> <NA>\n")
    hyp.write_text("SPEAKER f 1 0 10 hap <NA> X <NA> <NA>\nSPEAKER f 1 15 4 hap <NA> X <NA> <NA>\n"
                   "SPEAKER f 1 10 5 sad <NA> Y <NA> <NA>\nSPEAKER f 1 19 1 sad <NA> Y <NA> <NA>\n")
    modules = modules_after("score", str(ref), str(hyp), "--collar", "0")
    assert not unused(modules)
    assert "_lsap" in modules
