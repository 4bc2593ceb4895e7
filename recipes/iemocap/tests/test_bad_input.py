"""Bad corpora: one clear error naming file and line, nothing half-written in OUT."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from recipes.iemocap.__main__ import main as cli
from recipes.iemocap.tools.synthetic import make_corpus


@pytest.fixture
def small(tmp_path):
    truth = make_corpus(tmp_path / "src", seed=3, dialogs_per_session=1, utterances_per_dialog=4)
    return truth


def run_prepare(corpus: Path, out: Path, capsys) -> tuple[int, str]:
    rc = cli(["prepare", "--set", f'prepare.corpus={corpus}', "--out", str(out), "-q"])
    err = capsys.readouterr().err
    return rc, err


def assert_one_error(err: str, *needles: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("iemocap: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def old_outputs(out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"utterances.jsonl": "old\n", "ref_words.rttm": "old\n", "folds.json": "[]\n"}
    for name, text in files.items():
        (out / name).write_text(text)
    return files


def assert_untouched(out: Path, files: dict[str, str]) -> None:
    assert {p.name: p.read_text() for p in out.iterdir()} == files


def test_not_iemocap(tmp_path, capsys):
    (tmp_path / "corpus" / "something").mkdir(parents=True)
    rc, err = run_prepare(tmp_path / "corpus", tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, str(tmp_path / "corpus"), "not an IEMOCAP corpus")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_corpus_dir(tmp_path, capsys):
    rc, err = run_prepare(tmp_path / "nope", tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, str(tmp_path / "nope"), "does not exist")


def test_missing_session(small, tmp_path, capsys):
    shutil.rmtree(small.corpus / "Session3")
    files = old_outputs(tmp_path / "out")
    rc, err = run_prepare(small.root, tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, str(small.corpus / "Session3"), "missing session")
    assert_untouched(tmp_path / "out", files)


def _first_summary(lines: list[str], after: int = -1) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith("[") and i > after)


def _with_emotion(line: str, code: str) -> str:
    fields = line.split("\t")
    fields[2] = code
    return "\t".join(fields)


# (file under the corpus, which line, what it becomes, what the error says)
BAD_LINES = {
    "malformed summary line": ("Session4/dialog/EmoEvaluation/Ses*.txt", lambda lines: _first_summary(lines, 5),
                               lambda line: line.replace(" - ", " ~ "), "malformed summary line"),
    "unknown emotion code": ("Session1/dialog/EmoEvaluation/Ses*.txt", _first_summary,
                             lambda line: _with_emotion(line, "joy"), "'joy'"),
    "stray line": ("Session2/dialog/EmoEvaluation/Ses*.txt", lambda lines: 4,
                   lambda line: "garbage here", "garbage"),
    "malformed transcription line": ("Session5/dialog/transcriptions/Ses*.txt", lambda lines: 0,
                                     lambda line: f"{line.split()[0]} 1.0 to 2.0: hello",
                                     "malformed transcription line"),
    "malformed wdseg row": ("Session1/sentences/ForcedAlignment/*/Ses*.wdseg", lambda lines: 2,
                            lambda line: "   12    x   -1234 HELLO", "wdseg"),
}


@pytest.mark.parametrize("case", BAD_LINES)
def test_a_bad_line_is_named_and_nothing_is_written(small, tmp_path, capsys, case):
    pattern, pick, rewrite, message = BAD_LINES[case]
    path = sorted(small.corpus.glob(pattern))[0]
    lines = path.read_text(encoding="utf-8").splitlines()
    index = pick(lines)
    lines[index] = rewrite(lines[index])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    files = old_outputs(tmp_path / "out")
    rc, err = run_prepare(small.root, tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, f"{path}:{index + 1}:", message)
    assert_untouched(tmp_path / "out", files)


def test_missing_sentence_wav(small, tmp_path, capsys):
    wav = sorted((small.corpus / "Session2" / "sentences" / "wav").glob("*/Ses*.wav"))[0]
    wav.unlink()
    rc, err = run_prepare(small.root, tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, str(wav), "missing sentence wav")


def test_unreadable_dialog_wav(small, tmp_path, capsys):
    wav = sorted((small.corpus / "Session3" / "dialog" / "wav").glob("Ses*.wav"))[0]
    wav.write_bytes(b"not a wav at all")
    rc, err = run_prepare(small.root, tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, str(wav), "wav header")


def test_duplicate_utterance(small, tmp_path, capsys):
    path = sorted((small.corpus / "Session1" / "dialog" / "EmoEvaluation").glob("Ses*.txt"))[0]
    text = path.read_text()
    first = next(line for line in text.splitlines() if line.startswith("["))
    path.write_text(text + "\n" + first + "\n")
    number = len(text.splitlines()) + 2
    rc, err = run_prepare(small.root, tmp_path / "out", capsys)
    assert rc == 2
    assert_one_error(err, f"{path}:{number}:", "already listed")


def test_success_replaces_old_outputs_and_leaves_no_temporaries(small, tmp_path, capsys):
    out = tmp_path / "out"
    old_outputs(out)
    rc, _ = run_prepare(small.root, out, capsys)
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "folds.json", "ref_utterance.rttm", "ref_words.rttm", "utterances.jsonl"]
    assert (out / "utterances.jsonl").read_text() != "old\n"
