"""Each kind of change touches one module (CONTRIBUTING.md, "Where each kind of change goes").

A rate is one entry in ``teer.components.RATES``; a format one module of ``teer/io/`` and
its entry in ``teer.io.FORMATS``; a preset one entry in ``teer.presets.PRESETS`` (and, for a
new way of preparing or combining runs, one module of ``teer/protocols/`` and its entry in
``PROTOCOLS``). These tests make that change and nothing else, and check that it reaches
everything a user sees: the API, the table, JSON and CSV, ``teer compare``, ``teer report``,
``teer validate`` and the command line's choices and help.

The rate is added by editing the source of a copy of the package (its columns are derived
when ``teer.components`` is imported); the format and the preset are registered at run time
(the registries are read where they are used).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

import teer
import teer.io
from teer import presets, protocols
from teer.cli import main
from teer.io import rttm
from teer.io.formats import Format
from teer.io.table import as_columns, labelled_table
from teer.io.text import check_text
from teer.io.values import check_label, to_ticks
from teer.protocols.literal import Literal
from teer.segments import InputError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
REF, HYP = EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"

MS_RATE = '    Rate("MSr", ("MS",), "TOTAL", emotions=False),\n'


def run(capsys, *argv) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse's errors
        status = stop.code
    out, err = capsys.readouterr()
    return status, out, err


# --- a rate: one entry in RATES --------------------------------------------------------------

@pytest.fixture(scope="module")
def package_with_rate(tmp_path_factory) -> Path:
    """A copy of teer whose only change is one more line in ``RATES`` (``teer/components.py``)."""
    root = tmp_path_factory.mktemp("rate")
    shutil.copytree(ROOT / "teer", root / "teer", ignore=shutil.ignore_patterns("__pycache__"))
    components = root / "teer" / "components.py"
    source = components.read_text()
    anchor = '    Rate("DER", ("MS", "FA", "CONF_spk"), "TOTAL", emotions=False),\n'
    assert source.count(anchor) == 1, "RATES changed its layout: update this test's anchor"
    components.write_text(source.replace(anchor, anchor + MS_RATE))
    return root


def teer_from(root: Path, *args) -> str:
    done = subprocess.run([sys.executable, "-m", "teer.cli", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_rate_in_rates_reaches_every_output(package_with_rate, tmp_path):
    root = package_with_rate
    as_json = json.loads(teer_from(root, "score", REF, HYP, "--per-file", "--format", "json",
                                   "--bootstrap", "20", "--seed", "1"))
    total = as_json["total"]
    assert total["MSr"] == pytest.approx(total["MS"] / total["TOTAL"])
    assert all(row["MSr"] == pytest.approx(row["MS"] / row["TOTAL"]) for row in as_json["files"].values())
    assert "MSr" in as_json["intervals"]  # the bootstrap computes it from RATES too

    lines = teer_from(root, "score", REF, HYP, "--format", "csv").splitlines()
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert list(rows[0]).index("MSr") == list(rows[0]).index("DER") + 1
    assert float(rows[-1]["MSr"]) == pytest.approx(total["MSr"])

    header = teer_from(root, "score", REF, HYP).splitlines()
    assert any("DER %  MSr %" in line for line in header)

    compared = json.loads(teer_from(root, "compare", REF, HYP, HYP, "--bootstrap", "20", "--format", "json"))
    assert "MSr" in json.dumps(compared)

    page = tmp_path / "report.html"
    teer_from(root, "report", REF, HYP, "-o", page)
    assert 'data-key="MSr"' in page.read_text()

    api = subprocess.run([sys.executable, "-c", f"import teer; print(teer.score({str(REF)!r}, {str(HYP)!r}).total.MSr)"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    assert float(api.stdout) == pytest.approx(total["MSr"])


def test_the_unchanged_package_has_no_such_rate(capsys):
    # the control: the copy's column is the edit's, not one that was there already
    _, out, _ = run(capsys, "score", REF, HYP, "--format", "csv")
    assert "MSr" not in out


# --- a format: one module and its entry in FORMATS -------------------------------------------

def _tsv_rows(data: bytes, source: str):
    for number, line in enumerate(check_text(data, source).splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 5:
            raise InputError(source, number, f"expected 5 tab-separated fields, found {len(fields)}")
        file, start, end, speaker, emotion = fields
        yield (file, to_ticks(start, source, number, "start"), to_ticks(end, source, number, "end"),
               check_label(speaker, source, number, "speaker"), emotion or None, number)


def _read_tsv(data: bytes, source: str):
    rows = list(_tsv_rows(data, source))
    return labelled_table(source, int, *as_columns(rows, 6), is_duration=False, names=("start", "end")), int


def _tsv_problems(data: bytes, source: str):
    table, locate = _read_tsv(data, source)
    return table, locate, []


def _write_tsv(table, path_or_file) -> None:
    raise NotImplementedError("not needed here")


#: a format module's whole declaration: file, start, end, speaker, emotion, tab-separated
TSV = Format("TSV", recognise=lambda data: data.lstrip().split(b"\n", 1)[0].count(b"\t") == 4,
             read=_read_tsv, problems=_tsv_problems, write=_write_tsv)


@pytest.fixture
def with_tsv(monkeypatch):
    formats = teer.io.FORMATS
    assert formats[-1] is rttm.FORMAT
    monkeypatch.setattr(teer.io, "FORMATS", formats[:-1] + (TSV, rttm.FORMAT))


@pytest.fixture
def hyp_tsv(tmp_path) -> Path:
    path = tmp_path / "hyp.tsv"
    path.write_text("".join(f"{s['session_id']}\t{s['start_time']}\t{s['end_time']}\t{s['speaker']}\t{s['emotion']}\n"
                            for s in json.loads(HYP.read_text())))
    return path


def test_a_format_in_formats_is_read_by_every_command(with_tsv, hyp_tsv, tmp_path, capsys):
    assert teer.io.detect(hyp_tsv.read_bytes()) is TSV
    # not parsed as RTTM in pieces first: the streamed reader leaves it to the TSV reader
    assert teer.io.other_format(hyp_tsv.read_bytes())
    assert rttm.read_streamed(hyp_tsv, teer.io.other_format) is None

    _, from_json, _ = run(capsys, "score", REF, HYP, "--per-file", "--format", "json")
    status, from_tsv, _ = run(capsys, "score", REF, hyp_tsv, "--per-file", "--format", "json")
    assert status == 0
    assert json.loads(from_tsv)["total"] == json.loads(from_json)["total"]
    assert teer.score(REF, hyp_tsv).total.TEER == json.loads(from_json)["total"]["TEER"]

    status, out, _ = run(capsys, "validate", hyp_tsv, "--format", "json")
    assert status == 0 and json.loads(out)["files"][0]["format"] == "TSV"
    assert run(capsys, "analyze", REF, hyp_tsv)[0] == 0
    assert run(capsys, "compare", REF, hyp_tsv, HYP, "--bootstrap", "20")[0] == 0
    assert run(capsys, "report", REF, hyp_tsv, "-o", tmp_path / "report.html")[0] == 0

    with pytest.raises(SystemExit):
        main(["score", "--help"])
    assert "TSV" in capsys.readouterr().out


def test_a_format_not_in_formats_is_not_read(hyp_tsv, capsys):
    # the control: without the entry, the same file is not read as TSV
    status, _, err = run(capsys, "score", REF, hyp_tsv)
    assert status == 2 and "error" in err
    assert teer.io.detect(hyp_tsv.read_bytes()) is rttm.FORMAT


# --- a preset: one entry in PRESETS; a protocol: one module and its entry in PROTOCOLS ------

class LiteralAgain(Literal):
    """A protocol module's whole content: wu2023's, under another name."""

    name: ClassVar[str] = "literal-again"


@pytest.fixture
def with_preset(monkeypatch):
    base = presets.PRESETS["wu2023"]
    preset = presets.Preset(name="wu2023-c0", summary="wu2023 at collar 0, fixed", collar=0.0,
                            uem_default=base.uem_default, regions=base.regions, non_target=base.non_target,
                            protocol=LiteralAgain.name, same_speaker_overlap=base.same_speaker_overlap,
                            fixed=("collar",), conventions=dict(base.conventions))
    monkeypatch.setitem(presets.PRESETS, preset.name, preset)
    monkeypatch.setitem(protocols.PROTOCOLS, LiteralAgain.name, LiteralAgain())
    return preset


def test_a_preset_in_presets_reaches_the_cli_and_the_api(with_preset, capsys):
    for command in ("score", "analyze", "report", "compare", "plot"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "wu2023-c0" in capsys.readouterr().out, command

    status, out, _ = run(capsys, "score", REF, HYP, "--preset", "wu2023-c0", "--per-file", "--format", "json")
    status0, out0, _ = run(capsys, "score", REF, HYP, "--collar", "0", "--per-file", "--format", "json")
    assert status == status0 == 0
    got, expected = json.loads(out), json.loads(out0)
    assert got["settings"]["preset"] == "wu2023-c0"
    assert got["total"] == expected["total"] and got["files"] == expected["files"]
    assert teer.score(REF, HYP, preset="wu2023-c0").total.TEER == expected["total"]["TEER"]

    # what the preset fixes, resolve() enforces
    status, _, err = run(capsys, "score", REF, HYP, "--preset", "wu2023-c0", "--collar", "0.25")
    assert status == 2 and "preset wu2023-c0 fixes collar" in err


def test_a_preset_names_its_protocol_and_the_pipeline_runs_it(with_preset, monkeypatch):
    ran = []
    prepare = LiteralAgain.prepare

    def recorded(self, tables, options):
        ran.append(self.name)
        return prepare(self, tables, options)

    monkeypatch.setattr(LiteralAgain, "prepare", recorded)
    teer.score(REF, HYP, preset="wu2023-c0")
    assert ran == ["literal-again"]
    teer.score(REF, HYP)
    assert ran == ["literal-again"]  # wu2023 runs its own


def test_an_unregistered_preset_is_refused(capsys):
    status, _, err = run(capsys, "score", REF, HYP, "--preset", "wu2023-c0")
    assert status == 2 and "invalid choice" in err
