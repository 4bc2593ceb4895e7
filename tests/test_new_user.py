"""Issue 9, section 2: input a new user gets wrong never gives a confident table in silence.

One test per row of the table in docs/formats.md ("Input that does not mean
what you think"): each runs the command line as a user does (exit status,
stdout, stderr) and, for the warnings, the Python API too (``teer.TeerWarning`` through ``warnings``, and
``report.warnings``).
"""
from __future__ import annotations

import json
import warnings

import pytest

import teer

from .test_cli import teer as cli

REF = ("SPEAKER d1 1 0 4 hap <NA> A <NA> <NA>\n"
       "SPEAKER d1 1 4 3 neu <NA> B <NA> <NA>\n"
       "SPEAKER d2 1 0 5 ang <NA> A <NA> <NA>\n")


@pytest.fixture
def ref(tmp_path):
    path = tmp_path / "ref.rttm"
    path.write_text(REF)
    return path


def hyp_file(tmp_path, text, name="hyp.json"):
    path = tmp_path / name
    path.write_text(text)
    return path


def segments(*rows, file_key="session_id"):
    return json.dumps([{file_key: f, "start_time": s, "end_time": e, "speaker": k, "emotion": m}
                       for f, s, e, k, m in rows])


GOOD = [("d1", 0, 4, "X", "hap"), ("d1", 4, 7, "Y", "neu"), ("d2", 0, 5, "X", "ang")]


def refused(ref, hyp, *expected):
    out = cli("score", ref, hyp)
    assert out.returncode == 2 and out.stdout == ""
    line, = out.stderr.splitlines()
    assert line.startswith(f"teer: error: {hyp}") and "Traceback" not in out.stderr
    for text in expected:
        assert text in line
    return line


def warned(ref, hyp, *expected, **options):
    """Scored (exit 0), with warnings on stderr and through Python's warnings."""
    out = cli("score", ref, hyp, *[f"--{k.replace('_', '-')}={v}" for k, v in options.items()])
    assert out.returncode == 0, out.stderr
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = teer.score(str(ref), str(hyp), **options)
    raised = [str(w.message) for w in caught if issubclass(w.category, teer.TeerWarning)]
    assert raised == report.warnings
    for text in expected:
        assert any(text in w for w in report.warnings), (text, report.warnings)
        assert text in out.stderr
    assert all(line.startswith("teer: warning: ") for line in out.stderr.splitlines())
    return report, out


def test_a_csv_file_or_other_text_is_not_read_as_an_empty_rttm(ref, tmp_path):
    csv = hyp_file(tmp_path, "file,start,end,speaker,emotion\nd1,0,4,X,hap\n", "hyp.csv")
    refused(ref, csv, ":1: not an RTTM line", "'file,start,end,speaker,emotion'", "RTTM", "JSON")
    out = cli("validate", csv)
    assert out.returncode == 1 and "not an RTTM line" in out.stdout and "OK" not in out.stdout


@pytest.mark.parametrize("doc, expected", [
    *[(doc, ("not one of the JSON shapes teer reads", "SegLST", "ZED annotation", "frame labels"))
      for doc in ("42", '"hyp.rttm"', "null")],
    ('{"session_id": "d1", "start_time": 0}', ("expected a list of segments", "wrap it in [ ]")),
])
def test_json_that_is_neither_shape_is_an_error_naming_the_shapes(ref, tmp_path, doc, expected):
    refused(ref, hyp_file(tmp_path, doc), *expected)


@pytest.mark.parametrize("emotion", [..., None])
def test_json_segments_without_an_emotion_are_an_error(ref, tmp_path, emotion):
    rows = json.loads(segments(*GOOD))
    for row in rows:
        if emotion is ...:
            del row["emotion"]
        else:
            row["emotion"] = emotion
    refused(ref, hyp_file(tmp_path, json.dumps(rows)), "segment [0]", "'emotion'", '"<NA>" for none')


def test_a_hypothesis_without_emotion_labels_has_no_emotion_rates(ref, tmp_path):
    hyp = hyp_file(tmp_path, "".join(f"SPEAKER {f} 1 {s} {e - s} <NA> <NA> {k} <NA> <NA>\n"
                                     for f, s, e, k, _ in GOOD), "hyp.rttm")
    out = cli("score", ref, hyp)
    assert out.returncode == 0
    assert "# emotion rates not available: the hypothesis has no emotion labels (DER only)" in out.stdout
    total = out.stdout.splitlines()[-1].split()
    assert total[:5] == ["TOTAL", "n/a", "n/a", "n/a", "n/a"] and total[5] == "0.00"  # DER still reported
    data = json.loads(cli("score", ref, hyp, "--format", "json").stdout)
    assert data["total"]["TEER"] is None and data["total"]["DER"] == 0
    assert "the hypothesis has no emotion labels" in " ".join(data["settings"]["notes"])


def test_an_empty_hypothesis_is_scored_with_a_warning(ref, tmp_path):
    for text in ("", "[]", ";; nothing\n"):
        report, out = warned(ref, hyp_file(tmp_path, text, "hyp.txt"), "the hypothesis has no segments")
        assert report.total.MS == report.total.TOTAL > 0 and report.total.TEER == 1


def test_hypothesis_emotion_labels_unknown_to_the_reference_are_named_with_the_fix(ref, tmp_path):
    hyp = hyp_file(tmp_path, segments(("d1", 0, 4, "X", "Happy"), ("d1", 4, 7, "Y", "NEUTRAL"),
                                      ("d2", 0, 5, "X", "ang"), ("d2", 5, 6, "X", "UNK")))
    report, _ = warned(ref, hyp, "3 hypothesis emotion label(s)", "Happy (near: hap)",
                       "NEUTRAL (near: neu)", "UNK", "--emotion-map Happy=hap,NEUTRAL=neu")
    with pytest.warns(teer.TeerWarning, match="1 hypothesis emotion label"):  # UNK is left
        fixed = teer.score(str(ref), str(hyp), emotion_map="Happy=hap,NEUTRAL=neu")
    assert fixed.total.CONF_emo < report.total.CONF_emo
    assert not any("Happy" in w for w in fixed.warnings)


def test_file_ids_that_match_nowhere_are_warned_both_ways_with_near_matches(ref, tmp_path):
    hyp = hyp_file(tmp_path, segments(("D1", 0, 4, "X", "hap"), ("audio/d2.wav", 0, 5, "X", "ang")))
    report, _ = warned(ref, hyp, "2 reference file(s) not in the hypothesis (d1, d2)",
                       "2 file(s) only in the hypothesis", "'D1' ~ 'd1' (case)",
                       "'audio/d2.wav' ~ 'd2' (directory, extension)")
    assert report.total.MS == report.total.TOTAL
    # one side only, no near match: still a warning each way
    hyp = hyp_file(tmp_path, segments(*GOOD[:2], ("zz", 0, 1, "X", "hap")))
    warned(ref, hyp, "1 reference file(s) not in the hypothesis (d2)", "1 file(s) only in the hypothesis (zz)")


@pytest.mark.parametrize("scale, shift, cause", [
    (1000, 0, "look like milliseconds"),
    # a shift, whatever its size, is an offset: the extent moves without stretching
    (1, 100, "starts about 100.0 s later than the reference and spans about as long: its times look offset"),
    (1, 3600, "starts about 3600.0 s later than the reference and spans about as long: its times look offset"),
    (0.5, 30, "same origin"),
])
def test_hypothesis_speech_mostly_outside_the_scored_time_is_warned(ref, tmp_path, scale, shift, cause):
    hyp = hyp_file(tmp_path, segments(*[(f, s * scale + shift, e * scale + shift, k, m) for f, s, e, k, m in GOOD]))
    report, _ = warned(ref, hyp, "of the hypothesis speech", "falls outside the reference extent", cause)
    # the same under ser-align, whose scored time includes the hypothesis
    warned(ref, hyp, "falls outside the reference extent", preset="ser-align")


def test_clean_input_gives_no_warning(ref, tmp_path):
    report, out = warned(ref, hyp_file(tmp_path, segments(*GOOD)))
    assert report.warnings == [] and out.stderr == ""
