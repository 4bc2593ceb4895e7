"""The chain: evaluate -> hypotheses -> teer -> results.json, and ``run --smoke``.

``test_run_smoke_end_to_end`` is the smoke run (select it with ``-k smoke``); its time is
measured in recipes/iemocap/README.md.
"""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import torch

from recipes.iemocap import __main__ as cli
from recipes.iemocap.stages import score as score_mod
from recipes.iemocap.lib.metrics import classification_metrics

CLS_KEYS = {"WA", "UA", "macro_f1", "weighted_f1"}
RATE_KEYS = {"TEER", "sTEER", "EERa", "sEERa"}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    rc = cli.main(["run", "--smoke", "--out", str(out), "--quiet"])
    assert rc == 0
    return out


@pytest.mark.slow
def test_run_smoke_end_to_end(smoke_run):
    out = smoke_run
    results = json.loads((out / "results.json").read_text())
    assert [f["fold"] for f in results["folds"]] == [1, 2]
    for f in results["folds"]:
        assert CLS_KEYS <= set(f) and all(0 <= f[k] <= 1 for k in CLS_KEYS)
        assert set(f["scores"]) == {"wu2023", "ser-align"}
        for entry in f["scores"].values():
            assert RATE_KEYS <= set(entry)
            assert all(entry[k] is not None and entry[k] >= 0 for k in RATE_KEYS)
        assert np.sum(f["confusion"]) == f["n_test"] > 0
    summary = results["summary"]
    assert CLS_KEYS <= set(summary) and summary["UA"]["n"] == 2
    assert RATE_KEYS <= set(summary["scores"]["wu2023"])
    report = (out / "report.md").read_text()
    assert "| mean |" in report and "TEER" in report
    for k in (1, 2):
        d = out / f"fold{k}"
        assert not (d / "last.pt").exists()   # train.keep: best (the resume state goes once a fold is done)
        for name in ("best.pt", "metrics.jsonl", "hyp.json", "eval.json", "train_summary.json",
                     "confusion.json", "confusion.png", "predictions.jsonl"):
            assert (d / name).is_file(), name
        assert (d / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_pooled_results_intervals_and_per_class_scores(smoke_run):
    results = json.loads((smoke_run / "results.json").read_text())
    labels, pooled = results["labels"], results["pooled"]
    preds = [json.loads(x) for k in (1, 2) for x in (smoke_run / f"fold{k}" / "predictions.jsonl").read_text().splitlines()]
    m = classification_metrics([labels.index(p["label"]) for p in preds], [labels.index(p["prediction"]) for p in preds],
                               len(labels))
    assert pooled["n"] == len(preds) == sum(f["n_test"] for f in results["folds"])
    for key in CLS_KEYS:
        assert pooled[key] == pytest.approx(m[key])
    assert np.array_equal(pooled["confusion"], np.sum([f["confusion"] for f in results["folds"]], axis=0))
    for i, lab in enumerate(labels):
        c, row, col = pooled["per_class"][lab], np.array(m["confusion"])[i], np.array(m["confusion"])[:, i]
        assert c["support"] == row.sum()
        assert c["recall"] == (pytest.approx(row[i] / row.sum()) if row.sum() else None)
        assert c["precision"] == (pytest.approx(col[i] / col.sum()) if col.sum() else None)
    lo, hi = pooled["UA_interval"]
    assert 0 <= lo <= hi <= 1 and pooled["bootstrap"]["resamples"] == 1000
    for name, entry in pooled["scores"].items():
        summed = results["summary"]["scores"][name]["pooled"]   # the seconds of the folds summed
        for key in RATE_KEYS:
            assert entry[key] == pytest.approx(summed[key], abs=1e-9)
            lo, hi = entry["intervals"][key]
            assert lo <= hi and entry["files"] == len({r["session_id"] for k in (1, 2) for r in
                                                      json.loads((smoke_run / f"fold{k}" / "hyp.json").read_text())})
        assert any("files" in w for w in entry["warnings"])   # a smoke run has too few dialogs for a bootstrap
    report = (smoke_run / "report.md").read_text()
    assert "| pooled |" in report and "95 % CI (files)" in report and "| class | precision |" in report


@pytest.mark.slow
def test_run_with_seeds_reports_mean_and_std_over_seeds(tmp_path):
    out = tmp_path / "seeds"
    assert cli.main(["run", "--smoke", "--out", str(out), "--quiet", "--set", "run.seeds=[3, 4]",
                     "--set", "train.folds=[1]"]) == 0
    combined = json.loads((out / "results.json").read_text())
    assert combined["seeds"] == [3, 4] and set(combined["runs"]) == {"3", "4"}
    per_seed = [json.loads((out / f"seed{s}" / "results.json").read_text()) for s in (3, 4)]
    assert [r["pooled"] for r in per_seed] == [combined["runs"][s]["pooled"] for s in ("3", "4")]
    for key in ("UA", "WA"):
        values = [r["pooled"][key] for r in per_seed]
        assert combined["summary"][key]["mean"] == pytest.approx(np.mean(values))
        assert combined["summary"][key]["std"] == pytest.approx(np.std(values))
    teer_values = [r["pooled"]["scores"]["wu2023"]["TEER"] for r in per_seed]
    assert combined["summary"]["scores"]["wu2023"]["TEER"]["mean"] == pytest.approx(np.mean(teer_values))
    assert (out / "data" / "folds.json").is_file() and not (out / "seed3" / "data").exists()
    w3 = torch.load(out / "seed3" / "fold1" / "best.pt", weights_only=False)["model"]
    w4 = torch.load(out / "seed4" / "fold1" / "best.pt", weights_only=False)["model"]
    assert not torch.equal(w3["head.classifier.weight"], w4["head.classifier.weight"])   # the seeds differ


@pytest.mark.slow
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_resume_of_a_finished_run_reproduces_the_results(smoke_run, tmp_path):
    out = tmp_path / "again"
    shutil.copytree(smoke_run, out)
    before = json.loads((out / "results.json").read_text())
    assert cli.main(["run", "--smoke", "--out", str(out), "--quiet", "--resume"]) == 0
    after = json.loads((out / "results.json").read_text())
    assert after["folds"] == before["folds"]


def _tiny_pair(tmp_path):
    ref = tmp_path / "ref.rttm"
    ref.write_text("SPEAKER d 1 0 4 hap <NA> A <NA> <NA>\nSPEAKER d 1 5 3 fru <NA> B <NA> <NA>\n")
    hyp = tmp_path / "hyp.json"
    hyp.write_text(json.dumps([{"session_id": "d", "start_time": 0, "end_time": 4, "speaker": "x", "emotion": "hap"},
                               {"session_id": "d", "start_time": 5, "end_time": 8, "speaker": "y", "emotion": "sad"}]))
    return ref, hyp


def test_each_preset_scores_with_its_own_rule_for_non_target_speech(tmp_path):
    ref, hyp = _tiny_pair(tmp_path)
    wu = score_mod.score_with_preset(ref, hyp, "wu2023", collar=0.0, emotions=["hap", "sad"])
    ser = score_mod.score_with_preset(ref, hyp, "ser-align", emotions=["hap", "sad"])
    # wu2023: fru speech is a no-score zone; ser-align: it is dropped, so y's turn is false alarm
    assert (wu["TOTAL"], wu["FA"], wu["TEER"]) == (4.0, 0.0, 0.0)
    assert (ser["TOTAL"], ser["FA"], ser["TEER"]) == (4.0, 3.0, 0.75)


def test_an_unknown_preset_or_an_option_the_preset_forbids_is_an_error(tmp_path):
    ref, hyp = _tiny_pair(tmp_path)
    with pytest.raises(score_mod.RecipeError, match="future-2030"):
        score_mod.score_with_preset(ref, hyp, "future-2030")
    with pytest.raises(score_mod.RecipeError, match="collar"):
        score_mod.score_with_preset(ref, hyp, "ser-align", collar=0.25)


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


@pytest.mark.slow
def test_evaluate_without_a_checkpoint_is_an_error(smoke_run, tmp_path, capsys):
    assert cli.main(["evaluate", "--config", "recipes/iemocap/conf/smoke.yaml",
                     "--data", str(smoke_run / "data"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("iemocap: error: ") and "fold1/best.pt: missing" in err[0]
    assert not (tmp_path / "pretrained").exists()
