"""Large RTTM files read a batch of files at a time give the report of the whole tables, bit for bit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

import teer
from teer import api, stream
from teer.io import rttm_batches

from .corpus import corpus

ROOT = Path(__file__).resolve().parents[1]
LINE = "SPEAKER {file} 1 {start:.3f} {dur:.3f} {emotion} <NA> {speaker} <NA> <NA>"


def rttm_lines(rows, rename=None, scale=1.0):
    return [LINE.format(file=r["file"], start=r["start"] * scale, dur=(r["end"] - r["start"]) * scale,
                        emotion=(rename or {}).get(r["emotion"], r["emotion"]), speaker=r["speaker"])
            for r in rows]


def by_file(lines):
    out: dict[str, list[str]] = {}
    for line in lines:
        out.setdefault(line.split()[1], []).append(line)
    return out


def write(path, groups, header=";; a comment before the first file\n"):
    path.write_text(header + "".join("".join(line + "\n" for line in lines) for lines in groups), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Reference and hypothesis RTTM files grouped by file id (in different orders), with the
    things real corpora have, and an ungrouped reference."""
    tmp = tmp_path_factory.mktemp("stream")
    ref_rows, hyp_rows = corpus(7, n_files=9, self_overlap=True)  # speakers overlapping themselves
    ref = by_file(rttm_lines(ref_rows))
    hyp = by_file(rttm_lines(hyp_rows, rename={"hap": "Happy"}))  # an unknown label with a near match
    ref["file0"][3:3] = [";; a comment inside a run", "SPKR-INFO file0 1 <NA> <NA> <NA> unknown R0 <NA> <NA>",
                         "SPEAKER file0 1 1.000 0 neu <NA> R0 <NA> <NA>"]  # a zero-length segment
    # identical time stamps on both sides, and two speakers with the same turn
    ref["file1"] += ["SPEAKER file1 1 70.000 2.500 neu <NA> R0 <NA> <NA>",
                     "SPEAKER file1 1 70.000 2.500 sad <NA> R1 <NA> <NA>"]
    hyp["file1"] += ["SPEAKER file1 1 70.000 2.500 neu <NA> H0 <NA> <NA>"]
    ref["sessA"] = ["SPEAKER sessA 1 0.000 5.000 neu <NA> A <NA> <NA>"]  # only in the reference
    hyp["SessA.wav"] = ["SPEAKER SessA.wav 1 0.000 5.000 neu <NA> B <NA> <NA>"]  # ... spelt otherwise here
    hyp["hyponly"] = ["SPEAKER hyponly 1 1.000 2.000 neu <NA> Q <NA> <NA>"]
    del hyp["file3"]  # file3 only in the reference
    ref_groups = list(ref.values())
    files = dict(
        ref=write(tmp / "ref.rttm", ref_groups),
        hyp=write(tmp / "hyp.rttm", reversed(list(hyp.values())), header=""),
        # file2's lines in two runs: not grouped
        ungrouped=write(tmp / "ungrouped.rttm", [ref["file2"][:5], *ref_groups[:2], ref["file2"][5:], *ref_groups[3:]]),
        # times in milliseconds
        ms=write(tmp / "ms.rttm", [rttm_lines([r for r in hyp_rows if r["file"] != "file3"], scale=1000)]),
        uem=tmp / "all.uem",
    )
    files["uem"].write_text("file0 1 0 20\nfile2 1 0 30\nfile3 1 3 9\nfile3 1 10 40\nghost 1 0 5\nhyponly 1 0 3\n")
    return files


def report(ref, hyp, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = teer.score(ref, hyp, **options)
    return json.dumps(result.to_dict(), sort_keys=True), result.warnings, [str(w.message) for w in caught]


def both_ways(monkeypatch, ref, hyp, **options):
    """(whole tables, in batches of a few files, how many sides were read in batches)."""
    monkeypatch.setattr(stream, "STREAM_BYTES", 1 << 40)
    whole = report(ref, hyp, **options)
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    monkeypatch.setattr(stream, "READ_BATCH_SEGMENTS", 300)
    grouped = []
    batched = stream.batched

    def counted(*sides):  # in this process, whatever the jobs
        grouped.extend(isinstance(side, rttm_batches.GroupedRttm) for side in sides)
        return batched(*sides)

    monkeypatch.setattr(stream, "batched", counted)
    return whole, report(ref, hyp, **options), sum(grouped)


OPTIONS = [
    {}, dict(collar=0.25, per_file=None), dict(uem_default="union"), dict(regions="overlap"),
    dict(emotions="neu,sad", non_target="drop"), dict(emotions="neu,sad", collar=0.1),
    dict(emotion_map="Happy=hap,ang=sad", emotions="neu,hap,sad"), dict(average="files"), dict(jobs=2),
]


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_batches_give_the_whole_tables_report(inputs, monkeypatch, options):
    options = {k: v for k, v in options.items() if k != "per_file"}
    whole, batched, grouped = both_ways(monkeypatch, inputs["ref"], inputs["hyp"], **options)
    assert grouped == 2
    assert batched == whole
    text = " ".join(whole[1])
    for expected in ("only in the hypothesis", "not in the hypothesis", "spelt otherwise", "never occur",
                     "overlap another segment", "zero-duration"):
        assert expected in text or "emotions" in options, expected


@pytest.mark.parametrize("uem_options", [dict(), dict(emotions="neu,sad", non_target="drop")])
def test_uem_files_in_one_input_or_none(inputs, monkeypatch, uem_options):
    whole, batched, grouped = both_ways(monkeypatch, inputs["ref"], inputs["hyp"], uem=inputs["uem"], **uem_options)
    assert grouped == 2 and batched == whole
    assert '"ghost"' in whole[0] and "not in the UEM" in " ".join(whole[1])


def test_time_unit_check_adds_up_over_batches(inputs, monkeypatch):
    whole, batched, grouped = both_ways(monkeypatch, inputs["ref"], inputs["ms"])
    assert grouped == 2 and batched == whole
    assert "look like milliseconds" in " ".join(whole[1])


def test_ungrouped_file_is_read_whole(inputs, monkeypatch):
    whole, batched, grouped = both_ways(monkeypatch, inputs["ungrouped"], inputs["hyp"])
    assert grouped == 1  # the hypothesis only
    assert batched == whole
    with tempfile.TemporaryFile() as spill:
        assert rttm_batches.index(inputs["ungrouped"], lambda head: False, spill) == rttm_batches.UNGROUPED


def test_a_small_side_in_memory_with_a_large_one_in_batches(inputs, monkeypatch, tmp_path):
    hyp_json = tmp_path / "hyp.json"
    teer.io.write_seglst(teer.io.load(inputs["hyp"]), hyp_json)
    whole, batched, grouped = both_ways(monkeypatch, inputs["ref"], hyp_json)
    assert grouped == 1 and batched == whole


def test_bad_input_gives_the_whole_readers_error(inputs, monkeypatch, tmp_path):
    monkeypatch.setattr(stream, "STREAM_BYTES", 0)
    text = inputs["ref"].read_text()
    cases = {"bad number late": text + "SPEAKER file9 1 1,5 2.0 neu <NA> a <NA> <NA>\n",
             "no emotion on one segment": text + "SPEAKER file9 1 1.5 2.0 <NA> <NA> a <NA> <NA>\n",
             "control character": text + "SPEAKER file9 1 1.5 2.0 neu <NA> a\x01b <NA> <NA>\n"}
    for name, content in cases.items():
        bad = tmp_path / "bad.rttm"
        bad.write_text(content)
        with pytest.raises(teer.InputError) as err:
            teer.score(bad, inputs["hyp"])
        assert str(err.value).startswith(f"{bad}:{len(content.splitlines())}:"), name


def test_batch_tables_are_the_whole_tables_rows(inputs):
    whole = teer.io.load(inputs["ref"])
    with tempfile.TemporaryFile() as spill:
        index = rttm_batches.index(inputs["ref"], lambda head: False, spill)
        part = index.table(["file3", "sessA", "file0"])  # in the order of the file
    names = ["file3", "sessA", "file0"]
    assert index.files == whole.files and index.skeleton.speakers == whole.speakers
    assert index.skeleton.emotions == whole.emotions and index.skeleton.warnings == whole.warnings
    rows = [i for i, f in enumerate(whole.file.tolist()) if whole.files[f] in names]
    for column in ("start", "end", "speaker", "emotion", "origin"):
        assert getattr(part, column).tolist() == getattr(whole, column)[rows].tolist()
    assert [part.files[f] for f in part.file] == [whole.files[whole.file[i]] for i in rows]


def test_cli_json_output_identical_with_jobs(inputs):
    outputs = []
    for limit, jobs in ((1 << 40, 1), (0, 1), (0, 2)):
        code = ("import sys; from teer import stream, cli; stream.STREAM_BYTES = %d; stream.READ_BATCH_SEGMENTS = 300; "
                "sys.exit(cli.main(sys.argv[1:]))" % limit)
        out = subprocess.run([sys.executable, "-c", code, "score", str(inputs["ref"]), str(inputs["hyp"]),
                              "--per-file", "--format", "json", "--collar", "0.25", "--jobs", str(jobs)],
                             capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert out.returncode == 0, out.stderr
        outputs.append((out.stdout, out.stderr))
    assert b'"file0"' in outputs[0][0] and b"only in the hypothesis" in outputs[0][1]
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]


def test_presets_that_need_whole_tables_do_not_stream(inputs, monkeypatch):
    for preset in ("ser-align", "eder"):
        whole, batched, grouped = both_ways(monkeypatch, inputs["ref"], inputs["hyp"], preset=preset)
        assert grouped == 0 and batched == whole
    assert api.stream is stream
