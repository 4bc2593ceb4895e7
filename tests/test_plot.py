"""Figures are written in the format their extension names, are not empty; an extension teer
cannot write and a missing matplotlib are one clear line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

from teer import analysis, api, figures  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PNG = b"\x89PNG\r\n\x1a\n"


def teer_cli(*args):
    return subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "", "MPLBACKEND": "Agg"})


def test_confusion_and_timeline_png(tmp_path):
    scoring = api.run(EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    for name, fig in (("c.png", figures.confusion_figure(analysis.analyze(scoring).confusion)),
                      ("t.png", figures.timeline_figure(scoring, "dialog2"))):
        figures.save_figure(fig, tmp_path / name)
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.png", "t.png"]  # no temporary files left


def test_plot_command(tmp_path):
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "-o", tmp_path / "c.png")
    assert out.returncode == 0, out.stderr
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--timeline", "dialog1",
                   "-o", tmp_path / "t.png")
    assert out.returncode == 0, out.stderr
    for name in ("c.png", "t.png"):
        data = (tmp_path / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 5000


def test_unknown_file_is_one_line_and_writes_nothing(tmp_path):
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--timeline", "nope",
                   "-o", tmp_path / "t.png")
    assert out.returncode == 2 and out.stderr.startswith("teer: error: no file 'nope'")
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_how_to_install(tmp_path):
    # a matplotlib that cannot be imported, put first on the path
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    out = subprocess.run([sys.executable, "-m", "teer.cli", "plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json",
                          "-o", tmp_path / "c.png"], capture_output=True, text=True,
                         env={"PYTHONPATH": f"{tmp_path / 'fake'}:{ROOT}", "PATH": ""})
    assert out.returncode == 2
    assert out.stderr.strip() == 'teer: error: plotting needs matplotlib: pip install "teer-scorer[plot]"'
    assert not (tmp_path / "c.png").exists()


@pytest.mark.parametrize("name, magic", [("c.pdf", b"%PDF-"), ("c.svg", b"<?xml"), ("c.PNG", PNG), ("c.eps", b"%!PS")])
def test_the_extension_chooses_the_format(tmp_path, name, magic):
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "-o", tmp_path / name)
    assert out.returncode == 0, out.stderr
    data = (tmp_path / name).read_bytes()
    assert data.startswith(magic) and len(data) > 2000
    if name.endswith(".svg"):
        assert b"<svg" in data[:2000]


@pytest.mark.parametrize("name", ["c.jpg", "c.xyz", "figure"])
def test_an_extension_teer_cannot_write_is_an_error(tmp_path, name):
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "-o", tmp_path / name)
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert out.stderr.startswith(f"teer: error: {tmp_path / name}: ") and ".png, .pdf, .svg" in out.stderr
    assert list(tmp_path.iterdir()) == []


def _lane_spans(fig, label: str) -> list[tuple[float, float]]:
    """The shaded (start, end) spans of one error lane of a timeline figure."""
    ax = fig.axes[0]
    y = [t.get_text() for t in ax.get_yticklabels()].index(label)
    spans = []
    for collection in ax.collections:
        for path in collection.get_paths():
            (x0, y0), (x1, y1) = path.get_extents().get_points()
            if collection.get_zorder() == 2 and y0 < y < y1:
                spans.append((round(float(x0), 9), round(float(x1), 9)))
    return sorted(spans)


def test_timeline_shades_each_kind_of_error_in_its_own_lane():
    from .corpus import table

    # 0-2 A hap | X hap: right; 2-4 A hap | X sad: emotion confusion; 4-6 A hap | -: missed;
    # 6-8 - | X hap: false alarm (UEM 0-10); 8-10 B sad | Y sad, but X maps to A and Y to B... Y hap:
    # 8-10: B sad | X sad: right emotion, X is mapped to A: speaker confusion
    ref = table(("f", 0, 6, "A", "hap"), ("f", 8, 10, "B", "sad"))
    hyp = table(("f", 0, 2, "X", "hap"), ("f", 2, 4, "X", "sad"), ("f", 6, 7, "X", "hap"), ("f", 8, 10, "X", "sad"))
    scoring = api.run(ref, hyp, collar=0, uem={"f": [(0, 10)]})
    fig = figures.timeline_figure(scoring, "f")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[-4:] == ["missed", "false alarm", "emotion confusion", "speaker confusion"]
    assert _lane_spans(fig, "missed") == [(4, 6)]
    assert _lane_spans(fig, "false alarm") == [(6, 7)]
    assert _lane_spans(fig, "emotion confusion") == [(2, 4)]
    assert _lane_spans(fig, "speaker confusion") == [(8, 10)]


def test_a_reference_without_emotions_has_no_emotion_confusion_lane():
    from .corpus import table

    ref = table(("f", 0, 6, "A", None), ("f", 6, 9, "B", None))
    hyp = table(("f", 0, 6, "X", None), ("f", 6, 9, "X", None))
    scoring = api.run(ref, hyp, collar=0)
    fig = figures.timeline_figure(scoring, "f")
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "emotion confusion" not in labels and labels[-3:] == ["missed", "false alarm", "speaker confusion"]
    assert _lane_spans(fig, "speaker confusion") == [(6, 9)]  # X is A's: B's time is confused
    assert _lane_spans(fig, "missed") == [] and _lane_spans(fig, "false alarm") == []


def test_timeline_window(tmp_path):
    scoring = api.run(EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json")
    fig = figures.timeline_figure(scoring, "dialog1", 2.0, 9.0)
    assert fig.axes[0].get_xlim() == (2.0, 9.0) and "[2, 9] s" in fig.axes[0].get_title()
    out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--timeline", "dialog1", "--start", "2",
                   "--end", "9", "-o", tmp_path / "w.png")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "w.png").read_bytes().startswith(PNG)
    for args, message in ((("--start", "2"), "--start and --end choose a window of a timeline: give --timeline"),
                          (("--timeline", "dialog1", "--start", "9", "--end", "2"), "--start 9 is not before --end 2"),
                          (("--timeline", "dialog1", "--end", "-1"), "argument --end: expected a non-negative")):
        out = teer_cli("plot", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", *args, "-o", tmp_path / "x.png")
        assert out.returncode == 2 and out.stderr.startswith("teer: error: ") and message in out.stderr
    assert not (tmp_path / "x.png").exists()
