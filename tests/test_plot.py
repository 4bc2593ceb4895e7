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
