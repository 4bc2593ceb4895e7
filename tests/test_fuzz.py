"""Fuzz every ``teer`` sub-command with mutated files and assert the contract.

The contract: exit 0 with a result that passes the invariants (every component
>= 0, MS + AGREE = TOTAL, each CONF <= AGREE, every stderr line a one-line
``teer: warning: ...``), or exit 2 with stdout empty and exactly one line
``teer: error: ...`` on stderr (``validate`` also exits 1 when it lists problems);
never a traceback, and no temporary or partial output file left behind.

A few seconds in CI. The long run (thousands of examples per command):

    TEER_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py -q -p no:cacheprovider
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from teer.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLES_PER_COMMAND = int(os.environ.get("TEER_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES_PER_COMMAND, deadline=None, derandomize="TEER_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=list(HealthCheck))

UEM = "dialog1 1 0 20\ndialog2 1 0 30\n"
SPEAKER_MAP = "dialog1 X A\ndialog1 Y B\n"
EMOTION_MAP = "exc hap\nfru ang\n"

# values that broke, or could break, a reader or the engine
HOSTILE = ["0", "-1", "1e16", "1e307", "4294967296", "4294967297", "1e-9", "nan", "inf", "-inf", "1_0",
           "١٠", "５", "0x10", "", " ", "<NA>", "a\nb", "a\x00b", "\ud800", "9" * 5000, "true", "null",
           "SPEAKER", ";;", "#", "é", "1,5", "1e", "-0", "+.5", "\t", "\r"]


def _mutate_text(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(7)
        i = rng.randrange(len(lines)) if lines else 0
        if kind == 0 and lines:  # replace one whitespace-separated field
            fields = lines[i].split(" ")
            fields[rng.randrange(len(fields))] = rng.choice(HOSTILE)
            lines[i] = " ".join(fields)
        elif kind == 1 and lines:
            del lines[i]
        elif kind == 2 and lines:
            lines.insert(i, lines[i])
        elif kind == 3:
            lines.insert(i, rng.choice(HOSTILE))
        elif kind == 4 and lines:  # drop or add fields
            fields = lines[i].split(" ")
            lines[i] = " ".join(fields[:rng.randrange(len(fields) + 1)] + [rng.choice(HOSTILE)] * rng.randrange(3))
        elif kind == 5:
            joined = "\n".join(lines)
            lines = joined[:rng.randrange(len(joined) + 1)].split("\n")
        else:  # a character somewhere
            joined = "\n".join(lines)
            k = rng.randrange(len(joined) + 1)
            lines = (joined[:k] + rng.choice(["\x00", "\ufeff", "\ud800", "\\", '"', "{", "]", "\n", ","]) +
                     joined[k:]).split("\n")
    return "\n".join(lines)


_BIG = "@@5000 digits@@"  # json.dumps cannot write a 5000-digit integer: put in after


def _mutate_json(doc, rng: random.Random):
    """Replace one value somewhere in the document (or a key) by a hostile one."""
    values = [-1, 0, 1e16, 1e308, _BIG, True, None, "", "1_0", "١٠", "nan", "a\ud800", "a\nb",
              [], {}, "x" * 100, 2 ** 32, 1e-9, {"start": 0}, [1, 2]]
    if isinstance(doc, list) and doc and rng.random() < 0.8:
        i = rng.randrange(len(doc))
        doc[i] = _mutate_json(doc[i], rng) if rng.random() < 0.7 else rng.choice(values)
    elif isinstance(doc, dict) and doc and rng.random() < 0.8:
        key = rng.choice(list(doc))
        if rng.random() < 0.2:
            doc[rng.choice(["a\nb", "", "dialog1", "start", "emotion", "speaker"])] = doc.pop(key)
        elif rng.random() < 0.2:
            del doc[key]
        else:
            doc[key] = _mutate_json(doc[key], rng) if rng.random() < 0.6 else rng.choice(values)
    else:
        return rng.choice(values)
    return doc


def _write(path: Path, text: str, rng: random.Random) -> None:
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.05:
        data = data.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass")
    if path.name.endswith(".gz"):
        import gzip

        data = gzip.compress(data, mtime=0)
        if rng.random() < 0.1:  # cut short, or not gzip at all
            data = data[:rng.randrange(len(data))] if rng.random() < 0.5 else text.encode("utf-8", "replace")
    path.write_bytes(data)


def _json_lines(records: list) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _as_jsonl(seglst: list) -> str:
    """The SegLST records one a line, every other one in teer's record shape."""
    return _json_lines([r if i % 2 else {"file": r["session_id"], "start": r["start_time"], "end": r["end_time"],
                                         "speaker": r["speaker"], "emotion": r["emotion"]}
                        for i, r in enumerate(seglst)])


def _as_supervisions(seglst: list) -> str:
    """A Lhotse supervision manifest of the SegLST records (emotion in custom, or top-level)."""
    return _json_lines([{"id": f"s{i}", "recording_id": r["session_id"], "start": r["start_time"],
                         "duration": round(r["end_time"] - r["start_time"], 6), "channel": 0,
                         "speaker": r["speaker"], **({"custom": {"emotion": r["emotion"]}} if i % 3
                                                     else {"emotion": r["emotion"]})}
                        for i, r in enumerate(seglst)])


#: the hypothesis in every format teer reads, and gzipped
HYPOTHESES = ["hyp.json", "hyp.rttm", "hyp.jsonl", "supervisions.jsonl", "hyp.jsonl.gz", "hyp.rttm.gz"]


def _inputs(tmp: Path, seed: int) -> dict:
    """Valid inputs, some of them mutated (``seed`` decides which and how)."""
    rng = random.Random(seed)
    texts = {
        "ref.rttm": (EXAMPLES / "ref.rttm").read_text(),
        "hyp.json": (EXAMPLES / "hyp.json").read_text(),
        "hyp.rttm": (EXAMPLES / "ref.rttm").read_text().replace(" A ", " X ").replace(" B ", " Y "),
        "u.uem": UEM, "spk.map": SPEAKER_MAP, "emo.map": EMOTION_MAP,
    }
    seglst = json.loads(texts["hyp.json"])
    texts["hyp.jsonl"] = texts["hyp.jsonl.gz"] = _as_jsonl(seglst)
    texts["supervisions.jsonl"] = _as_supervisions(seglst)
    texts["hyp.rttm.gz"] = texts["hyp.rttm"]
    for name in rng.sample(sorted(texts), rng.randint(1, 2)):
        if ".jsonl" in name and rng.random() < 0.6:  # one line's object mutated
            lines = texts[name].splitlines()
            i = rng.randrange(len(lines))
            doc = _mutate_json(json.loads(lines[i]), rng)
            lines[i] = json.dumps(doc, ensure_ascii=rng.random() < 0.5).replace(f'"{_BIG}"', "9" * 5000)
            texts[name] = "\n".join(lines) + "\n"
        elif name.endswith(".json") and rng.random() < 0.6:
            doc = _mutate_json(json.loads(texts[name]), rng)
            texts[name] = json.dumps(doc, ensure_ascii=rng.random() < 0.5).replace(f'"{_BIG}"', "9" * 5000)
            if rng.random() < 0.2:  # a key twice (json.dumps cannot write that)
                texts[name] = texts[name].replace('"speaker"', '"speaker": "Z", "speaker"', 1)
        else:
            texts[name] = _mutate_text(texts[name], rng)
    paths = {}
    for name, text in texts.items():
        _write(tmp / name, text, rng)
        paths[name] = tmp / name
    return paths


def _check_components(values: dict, where: str) -> None:
    tol = 1e-6 * max(1.0, abs(values.get("TOTAL", 0.0)))
    for key in ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL"):
        if key in values:
            assert values[key] >= -tol, (where, key, values)
    if {"MS", "AGREE", "TOTAL"} <= set(values):
        assert abs(values["MS"] + values["AGREE"] - values["TOTAL"]) <= tol, (where, values)
    for key in ("CONF_emo", "CONF_spk", "CONF_emo_spk"):
        if key in values and "AGREE" in values:
            assert values[key] <= values["AGREE"] + tol, (where, key, values)
    for key, value in values.items():
        if key not in ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL") and value is not None:
            assert value >= -tol, (where, key, values)  # rates


def run_teer(args: list, tmp: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    before = set(os.listdir(tmp))
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
    # nothing half-written: no temporary file left, whatever the outcome
    left = [name for name in set(os.listdir(tmp)) - before if name.endswith(".tmp")]
    assert not left, left
    return code, out.getvalue(), err.getvalue()


def assert_contract(args: list, tmp: Path, output: Path | None = None) -> tuple[int, str]:
    code, out, err = run_teer(args, tmp)
    lines = err.splitlines()
    if code == 2:
        assert out == "", (args, out)
        assert len(lines) == 1 and lines[0].startswith("teer: error: "), (args, err)
        assert output is None or not output.exists() or output.stat().st_size > 0
        return code, out
    assert code in ((0, 1) if args[0] == "validate" else (0,)), (args, code, err)
    for line in lines:
        assert line.startswith("teer: warning: "), (args, err)
    return code, out


def _tmpdir():
    return tempfile.TemporaryDirectory(prefix="teer-fuzz-")


@FUZZ
@given(seed=st.integers(0, 2 ** 32 - 1),
       options=st.lists(st.sampled_from([
           ["--per-file"], ["--preset", "ser-align"], ["--preset", "eder"], ["--collar", "0"],
           ["--collar", "0.5"], ["--uem", "u.uem"], ["--uem-default", "union"], ["--regions", "overlap"],
           ["--speaker-map", "spk.map"], ["--emotions", "neu,hap,ang,sad"], ["--emotion-map", "emo.map"],
           ["--non-target", "drop"], ["--bootstrap", "20"], ["--average", "files"]]), max_size=3),
       hyp=st.sampled_from(HYPOTHESES), fmt=st.sampled_from(["json", "csv", "table"]))
def test_score_keeps_the_contract(seed, options, hyp, fmt):
    with _tmpdir() as name:
        tmp = Path(name)
        paths = _inputs(tmp, seed)
        args = ["score", paths["ref.rttm"], paths[hyp], "--format", fmt]
        for option in options:
            args += [str(paths.get(x, x)) for x in option]
        code, out = assert_contract(args, tmp)
        if code == 0 and fmt == "json":
            data = json.loads(out)
            _check_components(data["total"], "total")
            for file, values in data["files"].items():
                _check_components(values, file)


@FUZZ
@given(seed=st.integers(0, 2 ** 32 - 1), view=st.sampled_from(["confusion", "speaker", "emotion", "mapping"]),
       preset=st.sampled_from(["wu2023", "ser-align"]))
def test_analyze_keeps_the_contract(seed, view, preset):
    with _tmpdir() as name:
        tmp = Path(name)
        paths = _inputs(tmp, seed)
        output = tmp / "out.json"
        assert_contract(["analyze", paths["ref.rttm"], paths["hyp.json"], "--view", view, "--preset", preset,
                         "--format", "json", "-o", output], tmp, output)


@FUZZ
@given(seed=st.integers(0, 2 ** 32 - 1))
def test_compare_keeps_the_contract(seed):
    with _tmpdir() as name:
        tmp = Path(name)
        paths = _inputs(tmp, seed)
        assert_contract(["compare", paths["ref.rttm"], paths["hyp.json"], paths["hyp.rttm"],
                         "--bootstrap", "20", "--format", "json", "--per-file"], tmp)


@FUZZ
@given(seed=st.integers(0, 2 ** 32 - 1), files=st.lists(st.sampled_from(["ref.rttm", *HYPOTHESES]),
                                                     min_size=1, max_size=3),
       role=st.sampled_from(["hypothesis", "reference"]))
def test_validate_keeps_the_contract(seed, files, role):
    with _tmpdir() as name:
        tmp = Path(name)
        paths = _inputs(tmp, seed)
        code, out = assert_contract(["validate", *(paths[f] for f in files), "--role", role, "--format", "json"],
                                    tmp)
        if code in (0, 1):
            data = json.loads(out)
            assert data["ok"] == (code == 0)


@settings(max_examples=max(3, EXAMPLES_PER_COMMAND // 5), deadline=None,
          derandomize="TEER_FUZZ_EXAMPLES" not in os.environ, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2 ** 32 - 1), timeline=st.booleans(),
       window=st.sampled_from([[], ["--start", "2"], ["--start", "1.5", "--end", "9"], ["--end", "40"]]))
def test_plot_keeps_the_contract(seed, timeline, window):
    pytest.importorskip("matplotlib")
    with _tmpdir() as name:
        tmp = Path(name)
        paths = _inputs(tmp, seed)
        output = tmp / "fig.png"
        args = ["plot", paths["ref.rttm"], paths["hyp.json"], "-o", output]
        code, _ = assert_contract(args + (["--timeline", "dialog1", *window] if timeline else []), tmp, output)
        if code == 0:
            assert output.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_mutations_reach_both_outcomes(tmp_path):
    """The fuzzer is worth something only if it produces both results and errors."""
    codes = set()
    for seed in range(40):
        directory = tmp_path / str(seed)
        directory.mkdir()
        paths = _inputs(directory, seed)
        codes.add(run_teer(["score", paths["ref.rttm"], paths["hyp.json"]], directory)[0])
        shutil.rmtree(directory)
    assert codes == {0, 2}
