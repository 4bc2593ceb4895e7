"""teer validate: every problem listed, with counts; exit 0 when clean, 1 otherwise."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from teer.validation import check_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": ""})


BAD_RTTM = """;; comment
SPEAKER f 1 0 4 hap <NA> A <NA> <NA>
SPEAKER f 1 x 4 hap <NA> A <NA> <NA>
SPEAKER f 1 0 4 <NA> <NA> B
SPEAKER f 1 2 -1 sad <NA> B <NA> <NA>
SPEAKER f 1 2 3 <NA> <NA> B <NA> <NA>
SPEAKER g 1 2 3 sad <NA> C <NA> <NA>
SPEAKER g 1 2 0 sad <NA> C <NA> <NA>
SPEAKER g 1 1 nan sad <NA> C <NA> <NA>
"""


def test_every_bad_rttm_line_is_reported(tmp_path):
    path = tmp_path / "r.rttm"
    path.write_text(BAD_RTTM)
    c = check_file(path, "reference")
    assert c.format == "RTTM" and not c.ok
    assert c.problems == [
        f"{path}:3: onset 'x' is not a number",
        f"{path}:4: too few fields: expected 9 or 10, found 8",
        f"{path}:5: negative duration -1.0",
        f"{path}:9: duration nan is not a finite number",
        f"{path}:6: segment has no emotion label, but others do",
    ]
    assert any("zero-duration" in w for w in c.warnings)
    # the good lines 2, 6, 7: A 0-4 and B 2-5 overlap over 2-4 in f; C alone in g
    n = c.counts
    assert (n["segments"], n["files"], n["speakers"], n["segments_without_emotion"]) == (3, 2, 3, 1)
    assert n["emotions"] == {"hap": {"segments": 1, "seconds": 4.0}, "sad": {"segments": 1, "seconds": 3.0}}
    assert (n["speech"], n["overlap"], n["overlaps"]) == (8.0, 2.0, 1)
    # as a hypothesis the missing emotion is fine
    assert len(check_file(path).problems) == 4


def test_every_bad_json_segment_is_reported(tmp_path):
    path = tmp_path / "h.json"
    path.write_text(json.dumps([
        {"session_id": "a", "start_time": 0, "end_time": 2, "speaker": "X", "emotion": "hap"},
        {"session_id": "a", "start_time": "q", "end_time": 2, "speaker": "X", "emotion": "hap"},
        {"session_id": "a", "start_time": 1, "end_time": 0.5, "speaker": "X", "emotion": "hap"},
        {"session_id": "a", "start_time": 1, "end_time": 3, "speaker": "Y", "emotion": "hap"},
        {"start_time": 1, "end_time": 3, "speaker": "Y", "emotion": "hap"},
        3,
    ]))
    c = check_file(path)
    assert c.format == "JSON" and c.problems == [
        f"{path}:segment [1]: start_time 'q' is not a number",
        f"{path}:segment [2]: end time 0.5 is before start time 1.0",
        f"{path}:segment [4]: missing key 'session_id'",
        f"{path}:segment [5]: segment is not an object (found a number)",
    ]
    assert (c.counts["segments"], c.counts["speakers"], c.counts["overlap"], c.counts["overlaps"]) == (2, 2, 1.0, 1)


def test_mapping_json_and_same_speaker_overlaps(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"a": [{"start": 0, "end": 2, "speaker": "X", "emotion": "hap"},
                                      {"start": 1, "end": 3, "speaker": "X", "emotion": "sad"}],
                                "b": [{"start": 0, "end": "?", "speaker": "X"}]}))
    c = check_file(path)
    assert c.problems == [f"{path}:segment b[0]: end '?' is not a number"]
    assert c.counts["same_speaker_overlaps"] == 1 and c.counts["overlap"] == 0 and c.counts["speech"] == 3


@pytest.mark.parametrize("content, problem", [
    (b"\x00\x01", "not a text file"),
    (b'[{"session_id": "a",', "truncated JSON"),
    (b'{"session_id": "a"}', "single segment object"),
])
def test_file_level_problems_stand_alone(tmp_path, content, problem):
    path = tmp_path / "x"
    path.write_bytes(content)
    c = check_file(path)
    assert len(c.problems) == 1 and problem in c.problems[0] and c.counts == {}


def test_clean_reference_counts():
    c = check_file(EXAMPLES / "ref.rttm", "reference")
    assert c.ok and c.problems == [] and c.warnings == []
    n = c.counts
    assert (n["segments"], n["files"], n["speakers"]) == (9, 2, 4)
    assert {k: v["segments"] for k, v in n["emotions"].items()} == {"ang": 2, "hap": 2, "neu": 3, "sad": 2}
    # overlaps: dialog1 2.9-3.2, 13.4-14.0; dialog2 8.2-8.5
    assert n["overlap"] == pytest.approx(0.3 + 0.6 + 0.3) and n["overlaps"] == 3
    assert n["speech"] == pytest.approx(3.2 + 2.6 + 4 + 3.5 + 2.1 + 5 + 2.5 + 4.3 + 3 - 1.2)


def test_validate_command(tmp_path):
    bad = tmp_path / "r.rttm"
    bad.write_text(BAD_RTTM)
    out = teer_cli("validate", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    assert out.returncode == 0 and out.stdout.splitlines()[-1] == "# 2 file(s) checked, 0 with problems (0 problems)"
    out = teer_cli("validate", "--role", "reference", EXAMPLES / "ref.rttm", bad, tmp_path / "missing")
    assert out.returncode == 1
    text = out.stdout
    assert f"{bad}: 5 problems (RTTM)" in text and f"  {bad}:9: duration nan is not a finite number" in text
    assert f"  {tmp_path / 'missing'}: no such file" in text
    assert text.splitlines()[-1] == "# 3 file(s) checked, 2 with problems (6 problems)"
    target = tmp_path / "v.json"
    out = teer_cli("validate", bad, "--format", "json", "-o", target)
    assert out.returncode == 1 and out.stdout == ""
    data = json.loads(target.read_text())
    assert data["ok"] is False and len(data["files"][0]["problems"]) == 4


def test_a_good_rttm_file_is_validated_in_pieces_and_a_bad_one_whole(tmp_path, monkeypatch):
    # the whole-file read is what made validate's memory grow with the file
    import teer.validation as validate

    whole = []
    real = validate.read_bytes
    monkeypatch.setattr(validate, "read_bytes", lambda path: whole.append(path) or real(path))
    good = tmp_path / "good.rttm"
    good.write_text("SPEAKER f 1 0 4 hap <NA> A <NA> <NA>\nSPEAKER f 1 2 4 sad <NA> B <NA> <NA>\n")
    check = check_file(good, role="reference")
    assert check.ok and check.format == "RTTM" and check.counts["segments"] == 2 and whole == []
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER f 1 0 4 hap <NA> A <NA> <NA>\nSPEAKER f 1 x 4 sad <NA> B <NA> <NA>\n"
                   "SPEAKER f 1 0 4 hap <NA>\n")
    check = check_file(bad)
    assert whole == [bad] and len(check.problems) == 2 and ":2:" in check.problems[0]
