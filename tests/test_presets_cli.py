"""--preset, --emotions, --emotion-map, --non-target on the command line."""
from __future__ import annotations

import json

from .test_cli import EXAMPLES, teer


def _json(out):
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _inputs(tmp_path, rttm_lines, hypothesis):
    """ref.rttm (speaker A or B turns, with emotions) and hyp.json written in ``tmp_path``."""
    ref, hyp = tmp_path / "ref.rttm", tmp_path / "hyp.json"
    ref.write_text("".join(f"SPEAKER {line} <NA> {speaker} <NA> <NA>\n" for line, speaker in rttm_lines))
    hyp.write_text(json.dumps({file: [dict(start=start, end=end, speaker="X", emotion=emotion)
                                      for start, end, emotion in turns] for file, turns in hypothesis.items()}))
    return ref, hyp


def test_header_names_the_preset_and_the_emotion_set():
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    assert out.returncode == 0
    header = out.stdout.splitlines()[0]
    assert "preset: wu2023" in header and "collar: 0.25" in header and "emotions: all" in header
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--preset", "ser-align",
               "--emotions", "neu,hap,ang,sad")
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0]
    assert "preset: ser-align" in header and "collar: 0.0" in header
    assert "emotions: neu,hap,ang,sad" in header and "non target: dropped" in header


def test_json_settings_and_the_api_agree(tmp_path):
    import teer as api

    data = _json(teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--preset", "ser-align",
                      "--format", "json"))
    report = api.score(str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"), preset="ser-align")
    assert data["settings"]["preset"] == "ser-align"
    assert data["total"]["TEER"] == report.total.TEER


def test_emotion_options(tmp_path):
    ref, hyp = _inputs(tmp_path, [("f 1 0 4 exc", "A"), ("f 1 4 2 fru", "A"), ("f 1 6 4 sad", "B")],
                       {"f": [(0, 10, "hap")]})
    mapping = tmp_path / "map.txt"
    mapping.write_text("exc hap\n")
    base = ("score", ref, hyp, "--collar", "0", "--format", "json")
    plain = _json(teer(*base))["total"]
    assert (plain["TOTAL"], plain["CONF_emo"]) == (10, 10)
    noscore = _json(teer(*base, "--emotions", "hap,sad", "--emotion-map", mapping))
    assert (noscore["total"]["TOTAL"], noscore["total"]["CONF_emo"]) == (8, 4)
    assert noscore["settings"]["emotion_map"] == "exc=hap"
    drop = _json(teer(*base, "--emotions", "hap,sad", "--emotion-map", "exc=hap", "--non-target", "drop"))
    assert (drop["total"]["TOTAL"], drop["total"]["FA"], drop["total"]["CONF_emo"]) == (8, 2, 4)


def test_bad_options_are_one_line_errors_with_status_2(tmp_path):
    mapping = tmp_path / "map.txt"
    mapping.write_text("exc hap\nfru\n")
    cases = [
        (("--preset", "ser-align", "--collar", "0.25"), "preset ser-align fixes collar"),
        (("--preset", "ser-align", "--non-target", "noscore"), "preset ser-align fixes non-target"),
        (("--emotion-map", str(mapping)), f"{mapping}:2: expected"),
        (("--emotions", "neu,,hap"), "emotions must be"),
        (("--emotion-map", "exc=hap=neu"), "expected label=label"),
    ]
    for extra, message in cases:
        out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", *extra)
        assert out.returncode == 2, (extra, out.stderr)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("teer: error: ") and message in lines[0], lines
        assert out.stdout == ""


def test_unknown_preset_is_refused_by_the_parser():
    out = teer("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--preset", "nope")
    assert out.returncode == 2 and "wu2023" in out.stderr


def test_every_scoring_command_takes_the_preset():
    from teer.cli import build_parser

    parser, modules = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        options = {o for a in p._actions for o in a.option_strings}
        if "--collar" in options:
            assert {"--preset", "--emotions", "--emotion-map", "--non-target"} <= options, name


def test_ser_align_names_the_files_it_skips_in_every_format(tmp_path):
    ref, hyp = _inputs(tmp_path, [("a 1 0 4 hap", "A"), ("b 1 0 4 fru", "A"), ("c 1 0 4 hap", "A")],
                       {"a": [(0, 4, "hap")], "b": [(0, 4, "hap")]})
    args = ("score", ref, hyp, "--preset", "ser-align", "--emotions", "hap")
    out = teer(*args)
    assert out.returncode == 0, out.stderr
    assert "# skipped (no reference segment with a target emotion): b" in out.stdout
    assert "# skipped (not in the hypothesis): c" in out.stdout
    assert "teer: warning: ser-align skips 2 file(s)" in out.stderr
    data = _json(teer(*args, "--format", "json"))
    assert data["skipped"] == {"b": "no reference segment with a target emotion", "c": "not in the hypothesis"}
    # the skipped files are in the accounting: their reference speech, all of it skipped
    assert set(data["files"]) == {"a", "b", "c"} and data["total"]["TOTAL"] == 4
    assert [data["files"][f]["REMOVED_SKIPPED"] for f in "abc"] == [0, 4, 4]
    assert data["total"]["SPEECH"] == 12 and data["files"]["b"]["TEER"] is None


def test_a_list_or_map_in_the_wrong_syntax_gets_the_right_one(tmp_path):
    cases = [
        (("--emotion-map", "exc:hap"), "--emotion-map: 'exc:hap' is not a file; a map is written "
                                       "label=label: exc=hap"),
        (("--emotion-map", "exc:hap,fru:ang"), "--emotion-map: 'exc:hap,fru:ang' is not a file; a map is "
                                               "written label=label: exc=hap,fru=ang"),
        (("--emotion-map", "exc"), "--emotion-map: 'exc' is neither a file nor a map (label=label,...)"),
        (("--emotion-map", "exc=hap", "fru=ang"),
         "argument --emotion-map: takes one comma-separated list, not separate words: "
         "--emotion-map exc=hap,fru=ang"),
        (("--emotions", "neu", "hap", "ang", "sad"),
         "argument --emotions: takes one comma-separated list, not separate words: "
         "--emotions neu,hap,ang,sad"),
    ]
    files = (EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    for extra, message in cases:
        for argv in (("score", *files, *extra), ("score", *extra, *files)):
            out = teer(*argv, cwd=tmp_path)
            assert out.returncode == 2, (argv, out.stderr)
            assert out.stderr == f"teer: error: {message}\n", argv
            assert out.stdout == ""
    # a map file that exists is read as one, whatever its name
    (tmp_path / "exc:hap").write_text("exc hap\n")
    out = teer("score", *files, "--emotion-map", "exc:hap", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
