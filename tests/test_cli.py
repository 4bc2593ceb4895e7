"""The command line as a user runs it: real files, real process exit codes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def teer(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_score_example_table_names_settings_and_rates():
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--per-file")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("# teer") and "collar: 0.25" in lines[0] and "reference extent" in lines[0]
    assert lines[1].startswith("# scored time: reference speech 30.20 s") and lines[1].endswith(
        "collars 6.70 s = TOTAL 23.50 s (77.8 % of it)")
    assert lines[2].split()[:2] == ["file", "TEER"]
    assert [line.split()[0] for line in lines[3:]] == ["dialog1", "dialog2", "TOTAL"]


def test_json_output_has_exactly_the_documented_keys(tmp_path):
    target = tmp_path / "out.json"
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "json", "-o", target)
    assert out.returncode == 0 and out.stdout == ""
    data = json.loads(target.read_text())
    assert set(data) == {"settings", "total", "files", "speaker_mapping"}
    assert data["speaker_mapping"] == {"dialog1": {"spk0": "alice", "spk1": "bob"},
                                       "dialog2": {"spk0": "carol", "spk1": "dave"}}
    keys = {"TEER", "sTEER", "EERa", "sEERa", "DER", "MS", "FA", "CONF_emo", "CONF_spk",
            "CONF_emo_spk", "AGREE", "TOTAL", "SPEECH", "REMOVED_UEM", "REMOVED_NOSCORE", "REMOVED_REGIONS",
            "REMOVED_COLLAR"}
    assert set(data["total"]) == keys
    assert all(set(f) == keys for f in data["files"].values())
    assert set(data["files"]) == {"dialog1", "dialog2"}
    assert 0 < data["total"]["TEER"] < 1


def test_csv_output(tmp_path):
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "csv", "--per-file")
    rows = out.stdout.splitlines()
    # the CSV says how it was scored: the table's settings line, as a comment
    table = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json").stdout.splitlines()
    assert rows[0] == table[0] and rows[0].startswith("# teer | preset: wu2023")
    assert rows[1].startswith("file,TEER,sTEER,EERa,sEERa,DER,MS")
    assert len(rows) == 5
    # seconds are rounded as in JSON (1e-9 s): no float noise such as 2.5999999999999996
    total = dict(zip(rows[1].split(","), rows[-1].split(",")))
    assert total["MS"] == "2.6" and total["CONF_emo"] == "3.5"


def test_reference_without_emotions_reports_na_and_why(tmp_path):
    ref = tmp_path / "ref.rttm"
    ref.write_text("SPEAKER f 1 0 4 <NA> <NA> A <NA> <NA>\n")
    hyp = tmp_path / "hyp.rttm"
    hyp.write_text("SPEAKER f 1 0 4 <NA> <NA> X <NA> <NA>\n")
    out = teer("score", ref, hyp)
    assert out.returncode == 0
    assert "no emotion labels" in out.stdout
    total = out.stdout.splitlines()[-1].split()
    assert total[1:5] == ["n/a"] * 4 and total[5] == "0.00"
    data = json.loads(teer("score", ref, hyp, "--format", "json").stdout)
    assert data["total"]["TEER"] is None and data["total"]["DER"] == 0


@pytest.mark.parametrize("content, message", [
    ("SPEAKER f 1 0 4 hap <NA> A\n", "f.rttm:1:"),
    ("SPEAKER f 1 zero 4 hap <NA> A <NA> <NA>\n", "f.rttm:1:"),
    ("SPEAKER f 1 0 -4 hap <NA> A <NA> <NA>\n", "f.rttm:1:"),
    ("SPEAKER f 1 0 4 hap <NA> A <NA> <NA>\nSPEAKER f 1 nan 4 hap <NA> A <NA> <NA>\n", "f.rttm:2:"),
    ("", "no segments"),
])
def test_bad_reference_is_one_line_exit_2_and_no_output_file(tmp_path, content, message):
    ref = tmp_path / "f.rttm"
    ref.write_text(content)
    target = tmp_path / "out.json"
    out = teer("score", ref, EXAMPLES / "hyp.json", "-o", target)
    assert out.returncode == 2
    assert out.stderr.startswith("teer: error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
    assert not target.exists() and os.listdir(tmp_path) == ["f.rttm"]


def test_bad_options_and_paths(tmp_path):
    for args, message in [
        (["--collar", "-1"], "collar"),
        (["--uem", tmp_path / "missing.uem"], "no such file"),
        (["-o", tmp_path / "no" / "dir" / "x"], "cannot write"),
        (["--uem", tmp_path], "is a directory"),
    ]:
        out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", *args)
        assert out.returncode == 2, args
        assert message in out.stderr and "Traceback" not in out.stderr


def test_warnings_go_to_stderr(tmp_path):
    hyp = tmp_path / "hyp.json"
    hyp.write_text(json.dumps({"other": [{"start": 0, "end": 1, "speaker": "x", "emotion": "hap"}]}))
    out = teer("score", EXAMPLES / "ref.rttm", hyp)
    assert out.returncode == 0
    assert "teer: warning:" in out.stderr and "only in the hypothesis" in out.stderr
    assert "TOTAL" in out.stdout


def test_json_seconds_are_rounded_to_a_nanosecond(tmp_path):
    # 0.1 + 0.2 s of speech and the like: sums whose float noise used to reach the JSON
    ref = tmp_path / "ref.rttm"
    ref.write_text("SPEAKER f 1 0.1 0.2 hap <NA> A <NA> <NA>\nSPEAKER f 1 0.3 2.3 sad <NA> A <NA> <NA>\n")
    hyp = tmp_path / "hyp.json"
    hyp.write_text('[{"session_id": "f", "start_time": 0.1, "end_time": 0.7, "speaker": "X", "emotion": "hap"}]')
    import teer as api

    report = api.score(str(ref), str(hyp), collar=0)
    exact = report.total.to_dict()
    # integer ticks: the sums are the decimals (float sums used to give 2.4999999999999996)
    assert (exact["TOTAL"], exact["MS"], exact["AGREE"]) == (2.5, 1.9, 0.6)
    out = teer("score", ref, hyp, "--collar", "0", "--format", "json", "--per-file")
    data = json.loads(out.stdout)
    for row in (data["total"], data["files"]["f"]):
        for key in ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL"):
            assert row[key] == round(exact[key], 9)
        assert row["TEER"] == exact["TEER"]  # rates are computed from the exact sums, not rounded
    assert "99999999" not in out.stdout and "00000001" not in out.stdout


def test_a_dash_reads_standard_input_on_either_side_not_both(tmp_path):
    import gzip

    def piped(*args, stdin: bytes):
        return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True,
                              input=stdin, env={**os.environ, "PYTHONPATH": str(ROOT)})

    expected = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "json").stdout
    hyp_gz = tmp_path / "hyp.json.gz"
    hyp_gz.write_bytes(gzip.compress((EXAMPLES / "hyp.json").read_bytes()))
    ref = (EXAMPLES / "ref.rttm").read_bytes()
    for args, stdin in ((("-", hyp_gz), ref), ((EXAMPLES / "ref.rttm", "-"), (EXAMPLES / "hyp.json").read_bytes()),
                        ((EXAMPLES / "ref.rttm", "-", "--jobs", "2"), (EXAMPLES / "hyp.json").read_bytes())):
        out = piped("score", *args, "--format", "json", stdin=stdin)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["files"] == json.loads(expected)["files"]
    both = piped("score", "-", "-", stdin=ref)
    assert both.returncode == 2 and both.stderr.decode().strip() == (
        "teer: error: '-' (standard input) is given for 2 inputs: it can stand for one only")
    bad = piped("score", EXAMPLES / "ref.rttm", "-", stdin=b"SPEAKER d 1 x 1 neu <NA> A <NA> <NA>\n")
    assert bad.returncode == 2 and bad.stderr.decode().startswith("teer: error: <stdin>:1: ")
    check = piped("validate", "-", stdin=ref)
    assert check.returncode == 0 and check.stdout.decode().startswith("-: OK (RTTM)")


@pytest.mark.parametrize("name, starts", [("out.json", "{"), ("out.CSV", "# teer"), ("out.md", "# teer"),
                                          ("out.txt", "# teer"), ("out", "# teer")])
def test_the_extension_of_o_chooses_the_format(tmp_path, name, starts):
    target = tmp_path / name
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "-o", target)
    assert out.returncode == 0 and out.stderr == ""
    text = target.read_text()
    assert text.startswith(starts)
    if name == "out.json":
        assert json.loads(text)["files"]
    elif name == "out.CSV":
        assert any(line.startswith("file,TEER,") for line in text.splitlines())
    else:
        assert any(line.split()[:2] == ["file", "TEER"] for line in text.splitlines())


@pytest.mark.parametrize("args, message", [
    (("score", "--format", "csv", "-o", "{}/out.json"),
     "{}/out.json: --format csv contradicts the .json extension (json): give one, or make them agree"),
    (("score", "--format", "json", "-o", "{}/out.txt"),
     "{}/out.txt: --format json contradicts the .txt extension (table): give one, or make them agree"),
    (("validate", "-o", "{}/out.csv"),
     "{}/out.csv: the .csv extension names csv output, which teer validate does not write (--format table|json)"),
])
def test_a_format_the_extension_contradicts_is_an_error(tmp_path, args, message):
    command, *rest = args
    inputs = [EXAMPLES / "ref.rttm"] + ([EXAMPLES / "hyp.json"] if command == "score" else [])
    out = teer(command, *inputs, *[a.format(tmp_path) for a in rest])
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr == f"teer: error: {message.format(tmp_path)}\n"
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_format_the_extension_agrees_with_is_fine(tmp_path):
    out = teer("analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--format", "csv", "--view", "mapping",
               "-o", tmp_path / "m.csv")
    assert out.returncode == 0
    assert (tmp_path / "m.csv").read_text().splitlines()[-1] == "dialog2,spk1,dave"


def test_csv_quotes_a_file_id_with_a_hash_so_that_pandas_reads_it_whole(tmp_path):
    """The CSV outputs start with # comments, read by pandas.read_csv(path, comment="#"):
    a file id holding # is quoted, in score's, analyze's and compare's CSV."""
    pd = pytest.importorskip("pandas")
    ref = tmp_path / "ref.rttm"
    hyp = tmp_path / "hyp.rttm"
    ref.write_text("SPEAKER take#2 1 0 4 hap <NA> A <NA> <NA>\nSPEAKER plain 1 0 4 sad <NA> B <NA> <NA>\n")
    hyp.write_text("SPEAKER take#2 1 0 4 hap <NA> X <NA> <NA>\nSPEAKER plain 1 0 4 hap <NA> Y <NA> <NA>\n")
    for command, extra in (("score", ["--per-file"]), ("analyze", ["--view", "speaker"]),
                           ("compare", ["--per-file", "--bootstrap", "10"])):
        path = tmp_path / f"{command}.csv"
        args = [command, ref, hyp] + ([hyp] if command == "compare" else []) + extra
        out = teer(*args, "--format", "csv", "-o", path)
        assert out.returncode == 0, out.stderr
        frame = pd.read_csv(path, comment="#")
        assert "take#2" in set(frame["file"]), (command, list(frame["file"]))
    frame = pd.read_csv(tmp_path / "score.csv", comment="#")
    assert frame.set_index("file").loc["take#2", "TEER"] == 0
