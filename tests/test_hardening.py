"""The contract under hostile input (issue 10): exit 0 with a right number, or exit 2 with
one line ``teer: error: ...``. Each test is a reproducer of a case that once broke it."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import teer
from teer.engine import grid, scoring
from teer.cli import main
from teer.segments import MAX_TIME

from .corpus import corpus

FORMATS_DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"
LINE = "SPEAKER {f} 1 {t} {d} hap <NA> {s} <NA> <NA>\n"


def rttm(path, rows):
    """Write RTTM lines from (file, onset, duration, speaker) tuples."""
    path.write_text("".join(LINE.format(f=f, t=t, d=d, s=s) for f, t, d, s in rows))
    return path


def cli(capsys, *args):
    """Run ``teer`` in-process: (exit status, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def one_error(capsys, *args) -> str:
    """The single error line of a run that must fail with exit status 2."""
    code, out, err = cli(capsys, *args)
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("teer: error: "), err
    return lines[0]


# --------------------------------------------------------------------------
# wrong numbers


def test_an_extreme_time_is_refused_instead_of_corrupting_other_files(tmp_path, capsys):
    ref = rttm(tmp_path / "ref.rttm", [(f, 0, 10, "s") for f in "abc"])
    for duration in ("1e16", "1e307"):
        hyp = rttm(tmp_path / "hyp.rttm", [("a", 0, duration, "s"), ("b", 0, 10, "s"), ("c", 0, 10, "s")])
        for preset in ("wu2023", "ser-align"):
            line = one_error(capsys, "score", ref, hyp, "--per-file", "--preset", preset)
            # (the duration alone is beyond it: read exactly, it is refused as it is read)
            assert "hyp.rttm:1: duration" in line and "largest time" in line


@pytest.mark.parametrize("preset", ["wu2023", "ser-align"])
def test_large_times_up_to_the_maximum_keep_files_apart(tmp_path, preset):
    # forty files with onsets 0 and a time near the maximum: each file has 2 s of speech
    rows = [(f"f{k:02d}", t, 1, "s") for k in range(40) for t in (0, 4e9)]
    ref = rttm(tmp_path / "ref.rttm", rows)
    report = teer.score(ref, ref, collar=None if preset == "ser-align" else 0, preset=preset)
    assert {c.TOTAL for c in report.files.values()} == {2.0}
    assert all(c.DER == 0 for c in report.files.values())


def test_file_time_order_is_exact_whatever_the_magnitudes():
    rng = np.random.default_rng(0)
    for scale in (1.0, 1e6, MAX_TIME, 1e300):
        f = rng.integers(0, 50, 5000).astype(np.int32)
        t = rng.choice([0.0, scale, scale / 3, scale * (1 - 1e-16), 1e-300], 5000) + rng.random(5000) * (scale < 1e9)
        order = grid._file_time_order(f, t)
        assert np.array_equal(f[order], f[np.lexsort((t, f))])
        assert np.array_equal(t[order], t[np.lexsort((t, f))])


def test_the_largest_time_is_documented_and_checked_everywhere(tmp_path):
    exponent = math.log2(MAX_TIME)
    superscript = str(int(exponent)).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
    assert exponent.is_integer() and f"Times are at most 2{superscript} s" in FORMATS_DOC.read_text(encoding="utf-8")
    with pytest.raises(teer.InputError, match="largest time"):
        teer.score([dict(file="a", start=0, end=MAX_TIME * 2, speaker="s")], [])
    with pytest.raises(teer.InputError, match="largest time"):
        teer.score([dict(file="a", start=0, end=1, speaker="s")], [], uem={"a": [(0, 1e10)]})
    (tmp_path / "u.uem").write_text("a 1 0 1e10\n")
    with pytest.raises(teer.InputError, match=r"u.uem:1: end 1e10 is beyond the largest time"):
        teer.io.read_uem(tmp_path / "u.uem")


@pytest.mark.parametrize("collar", ["inf", "nan", "-inf", "-1", "1_0", "0x1", "٣"])
def test_a_collar_that_is_not_a_finite_non_negative_number_is_an_error(capsys, collar):
    line = one_error(capsys, "score", "examples/ref.rttm", "examples/hyp.json", f"--collar={collar}")
    assert "--collar" in line


def test_a_huge_finite_collar_removes_everything():
    assert teer.score("examples/ref.rttm", "examples/hyp.json", collar=1e300).total.TOTAL == 0


def test_duplicate_file_ids_in_the_json_mapping_are_an_error(tmp_path, capsys):
    seg = '{"start": %d, "end": %d, "speaker": "s", "emotion": "hap"}'
    path = tmp_path / "hyp.json"
    path.write_text('{"a": [%s], "a": [%s]}' % (seg % (0, 10), seg % (20, 30)))
    line = one_error(capsys, "score", "examples/ref.rttm", path)
    assert "file id 'a' appears twice" in line
    code, out, _ = cli(capsys, "validate", path)
    assert code == 1 and "appears twice" in out


def test_a_key_twice_in_one_segment_is_an_error(tmp_path):
    path = tmp_path / "hyp.json"
    path.write_text('[{"session_id": "a", "start_time": 0, "start_time": 5, "end_time": 9, "speaker": "s"}]')
    with pytest.raises(teer.InputError, match=r"segment \[0\]: key 'start_time' appears twice"):
        teer.io.load(path)


@pytest.mark.parametrize("number", ["1_0", "١٠", "５", "0x10", "1e", "--1"])
def test_numbers_are_ascii_decimal_in_every_format(tmp_path, number):
    rttm_line = f"SPEAKER a 1 {number} 1 hap <NA> s <NA> <NA>\n"
    (tmp_path / "fast.rttm").write_text(rttm_line)  # one kind of line: the fast reader
    (tmp_path / "slow.rttm").write_text(";; comment\n" + rttm_line)  # the per-line reader
    (tmp_path / "list.json").write_text(json.dumps(
        [{"session_id": "a", "start_time": number, "end_time": 20, "speaker": "s"}]))
    (tmp_path / "map.json").write_text(json.dumps({"a": [{"start": 0, "end": number, "speaker": "s"}]}))
    (tmp_path / "u.uem").write_text(f"a 1 0 {number}\n")
    for name in ("fast.rttm", "slow.rttm", "list.json", "map.json"):
        with pytest.raises(teer.InputError, match="is not a number"):
            teer.io.load(tmp_path / name)
    with pytest.raises(teer.InputError, match="is not a number"):
        teer.io.read_uem(tmp_path / "u.uem")
    with pytest.raises(teer.InputError, match="is not a number"):
        teer.score([dict(file="a", start=number, end=20, speaker="s")], [])


def test_ordinary_numbers_still_read():
    from teer.io.values import is_number

    for good in ("0", "12", "1.", ".5", "-0.25", "+3e-2", "1E5", "inf", "NaN"):
        assert is_number(good) and is_number(good.encode())


# --------------------------------------------------------------------------
# one-line errors


@pytest.mark.parametrize("args, option", [
    (["--format", "xml"], "--format"), (["--bootstrap", "x"], "--bootstrap"), (["--bootstrap", "0"], "--bootstrap"),
    (["--confidence", "1.5"], "--confidence"), (["--seed", "1_0"], "--seed"), (["--preset", "nope"], "--preset"),
])
def test_bad_option_values_are_one_line_naming_the_option(capsys, args, option):
    line = one_error(capsys, "score", "examples/ref.rttm", "examples/hyp.json", *args)
    assert option in line


def test_a_missing_argument_is_one_line(capsys):
    assert "required" in one_error(capsys, "score", "examples/ref.rttm")
    assert "invalid choice" in one_error(capsys, "scor")


def test_a_5000_digit_json_integer_names_the_file(tmp_path, capsys):
    path = tmp_path / "hyp.json"
    path.write_text('[{"session_id": "a", "start_time": %s, "end_time": 1, "speaker": "s", "emotion": "hap"}]'
                    % ("9" * 5000))
    line = one_error(capsys, "score", "examples/ref.rttm", path)
    assert f"{path}:segment [0]: start_time" in line and len(line) < 200


@pytest.mark.parametrize("label, kind", [("a\\ud800", "a lone surrogate"), ("a\\nb", "a control character"),
                                         ("a\\u0000", "a control character")])
@pytest.mark.parametrize("key", ["session_id", "speaker", "emotion"])
def test_labels_with_control_characters_or_lone_surrogates_are_refused(tmp_path, capsys, label, kind, key):
    segment = {"session_id": "dialog1", "start_time": 0, "end_time": 1, "speaker": "s", "emotion": "hap"}
    text = json.dumps(segment).replace(f'"{segment[key]}"', f'"{label}"', 1) if key != "session_id" else \
        json.dumps(segment).replace('"dialog1"', f'"{label}"')
    path = tmp_path / "hyp.json"
    path.write_text(f"[{text}]")
    line = one_error(capsys, "score", "examples/ref.rttm", path)
    assert kind in line and "segment [0]" in line
    code, out, _ = cli(capsys, "validate", path)
    assert code == 1 and kind in out
    one_error(capsys, "plot", "examples/ref.rttm", path, "-o", tmp_path / "x.png")


def test_a_control_character_in_an_rttm_label_is_refused(tmp_path):
    (tmp_path / "r.rttm").write_text("SPEAKER a\x01b 1 0 1 hap <NA> s <NA> <NA>\n")
    with pytest.raises(teer.InputError, match=r"r.rttm:1: file id 'a\\x01b' contains a control character"):
        teer.io.load(tmp_path / "r.rttm")


# --------------------------------------------------------------------------
# memory: bounded, or a one-line error


def test_dev_zero_as_an_input_is_refused_at_once(capsys):
    line = one_error(capsys, "score", "/dev/zero", "examples/hyp.json")
    assert "/dev/zero:1: not a text file (contains NUL bytes)" in line
    code, out, _ = cli(capsys, "validate", "/dev/zero")
    assert code == 1 and "not a text file" in out


def test_a_pipe_is_read_as_a_file(tmp_path):
    import os
    import threading

    fifo = tmp_path / "hyp.pipe"
    os.mkfifo(fifo)
    text = open("examples/hyp.json").read()
    writer = threading.Thread(target=lambda: fifo.write_text(text))
    writer.start()
    report = teer.score("examples/ref.rttm", fifo)
    writer.join()
    assert report.total.TEER == teer.score("examples/ref.rttm", "examples/hyp.json").total.TEER


@pytest.mark.parametrize("command", ["score", "compare"])
def test_an_absurd_bootstrap_is_a_one_line_error(capsys, command):
    hyps = ["examples/hyp.json"] * (2 if command == "compare" else 1)
    line = one_error(capsys, command, "examples/ref.rttm", *hyps, "--bootstrap", "100000000")
    assert "between 1 and 1,000,000" in line


def test_absurd_label_counts_are_refused_by_analyze_and_plot(tmp_path, capsys, monkeypatch):
    from teer import analysis, figures

    monkeypatch.setattr(analysis, "MAX_LABELS", 20)  # the real bound (1000) works the same
    ref = rttm(tmp_path / "ref.rttm", [("a", i, 1, "s") for i in range(30)])
    ref.write_text("".join(line.replace(" hap ", f" e{i} ") for i, line in enumerate(ref.read_text().splitlines(True))))
    assert "30 distinct emotion labels" in one_error(capsys, "analyze", ref, ref)
    monkeypatch.setattr(analysis, "MAX_LABELS", 1000)
    monkeypatch.setattr(figures, "MAX_PLOT_LABELS", 10)
    assert "a confusion figure takes at most 10" in one_error(capsys, "plot", ref, ref, "-o", tmp_path / "c.png")
    assert not (tmp_path / "c.png").exists()


def test_validate_counts_by_batches_equal_one_sweep(monkeypatch):
    from teer import validation
    from teer.io import from_records

    ref, _ = corpus(3, n_files=5, self_overlap=True)
    table = from_records(ref)
    whole = validation.counts(table)
    monkeypatch.setattr(scoring, "BATCH_SEGMENTS", 7)
    batched = validation.counts(table)
    for key, value in whole.items():
        assert batched[key] == (pytest.approx(value) if isinstance(value, float) else value)


# --------------------------------------------------------------------------
# output paths


def test_output_to_a_device_writes_it_and_keeps_the_device(capsys):
    import stat

    code, out, _ = cli(capsys, "score", "examples/ref.rttm", "examples/hyp.json", "-o", "/dev/null")
    assert code == 0 and out == ""
    assert stat.S_ISCHR(__import__("os").stat("/dev/null").st_mode)
    line = one_error(capsys, "score", "examples/ref.rttm", "examples/hyp.json", "-o", "/dev/full")
    assert "/dev/full: cannot write" in line
    assert stat.S_ISCHR(__import__("os").stat("/dev/full").st_mode)


def test_output_to_a_fifo_writes_into_it(tmp_path, capsys):
    import os
    import threading

    fifo = tmp_path / "out.pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()))
    reader.start()
    code, _, _ = cli(capsys, "score", "examples/ref.rttm", "examples/hyp.json", "--format", "json", "-o", fifo)
    reader.join()
    assert code == 0 and json.loads(got[0])["total"]["TOTAL"] > 0
    assert fifo.is_fifo()


def test_output_through_a_symlink_writes_its_target(tmp_path, capsys):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    code, _, _ = cli(capsys, "score", "examples/ref.rttm", "examples/hyp.json", "--format", "json", "-o", link)
    assert code == 0 and link.is_symlink()
    assert json.loads(target.read_text())["total"]["TOTAL"] > 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_output_to_a_hard_linked_file_keeps_the_link(tmp_path, capsys):
    import os

    first = tmp_path / "a.json"
    first.write_text("old")
    os.link(first, tmp_path / "b.json")
    code, _, _ = cli(capsys, "score", "examples/ref.rttm", "examples/hyp.json", "--format", "json", "-o", first)
    assert code == 0 and (tmp_path / "b.json").read_text() == first.read_text() != "old"


@pytest.mark.parametrize("which", ["reference", "hypothesis", "link to the hypothesis", "uem"])
def test_output_naming_an_input_is_refused_and_the_input_kept(tmp_path, capsys, which):
    import shutil

    ref = tmp_path / "ref.rttm"
    hyp = tmp_path / "hyp.json"
    shutil.copy("examples/ref.rttm", ref)
    shutil.copy("examples/hyp.json", hyp)
    uem = tmp_path / "u.uem"
    uem.write_text("dialog1 1 0 100\ndialog2 1 0 100\n")
    link = tmp_path / "link.json"
    link.symlink_to(hyp)
    output = {"reference": ref, "hypothesis": hyp, "link to the hypothesis": link, "uem": uem}[which]
    before = {p: p.read_bytes() for p in (ref, hyp, uem)}
    line = one_error(capsys, "score", ref, hyp, "--uem", uem, "-o", output)
    assert "the output file is also an input" in line
    assert {p: p.read_bytes() for p in (ref, hyp, uem)} == before


def test_a_kill_while_writing_leaves_no_temporary_file(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    # the write is made slow by a hook so that the signal arrives while the temporary file exists
    script = (
        "import os, sys, time\n"
        "from teer.io import writing\n"
        "real = os.fsync\n"
        "def slow(fd):\n"
        "    print('writing', flush=True); time.sleep(30); real(fd)\n"
        "writing.os.fsync = slow\n"
        "from teer.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n")
    out = tmp_path / "out.json"
    proc = subprocess.Popen([sys.executable, "-c", script, "score", "examples/ref.rttm", "examples/hyp.json",
                             "-o", str(out)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert proc.stdout.readline().strip() == "writing"
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) != 0
    time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []


def test_a_successful_plot_prints_no_matplotlib_warning(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    # a label the default font has no glyph for: matplotlib warns about the missing glyph
    ref = tmp_path / "ref.rttm"
    ref.write_text("SPEAKER a 1 0 5 \u6012 <NA> A <NA> <NA>\nSPEAKER a 1 5 5 \u559c <NA> B <NA> <NA>\n")
    import os
    import subprocess
    import sys

    for extra in ([], ["--timeline", "a"]):
        # a process of its own: in pytest, warnings are captured instead of printed
        run = subprocess.run([sys.executable, "-m", "teer.cli", "plot", str(ref), str(ref), "-o",
                              str(tmp_path / "fig.png"), *extra], capture_output=True, text=True,
                             env={**os.environ, "PYTHONPATH": os.getcwd()})
        assert run.returncode == 0 and run.stdout == ""
        assert all(line.startswith("teer: warning: ") for line in run.stderr.splitlines()), run.stderr
