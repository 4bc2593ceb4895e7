"""Mutated corpora and data files through ``prepare`` and ``align``.

The contract of every stage: exit 0 with whole outputs, or exit 2 with one line
``iemocap: error: ...`` and no output written; never a traceback. The examples
run in-process (a few seconds); for a long run set ``RECIPE_FUZZ_EXAMPLES``, e.g.
``RECIPE_FUZZ_EXAMPLES=5000 python -m pytest recipes/iemocap/tests/test_fuzz.py``.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recipes.iemocap.__main__ import main as cli
from recipes.iemocap.stages.prepare import load_utterances
from recipes.iemocap.tools.synthetic import CORPUS_DIR, make_corpus

EXAMPLES = int(os.environ.get("RECIPE_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="RECIPE_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

#: byte strings that break parsers in interesting ways
TOKENS = [b"", b"\n", b"\r\n", b"\t", b" ", b"\x00", b"\xff\xfe", b"\xc3", "é".encode(), b"-", b"-1",
          b"nan", b"inf", b"1e308", b"0", b"[", b"]", b"{", b"}", b'"', b",", b":", b"null", b"true",
          b"[" * 100_000, b'"\\ud800"', b"9" * 5000, b"[0, 0, 0]", b'{"a": 1}']


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """``data`` after one to three random edits (delete, insert, replace, repeat a line, cut)."""
    for _ in range(draw(st.integers(1, 3))):
        n = len(data)
        i = draw(st.integers(0, n))
        j = draw(st.integers(i, min(n, i + 40)))
        piece = draw(st.sampled_from(TOKENS) | st.binary(max_size=6))
        kind = draw(st.sampled_from(["delete", "insert", "replace", "repeat", "cut"]))
        if kind == "delete":
            data = data[:i] + data[j:]
        elif kind == "insert":
            data = data[:i] + piece + data[i:]
        elif kind == "replace":
            data = data[:i] + piece + data[j:]
        elif kind == "repeat":
            lines = data.splitlines(keepends=True) or [b""]
            k = draw(st.integers(0, len(lines) - 1))
            data = b"".join(lines[:k + 1] + lines[k:])
        else:
            data = data[:i]
    return data


def json_values():
    return st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
                        lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(st.text(max_size=4), inner, max_size=3), max_leaves=6)


def run(argv: list[str]) -> tuple[int, str]:
    """The command line in-process: exit status and stderr (an exception fails the test)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = cli(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, err.getvalue()


def assert_contract(rc: int, err: str) -> None:
    assert rc in (0, 2), (rc, err)
    if rc == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("iemocap: error: "), err
    else:
        assert "error" not in err, err


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A small synthetic corpus and its prepare output."""
    root = tmp_path_factory.mktemp("fuzz")
    make_corpus(root / "corpus", seed=11, dialogs_per_session=1, utterances_per_dialog=4)
    rc, err = run(["prepare", "--set", f'prepare.corpus={root / "corpus"}', "--out", str(root / "data"), "-q"])
    assert rc == 0, err
    return root / "corpus", root / "data"


def corpus_files(corpus: Path) -> list[Path]:
    release = corpus / CORPUS_DIR
    wanted = ("EmoEvaluation", "transcriptions", "ForcedAlignment", "wav")
    return sorted(p for p in release.rglob("*") if p.is_file() and any(w in p.parts for w in wanted))


@FUZZ
@given(data=st.data())
def test_prepare_on_a_mutated_corpus_file(small, data):
    corpus, _ = small
    files = corpus_files(corpus)
    # text files most of the time; now and then a wav header
    path = data.draw(st.sampled_from([p for p in files if p.suffix != ".wav"]) | st.sampled_from(files))
    original = path.read_bytes()
    head = original if path.suffix != ".wav" else original[:200]
    broken = data.draw(mutated(head)) + (b"" if path.suffix != ".wav" else original[200:])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        try:
            path.write_bytes(broken)
            rc, err = run(["prepare", "--set", f'prepare.corpus={corpus}', "--out", str(out), "-q"])
        finally:
            path.write_bytes(original)
        assert_contract(rc, err)
        if rc == 0:
            assert len(load_utterances(out)) > 0
            assert json.loads((out / "folds.json").read_text(encoding="utf-8"))
        else:
            assert not out.exists() or not any(out.iterdir()), "outputs left after an error"


@st.composite
def mutated_utterances(draw, lines: list[bytes]) -> bytes:
    """The lines of utterances.jsonl with bytes edited or one field replaced by any JSON."""
    if draw(st.booleans()):
        return draw(mutated(b"".join(lines)))
    k = draw(st.integers(0, len(lines) - 1))
    row = json.loads(lines[k])
    path = [draw(st.sampled_from(sorted(row)))]
    if isinstance(row[path[0]], list) and row[path[0]] and draw(st.booleans()):
        path.append(draw(st.integers(0, len(row[path[0]]) - 1)))
    target = row
    for key in path[:-1]:
        target = target[key]
    if draw(st.integers(0, 4)) == 0:
        del target[path[-1]]
    else:
        target[path[-1]] = draw(json_values())
    text = json.dumps(row, ensure_ascii=draw(st.booleans()))
    return b"".join(lines[:k] + [text.encode("utf-8", "surrogatepass") + b"\n"] + lines[k + 1:])


OPTION_VALUES = ["nan", ".nan", "-1", "inf", ".inf", "-.inf", "5", "0", "1", "0.5", "1e308", "-0.0", "x", "",
                 "[1]", "{a: 1}", "true"]


@FUZZ
@given(data=st.data())
def test_align_on_a_mutated_utterances_file(small, data):
    _, prepared = small
    lines = (prepared / "utterances.jsonl").read_bytes().splitlines(keepends=True)
    broken = data.draw(mutated_utterances(lines))
    options = []
    for key in ("align.max_gap", "align.min_overlap"):
        if data.draw(st.booleans()):
            options += ["--set", f"{key}={data.draw(st.sampled_from(OPTION_VALUES))}"]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(prepared / "folds.json", Path(tmp) / "folds.json")
        (Path(tmp) / "utterances.jsonl").write_bytes(broken)
        out = Path(tmp) / "out"
        rc, err = run(["align", "--data", tmp, "--out", str(out), "-q", *options])
        assert_contract(rc, err)
        if rc == 0:
            turns = json.loads((out / "hyp_turns.json").read_text(encoding="utf-8"))
            assert isinstance(turns, list)
            assert all(0 <= t["start_time"] <= t["end_time"] for t in turns)
        else:
            assert not out.exists() or not any(out.iterdir()), "outputs left after an error"
