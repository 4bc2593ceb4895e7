"""``teer report``: the page's figures are ``teer score``'s and ``teer analyze``'s on the same
options, its timelines add up to the components, it is self-contained, and bad input writes
nothing. (``test_report_browser.py`` loads it in a real browser.)"""
from __future__ import annotations

import html.parser
import json
import re
from pathlib import Path

import numpy as np
import pytest

from teer.cli import main
from teer.htmlreport.timeline import BANDS

from .corpus import corpus

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def write_rttm(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(f"SPEAKER {r['file']} 1 {r['start']!r} {r['end'] - r['start']!r} {r['emotion']} <NA> "
                            f"{r['speaker']} <NA> <NA>\n" for r in rows))
    return path


def write_json(path: Path, rows: list[dict]) -> Path:
    path.write_text(json.dumps([{"session_id": r["file"], "start_time": r["start"], "end_time": r["end"],
                                 "speaker": r["speaker"], "emotion": r["emotion"]} for r in rows]))
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path, Path]:
    """Reference RTTM, hypothesis JSON and a UEM over a corpus with what real ones have: a
    speaker overlapping itself, identical time stamps, a file on one side only."""
    d = tmp_path_factory.mktemp("report")
    ref, hyp = corpus(7, n_files=4, self_overlap=True)
    ref += [dict(file="file0", start=1.0, end=2.0, speaker="R9", emotion="sad"),
            dict(file="file0", start=1.0, end=2.0, speaker="R8", emotion="hap"),
            dict(file="onlyref", start=0.5, end=4.0, speaker="A", emotion="neu")]
    hyp += [dict(file="file0", start=1.0, end=2.0, speaker="H9", emotion="sad"),
            dict(file="onlyhyp", start=0.0, end=3.0, speaker="X", emotion="ang")]
    uem = d / "all.uem"
    uem.write_text("".join(f"{f} 1 {s} {e}\n" for f, s, e in
                           [("file0", 0.5, 30), ("file1", 2, 50), ("file2", 0, 20), ("file3", 1, 60),
                            ("onlyref", 0, 5), ("onlyhyp", 0, 4)]))
    return write_rttm(d / "ref.rttm", ref), write_json(d / "hyp.json", hyp), uem


def cli(*args) -> int:
    return main([str(a) for a in args])


def blocks(page: str) -> dict[str, object]:
    """Every JSON block of the page, by element id."""
    found = re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page, re.S)
    return {name: json.loads(text) for name, text in found}


class Cells(html.parser.HTMLParser):
    """The ``data-v`` of the cells of ``table#file-table``, per row (file, or "last": TOTAL or
    MEAN), and of ``table#accounting`` (row "accounting")."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, dict[str, object]] = {}
        self.inside = False
        self.table: str | None = None
        self.row: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
            self.inside = self.table in ("file-table", "accounting")
        elif self.inside and tag == "tr":
            self.row = "accounting" if self.table == "accounting" else a.get("data-file", "last")
        elif self.inside and tag == "td" and "data-key" in a:
            self.rows.setdefault(self.row, {})[a["data-key"]] = json.loads(a["data-v"])


OPTION_SETS = [
    [],
    ["--collar", "0.25"],
    ["--collar", "0.25", "--uem", "UEM"],
    ["--emotions", "neu,hap,ang", "--non-target", "drop"],
    ["--emotions", "neu,hap", "--collar", "0.1", "--regions", "overlap"],
    ["--emotion-map", "hap=neu", "--average", "files"],
    ["--preset", "ser-align"],
    ["--preset", "eder"],
    ["--uem-default", "union", "--regions", "single"],
]


@pytest.mark.parametrize("options", OPTION_SETS, ids=lambda o: " ".join(o) or "default")
def test_figures_are_those_of_score_and_analyze(inputs, tmp_path, capsys, options):
    ref, hyp, uem = inputs
    options = [str(uem) if x == "UEM" else x for x in options]
    assert cli("report", ref, hyp, *options, "-o", tmp_path / "r.html") == 0
    assert cli("score", ref, hyp, *options, "--format", "json", "-o", tmp_path / "s.json") == 0
    # analyze has no --average: the tables are seconds, whatever the average of the rates
    plain = [x for i, x in enumerate(options) if "--average" not in options[max(i - 1, 0):i + 1]]
    assert cli("analyze", ref, hyp, *plain, "--format", "json", "-o", tmp_path / "a.json") == 0
    capsys.readouterr()
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    data = blocks(page)
    score = json.loads((tmp_path / "s.json").read_text())
    analysis = json.loads((tmp_path / "a.json").read_text())
    assert data["teer-data"]["score"] == score
    analysis.pop("settings")
    assert data["teer-data"]["analysis"] == analysis

    # the numbers shown in the file table are the same figures
    cells = Cells()
    cells.feed(page)
    accounting = cells.rows.pop("accounting")
    assert accounting == {k: score["total"][k] for k in ("SPEECH", "REMOVED_UEM", "REMOVED_NOSCORE",
                                                         "REMOVED_REGIONS", "REMOVED_COLLAR", "REMOVED_SKIPPED",
                                                         "TOTAL") if k in score["total"]}
    shown = {k: v for k, v in cells.rows.items() if k != "last"}
    assert sorted(shown) == sorted(score["files"])
    for name, row in shown.items():
        assert row == {k: score["files"][name][k] for k in row}
    last = score.get("mean", score["total"])
    assert cells.rows["last"] == {k: last[k] for k in cells.rows["last"]}
    assert {"MS", "FA", "TOTAL"} <= set(cells.rows["last"]) or "EDER" in cells.rows["last"]

    # every file has a timeline whose error bands add up to its components
    names = data["teer-data"]["timelines"]
    assert sorted(score["files"]) == sorted(set(names) & set(score["files"]))
    for k, name in enumerate(names):
        line = data[f"teer-file-{k}"]
        assert line["file"] == name
        if name not in score["files"] or name in score.get("skipped", {}):  # (a skipped file: nothing scored)
            continue
        for (_, key), band in zip(BANDS, line["bands"]):
            spans = np.asarray(band, float).reshape(-1, 3)
            assert np.all(spans[:, 1] > spans[:, 0]) and np.all(spans[:, 2] >= 1)
            seconds = float(((spans[:, 1] - spans[:, 0]) * spans[:, 2]).sum())
            if key in score["files"][name]:  # (the eder preset reports fewer components)
                assert seconds == pytest.approx(score["files"][name][key], abs=1e-6), (name, key)
        segments = sum(len(lane[3]) // 3 for lane in line["lanes"])
        assert segments > 0
        if "--preset" not in options and "drop" not in options:
            # the grey spans hold the reference speech the accounting says each step removed
            removed = removed_speech(line)
            for k, key in enumerate(("REMOVED_UEM", "REMOVED_NOSCORE", "REMOVED_REGIONS", "REMOVED_COLLAR")):
                assert removed[k] == pytest.approx(score["files"][name][key], abs=1e-6), (name, key)


def removed_speech(line: dict) -> list[float]:
    """Per kind of grey span, the reference speech in it (each speaker's speech once)."""
    out = [0.0] * 4
    grey = np.asarray(line["grey"], float).reshape(-1, 3)
    for side, _, _, segments in line["lanes"]:
        if side != 0:
            continue
        merged: list[list[float]] = []
        for start, end, _ in sorted(np.asarray(segments, float).reshape(-1, 3).tolist()):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        for start, end, kind in grey.tolist():
            out[int(kind)] += sum(max(0.0, min(end, b) - max(start, a)) for a, b in merged)
    return out


def test_lanes_follow_the_mapping_and_grey_marks_unscored_time(inputs, tmp_path):
    ref, hyp, uem = inputs
    assert cli("report", ref, hyp, "--collar", "0.25", "--uem", uem, "-o", tmp_path / "r.html") == 0
    data = blocks((tmp_path / "r.html").read_text(encoding="utf-8"))
    kinds = set()
    for k, name in enumerate(data["teer-data"]["timelines"]):
        line = data[f"teer-file-{k}"]
        current = None
        for side, speaker, mapped, segments in line["lanes"]:
            if side == 0:
                current = speaker
                assert mapped is None
            elif mapped is not None:  # a mapped hypothesis lane comes right after its reference speaker's
                assert mapped == current
            times = np.asarray(segments, float).reshape(-1, 3)
            assert np.all(np.diff(times[:, 0]) >= 0)
        grey = np.asarray(line["grey"], float).reshape(-1, 3)
        kinds |= set(grey[:, 2].astype(int).tolist())
    assert kinds == {0, 3}  # outside the UEM, collars (no no-score zone, no --regions here)


def test_examples_page_is_small_and_self_contained(tmp_path):
    out = tmp_path / "r.html"
    assert cli("report", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "-o", out) == 0
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 200_000
    # nothing fetched at view time: no external script, style, image or font
    assert not re.search(r"<(link|img|iframe)\b", page)
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"url\((?!#)", page)
    assert "@import" not in page
    assert re.findall(r"https?://[^\s\"'<>)]+", page) == ["http://www.w3.org/2000/svg"]


def test_names_that_look_like_markup_stay_text(tmp_path):
    ref = write_rttm(tmp_path / "r.rttm", [dict(file="a</script><b>", start=0.0, end=2.0, speaker="<i>x&y",
                                                emotion="hap")])
    hyp = write_json(tmp_path / "h.json", [dict(file="a</script><b>", start=0.5, end=2.0, speaker="'q\"",
                                                emotion="<neu>")])
    assert cli("report", ref, hyp, "-o", tmp_path / "r.html") == 0
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "</script><b>" not in page and "<i>x" not in page
    data = blocks(page)
    assert data["teer-file-0"]["file"] == "a</script><b>"
    assert [lane[1] for lane in data["teer-file-0"]["lanes"]] == ["<i>x&y", "'q\""]


def test_files_keeps_only_those_timelines(inputs, tmp_path):
    ref, hyp, _ = inputs
    assert cli("report", ref, hyp, "--files", "file2,file0", "-o", tmp_path / "r.html") == 0
    data = blocks((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert data["teer-data"]["timelines"] == ["file2", "file0"]
    assert sorted(k for k in data if k.startswith("teer-file-")) == ["teer-file-0", "teer-file-1"]
    assert len(data["teer-data"]["score"]["files"]) == 5  # the tables still hold every scored file


@pytest.mark.parametrize("args, message", [
    (["--files", "nope"], "teer: error: --files: no file 'nope' in the inputs"),
    (["-o", "OUT/r.json"], "teer: error: OUT/r.json: teer report writes an HTML page: name it .html (teer score and "
                           "teer analyze write tables, JSON and CSV)"),
    (["--collar", "-1"], "teer: error: argument --collar: expected a non-negative number of seconds, not '-1'"),
])
def test_bad_options_are_one_line_and_write_nothing(inputs, tmp_path, capsys, args, message):
    ref, hyp, _ = inputs
    args = [str(a).replace("OUT", str(tmp_path)) for a in args]
    output = [] if "-o" in args else ["-o", tmp_path / "r.html"]
    with pytest.raises(SystemExit) if "--collar" in args else _nothing():
        assert cli("report", ref, hyp, *args, *output) == 2
    err = capsys.readouterr().err
    assert err.strip() == message.replace("OUT", str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_bad_input_is_one_line_and_keeps_the_old_page(inputs, tmp_path, capsys):
    _, hyp, _ = inputs
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER f 1 0.0 1.0 hap <NA> a <NA> <NA>\nSPEAKER f 1 x 1.0 hap <NA> a <NA> <NA>\n")
    out = tmp_path / "r.html"
    out.write_text("old")
    assert cli("report", bad, hyp, "-o", out) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"teer: error: {bad}:2: onset 'x' is not a number"]
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.rttm", "r.html"]
    assert cli("report", bad, hyp, "-o", bad) == 2  # the output is an input: refused before reading
    assert "also an input" in capsys.readouterr().err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_open_hands_the_page_to_the_browser(tmp_path):
    """``--open``: the web browser ($BROWSER here, a script that notes what it was given)."""
    import os
    import subprocess
    import sys

    note = tmp_path / "opened.txt"
    browser = tmp_path / "browser"
    browser.write_text(f"#!{sys.executable}\nimport sys\nopen({str(note)!r}, 'w').write(sys.argv[1])\n")
    browser.chmod(0o755)
    out = tmp_path / "r.html"
    run = subprocess.run([sys.executable, "-m", "teer.cli", "report", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json",
                          "-o", out, "--open"], capture_output=True, text=True,
                         env={**os.environ, "BROWSER": str(browser), "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr
    assert note.read_text() == out.resolve().as_uri()
