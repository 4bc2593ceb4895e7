"""--jobs: batches of files swept in several processes give the same output, bit for bit."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import teer
from teer import engine
from teer.io import load_hypothesis, load_reference

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import corpus  # noqa: E402


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    # 60 conversations of ~850 segments a side: three batches of the engine's default size
    ref, hyp, _, _ = corpus.write_corpus(str(tmp_path_factory.mktemp("jobs")), 60, seed=3, per_file=850)
    return ref, hyp


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_json_output_identical_for_any_number_of_jobs(files):
    outputs = []
    for jobs in (1, 2, 3, 0):
        out = teer_cli("score", *files, "--collar", "0.25", "--per-file", "--format", "json", "--jobs", jobs)
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout)
    assert b'"TEER"' in outputs[0]
    assert all(o == outputs[0] for o in outputs[1:])


@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_engine_sums_identical_bit_for_bit(files, collar):
    ref, hyp = load_reference(files[0]), load_hypothesis(files[1])
    one = engine.score(ref, hyp, collar=collar, batch_segments=7_000, jobs=1)
    two = engine.score(ref, hyp, collar=collar, batch_segments=7_000, jobs=2)
    assert one.files == two.files and one.files_apart == two.files_apart
    assert one.self_overlaps == two.self_overlaps and one.hyp_several_emotions == two.hyp_several_emotions
    assert one.components.keys() == two.components.keys()
    for key in one.components:
        assert one.components[key].tobytes() == two.components[key].tobytes()
    assert one.components["TOTAL"].sum() > 0


def test_api_jobs_same_report_and_bad_values_refused(files):
    ref, hyp = files
    assert teer.score(ref, hyp, jobs=2).to_dict() == teer.score(ref, hyp).to_dict()
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="jobs"):
            teer.score(ref, hyp, jobs=bad)


def test_cli_negative_jobs_is_a_one_line_error(files):
    out = teer_cli("score", *files, "--jobs", "-2")
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        "teer: error: --jobs must be a whole number >= 0 (0 = all cores), not -2"]


def _pid(_):
    return os.getpid()


def test_work_runs_in_other_processes_results_in_order():
    from teer.parallel import ordered_map

    assert list(ordered_map(lambda x: x * x, range(10), jobs=2)) == [x * x for x in range(10)]
    pids = set(ordered_map(_pid, range(8), jobs=2))
    assert os.getpid() not in pids and len(pids) >= 1
    assert set(ordered_map(_pid, range(8), jobs=1)) == {os.getpid()}


def _default_sigterm(_):
    import signal

    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_workers_die_on_sigterm_whatever_handler_the_parent_has():
    # the CLI's SIGTERM handler, inherited by a worker, made Pool.terminate hang now and then
    import signal

    from teer.parallel import ordered_map

    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        assert list(ordered_map(_default_sigterm, range(4), jobs=2)) == [True] * 4
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_input_error_in_a_worker_reaches_the_caller(tmp_path, files):
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER f 1 0.0 x1 neu <NA> a <NA> <NA>\n")
    for jobs in (1, 2):
        with pytest.raises(teer.InputError, match=r"bad.rttm:1: duration 'x1' is not a number"):
            teer.score(files[0], bad, jobs=jobs)


def _table_of(path):
    return load_hypothesis(path)


@pytest.mark.parametrize("room", [0, 1 << 26])
def test_pair_runs_the_second_elsewhere_and_brings_its_arrays_back(files, room):
    """With room, the worker's arrays come back in memory both processes share; without,
    pickled through the pipe: the same table either way, and the first runs here."""
    from teer.parallel import pair

    here, table = pair(os.getpid, lambda: (os.getpid(), _table_of(files[1])), jobs=2, room=room)
    worker, table = table
    alone = _table_of(files[1])
    assert here == os.getpid() and worker != os.getpid()
    for name in ("file", "start", "end", "speaker", "emotion", "origin"):
        got, want = getattr(table, name), getattr(alone, name)
        assert got.dtype == want.dtype and got.tobytes() == want.tobytes() and got.flags.writeable
    assert (table.files, table.speakers, table.emotions) == (alone.files, alone.speakers, alone.emotions)
    assert pair(os.getpid, os.getpid, jobs=1) == (os.getpid(), os.getpid())


def test_pair_raises_the_workers_input_error(tmp_path, files):
    from teer.parallel import pair

    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER f 1 0.0 x1 neu <NA> a <NA> <NA>\n")
    with pytest.raises(teer.InputError, match=r"bad.rttm:1: duration 'x1' is not a number"):
        pair(lambda: _table_of(files[1]), lambda: _table_of(bad), jobs=2, room=1 << 20)
