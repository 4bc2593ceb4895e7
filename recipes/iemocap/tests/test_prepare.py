"""prepare on the synthetic corpus, checked against the generator's truth."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from recipes.iemocap.__main__ import main as cli
from recipes.iemocap.config import LABEL_SETS
from recipes.iemocap.stages.prepare import SESSION_IDS, UTTERANCE_FIELDS, load_folds, load_utterances, make_folds


def read_rttm(path: Path) -> list[tuple]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        f = line.split()
        assert len(f) == 10 and f[0] == "SPEAKER" and f[2] == "1"
        assert f[6] == f[8] == f[9] == "<NA>"
        rows.append((f[1], round(float(f[3]), 4), round(float(f[3]) + float(f[4]), 4), f[5], f[7]))
    return rows


def test_every_utterance_with_truth_fields(prepared):
    out, truth = prepared
    rows = load_utterances(out)
    assert [tuple(r) for r in rows] == [UTTERANCE_FIELDS] * len(rows)
    by_id = truth.by_id()
    assert sorted(r["id"] for r in rows) == sorted(by_id)
    for r in rows:
        t = by_id[r["id"]]
        assert (r["dialog"], r["session"], r["speaker"], r["code"]) == (t.dialog, t.session, t.speaker, t.code)
        assert r["start"] == pytest.approx(t.start) and r["end"] == pytest.approx(t.end)
        assert r["text"] == t.text
        assert Path(r["wav"]).is_file() and Path(r["wav"]).name == f"{t.id}.wav"
        if t.has_wdseg:
            assert [w[0] for w in r["words"]] == [w[0] for w in t.words]
            assert [x for w in r["words"] for x in w[1:]] == pytest.approx([x for w in t.words for x in w[1:]])
        else:
            assert r["words"] is None
    assert sum(r["words"] is None for r in rows) == len(truth.missing_wdseg) == 1


def test_speaker_is_session_plus_id_letter(prepared):
    out, _ = prepared
    for r in load_utterances(out):
        assert r["speaker"] == r["session"] + r["id"].rsplit("_", 1)[1][0]
    # some utterance IDs carry the other letter than their dialog name
    assert any(r["id"].rsplit("_", 1)[1][0] != r["dialog"][5] for r in load_utterances(out))


def test_non_ascii_text_kept(prepared):
    out, truth = prepared
    row = {r["id"]: r for r in load_utterances(out)}[truth.non_ascii_utterance]
    assert "café" in row["text"]
    assert "café" in (out / "utterances.jsonl").read_text(encoding="utf-8")


def test_counts_match_truth_and_exc_is_hap(prepared):
    out, truth = prepared
    rows = load_utterances(out)
    labelled = [r for r in rows if r["emotion"] is not None]
    assert dict(Counter(r["emotion"] for r in labelled)) == truth.class_counts()
    assert dict(Counter(r["session"] for r in labelled)) == truth.session_counts()
    assert set(truth.session_counts()) == set(SESSION_IDS)
    excited = [r for r in rows if r["code"] == "exc"]
    assert excited and all(r["emotion"] == "hap" for r in excited)
    assert all(r["emotion"] is None for r in rows if r["code"] not in LABEL_SETS["4class"])
    assert {"xxx", "fru"} <= {r["code"] for r in rows if r["emotion"] is None}


def test_utterance_reference_keeps_every_utterance(prepared):
    out, truth = prepared
    rows = read_rttm(out / "ref_utterance.rttm")
    assert len(rows) == len(truth.utterances)
    expected = Counter()
    for t in truth.utterances:
        label = LABEL_SETS["4class"].get(t.code, t.code)
        expected[(t.dialog, round(t.start, 4), round(t.end, 4), label, t.speaker)] += 1
    assert Counter(rows) == expected
    labels = {r[3] for r in rows}
    assert "exc" not in labels and {"hap", "fru", "xxx"} <= labels


def test_word_reference_excludes_silences(prepared):
    out, truth = prepared
    rows = read_rttm(out / "ref_words.rttm")
    expected = Counter()
    for t in truth.utterances:
        label = LABEL_SETS["4class"].get(t.code, t.code)
        segs = t.speech if t.has_wdseg else [(t.start, t.end)]
        for s, e in segs:
            expected[(t.dialog, round(s, 4), round(e, 4), label, t.speaker)] += 1
    assert Counter(rows) == expected
    # every utterance is there, and leading/trailing/between-word silences are gone
    total_words = sum(e - s for _, s, e, _, _ in rows)
    total_utts = sum(e - s for _, s, e, _, _ in read_rttm(out / "ref_utterance.rttm"))
    assert total_words < 0.9 * total_utts
    assert len(rows) > len(truth.utterances)          # some utterances have inner pauses
    for t in truth.utterances:
        if t.has_wdseg:
            mine = [r for r in rows if r[4] == t.speaker and t.start <= r[1] and r[2] <= t.end]
            assert min(r[1] for r in mine) > t.start and max(r[2] for r in mine) < t.end


def test_full_label_set_via_cli(synthetic_corpus, tmp_path, capsys):
    root, truth = synthetic_corpus
    assert cli(["prepare", "--set", f'prepare.corpus={root / "IEMOCAP_full_release"}',
                "--out", str(tmp_path), "--set", "labels.set=full"]) == 0
    printed = capsys.readouterr().out
    assert "Ses05" in printed and "fru" in printed
    rows = load_utterances(tmp_path)
    assert dict(Counter(r["emotion"] for r in rows if r["emotion"])) == truth.class_counts(LABEL_SETS["full"])
    assert {r["emotion"] for r in rows if r["code"] == "exc"} == {"exc"}
    assert all(r["emotion"] is None for r in rows if r["code"] == "xxx")
    assert "exc" in {r[3] for r in read_rttm(tmp_path / "ref_utterance.rttm")}


def test_cli_prints_counts(synthetic_corpus, tmp_path, capsys):
    root, truth = synthetic_corpus
    assert cli(["prepare", "--set", f'prepare.corpus={root}', "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    total_line = [line for line in printed.splitlines() if line.startswith("total")][0]
    counts = truth.class_counts()
    assert total_line.split()[1:] == [str(counts.get(c, 0)) for c in ("neu", "hap", "ang", "sad")] + \
        [str(sum(counts.values()))]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "folds.json", "ref_utterance.rttm", "ref_words.rttm", "utterances.jsonl"]


def test_folds_leave_one_session_out(prepared):
    out, truth = prepared
    rows = {r["id"]: r for r in load_utterances(out)}
    folds = load_folds(out)
    labelled = {i for i, r in rows.items() if r["emotion"] is not None}
    assert [f["fold"] for f in folds] == [1, 2, 3, 4, 5]
    for k, fold in enumerate(folds, 1):
        assert fold["test_session"] == f"Ses0{k}"
        train, valid, test = set(fold["train"]), set(fold["valid"]), set(fold["test"])
        assert not (train & valid or train & test or valid & test)
        assert train | valid | test == labelled
        assert test == {i for i in labelled if rows[i]["session"] == fold["test_session"]}
        assert all(rows[i]["session"] != fold["test_session"] for i in train | valid)
        assert valid and len(valid) < len(train)


def test_folds_fixed_by_seed(prepared):
    out, _ = prepared
    rows = load_utterances(out)
    a = make_folds(rows, seed=7, valid_fraction=0.2)
    assert a == make_folds(rows, seed=7, valid_fraction=0.2)
    assert [f["valid"] for f in a] != [f["valid"] for f in make_folds(rows, seed=8, valid_fraction=0.2)]
    assert a == json.loads(json.dumps(a))
