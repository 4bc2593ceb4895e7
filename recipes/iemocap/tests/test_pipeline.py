"""The chain: evaluate -> hypotheses -> teer -> results.json, and ``run --smoke``.

CI runs ``test_run_smoke_end_to_end`` (select it with ``-k smoke``); it takes
seconds on two CPU cores.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from recipes.iemocap import __main__ as cli
from recipes.iemocap import score as score_mod
from recipes.iemocap.data import Example, read_audio, turn_examples
from recipes.iemocap.metrics import classification_metrics

CLS_KEYS = {"WA", "UA", "macro_f1", "weighted_f1"}
RATE_KEYS = {"TEER", "sTEER", "EERa", "sEERa"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    rc = cli.main(["run", "--smoke", "--out", str(out), "--quiet"])
    assert rc == 0
    return out


def test_run_smoke_end_to_end(smoke_run):
    out = smoke_run
    results = json.loads((out / "results.json").read_text())
    assert [f["fold"] for f in results["folds"]] == [1, 2]
    for f in results["folds"]:
        assert CLS_KEYS <= set(f) and all(0 <= f[k] <= 1 for k in CLS_KEYS)
        assert set(f["scores"]) == {"wu2023", "ser-align"}
        for entry in f["scores"].values():
            assert RATE_KEYS <= set(entry)
            if entry["available"]:
                assert all(entry[k] is not None and entry[k] >= 0 for k in RATE_KEYS)
            else:
                assert entry["reason"]
        if score_mod.preset_problem("ser-align") is None:   # teer with presets: both scored
            assert all(e["available"] for e in f["scores"].values())
        assert np.sum(f["confusion"]) == f["n_test"] > 0
    summary = results["summary"]
    assert CLS_KEYS <= set(summary) and summary["UA"]["n"] == 2
    assert RATE_KEYS <= set(summary["scores"]["wu2023"])
    report = (out / "report.md").read_text()
    assert "| mean |" in report and "TEER" in report
    for k in (1, 2):
        d = out / f"fold{k}"
        for name in ("best.pt", "last.pt", "metrics.jsonl", "hyp.json", "eval.json",
                     "confusion.json", "confusion.png", "predictions.jsonl"):
            assert (d / name).is_file(), name
        assert (d / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.rglob("*.tmp"))


def test_fold_metrics_match_the_written_predictions(smoke_run):
    results = json.loads((smoke_run / "results.json").read_text())
    labels = results["labels"]
    for f in results["folds"]:
        preds = [json.loads(x) for x in (smoke_run / f"fold{f['fold']}" / "predictions.jsonl").read_text().splitlines()]
        folds = json.loads((smoke_run / "data" / "folds.json").read_text())
        assert [p["id"] for p in preds] == folds[f["fold"] - 1]["test"]
        m = classification_metrics([labels.index(p["label"]) for p in preds],
                                   [labels.index(p["prediction"]) for p in preds], len(labels))
        assert m["UA"] == pytest.approx(f["UA"]) and m["WA"] == pytest.approx(f["WA"])
        assert m["confusion"] == f["confusion"]


def test_hypothesis_covers_the_test_session_turns_only(smoke_run):
    turns = json.loads((smoke_run / "data" / "hyp_turns.json").read_text())
    records = [json.loads(x) for x in (smoke_run / "data" / "utterances.jsonl").read_text().splitlines()]
    session_of = {r["dialog"]: r["session"] for r in records}
    labels = json.loads((smoke_run / "results.json").read_text())["labels"]
    for k, session in ((1, "Ses01"), (2, "Ses02")):
        hyp = json.loads((smoke_run / f"fold{k}" / "hyp.json").read_text())
        expected = [t for t in turns if session_of[t["session_id"]] == session]
        assert len(hyp) == len(expected) > 0
        assert [(h["session_id"], h["start_time"], h["end_time"], h["speaker"]) for h in hyp] == \
               [(t["session_id"], t["start_time"], t["end_time"], t["speaker"]) for t in expected]
        assert all(h["emotion"] in labels for h in hyp)
        ref = (smoke_run / f"fold{k}" / "ref_wu2023.rttm").read_text().splitlines()
        assert ref and all(session_of[line.split()[1]] == session for line in ref)


def test_resume_of_a_finished_run_reproduces_the_results(smoke_run, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(smoke_run, out)
    before = json.loads((out / "results.json").read_text())
    assert cli.main(["run", "--smoke", "--out", str(out), "--quiet", "--resume"]) == 0
    after = json.loads((out / "results.json").read_text())
    assert after["folds"] == before["folds"]


class _Total:
    def to_dict(self):
        return {"TEER": 0.5, "sTEER": 0.6, "EERa": 0.1, "sEERa": 0.2, "DER": 0.3,
                "MS": 1.0, "FA": 0.0, "CONF_emo": 1.0, "CONF_spk": 0.0, "CONF_emo_spk": 0.0,
                "AGREE": 2.0, "TOTAL": 4.0}


class _Report:
    total = _Total()
    warnings: list = []


def test_missing_preset_is_recorded_as_null_with_a_reason(monkeypatch):
    import teer

    calls = []

    def fake_score(reference, hypothesis, *, preset="wu2023", uem=None, collar=None, regions=None,
                   emotions=None):
        calls.append((preset, collar, emotions))
        if preset not in ("wu2023", "ser-align"):
            raise ValueError(f"unknown preset {preset!r} (known: wu2023)")
        return _Report()

    monkeypatch.setattr(teer, "score", fake_score)
    ok = score_mod.score_with_preset("r", "h", "wu2023", emotions=["neu"])
    missing = score_mod.score_with_preset("r", "h", "future-2030", emotions=["neu"])
    assert ok["available"] and ok["TEER"] == 0.5 and "notes" not in ok
    assert not missing["available"] and missing["TEER"] is None and "future-2030" in missing["reason"]
    assert calls[0] == ("wu2023", None, ["neu"])     # collar left to the preset


def test_a_teer_without_presets_is_called_with_explicit_settings(monkeypatch):
    import teer

    calls = []

    def old_score(reference, hypothesis, *, uem=None, collar=0.25, regions="all"):
        calls.append((collar, regions))
        return _Report()

    monkeypatch.setattr(teer, "score", old_score)
    entry = score_mod.score_with_preset("r", "h", "ser-align", emotions=["neu"],
                                        reference_name="ref_utterance.rttm")
    assert entry["available"] and calls == [(0.25, "all")]
    assert any("no presets" in n for n in entry["notes"])
    assert any("emotions" in n for n in entry["notes"])


def test_an_option_the_preset_forbids_is_an_error(monkeypatch):
    import teer

    def strict_score(reference, hypothesis, *, preset="wu2023", collar=None, emotions=None):
        raise ValueError(f"preset {preset} fixes collar (0.0); 0.25 would no longer reproduce it")

    monkeypatch.setattr(teer, "score", strict_score)
    with pytest.raises(score_mod.RecipeError, match="fixes collar"):
        score_mod.score_with_preset("r", "h", "ser-align", collar=0.25)


def test_a_turn_that_is_not_an_utterance_is_cut_from_the_dialog_recording(tmp_path):
    sr = 16000
    dialog = np.stack([np.arange(3 * sr) / (3 * sr), np.zeros(3 * sr)], axis=1).astype("float32")
    root = tmp_path / "Session1"
    (root / "dialog" / "wav").mkdir(parents=True)
    (root / "sentences" / "wav" / "Ses01F_x").mkdir(parents=True)
    sf.write(root / "dialog" / "wav" / "Ses01F_x.wav", dialog, sr, subtype="FLOAT")
    utt_wav = root / "sentences" / "wav" / "Ses01F_x" / "Ses01F_x_F000.wav"
    sf.write(utt_wav, dialog[:sr, 0], sr)
    utts = {"Ses01F_x_F000": {"id": "Ses01F_x_F000", "dialog": "Ses01F_x", "start": 0.0, "end": 1.0,
                              "text": "hello there", "wav": str(utt_wav)}}
    turns = [{"session_id": "Ses01F_x", "start_time": 0.0, "end_time": 1.0, "speaker": "F",
              "words": "hello there", "utterance_id": "Ses01F_x_F000"},
             {"session_id": "Ses01F_x", "start_time": 1.5, "end_time": 2.5, "speaker": "M",
              "words": "a new turn", "utterance_id": None}]
    ex = turn_examples(turns, utts)
    assert ex[0].wav == str(utt_wav) and ex[0].text == "hello there"
    assert ex[1].wav is None and ex[1].dialog_wav.endswith("dialog/wav/Ses01F_x.wav")
    assert ex[1].text == "a new turn"
    raw = read_audio(ex[1], None)
    assert len(raw) == sr                      # exactly 1.5 s .. 2.5 s
    assert np.all(np.diff(raw) > 0)            # the ramp of that stretch (normalised)
    assert len(read_audio(Example("x", "", wav=str(utt_wav)), 0.25)) == sr // 4


def test_stage_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert cli.main(["train", "--config", "recipes/iemocap/conf/smoke.yaml",
                     "--data", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("iemocap: error: ") and "utterances.jsonl" in err and "Traceback" not in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  early_stopping: {metric: accuracy}\n")
    data = tmp_path / "data"
    data.mkdir()
    assert cli.main(["train", "--config", str(bad), "--data", str(data), "--out", str(tmp_path / "o")]) == 2
    assert "early_stopping.metric" in capsys.readouterr().err


def test_evaluate_without_a_checkpoint_is_an_error(smoke_run, tmp_path, capsys):
    assert cli.main(["evaluate", "--config", "recipes/iemocap/conf/smoke.yaml",
                     "--data", str(smoke_run / "data"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("iemocap: error: ") and "fold1/best.pt: missing" in err[0]
    assert not (tmp_path / "pretrained").exists()
