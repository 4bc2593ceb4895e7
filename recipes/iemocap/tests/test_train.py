"""Training: optimisation, checkpoints, resume, metrics, batching."""
from __future__ import annotations

import json

import numpy as np
import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import torch
import torch.nn.functional as F

from recipes.iemocap.config import SMOKE_CONFIG, TrainConfig, load_config, override
from recipes.iemocap.lib.data import BucketBatchSampler, Collator, SERDataset, utterance_examples
from recipes.iemocap.lib.metrics import classification_metrics, mean_std
from recipes.iemocap.lib.model import build_model, load_tokenizer
from recipes.iemocap.lib.checkpoint import atomic_torch_save, load_checkpoint
from recipes.iemocap.lib.runtime import Runtime
from recipes.iemocap.stages.common import ensure_models, load_data
from recipes.iemocap.stages.train import make_optimizer, make_scheduler, train_fold

CPU = Runtime(torch.device("cpu"))


@pytest.fixture(scope="module")
def setup(prepared, tmp_path_factory):
    data, _ = prepared
    cfg = override(load_config(SMOKE_CONFIG), {
        "train.epochs": 3, "train.batch_size": 4, "train.grad_accum": 2, "train.num_workers": 0,
        "train.early_stopping.metric": "UA", "train.early_stopping.patience": 10, "train.keep": "both"})
    out = tmp_path_factory.mktemp("train_models")
    model_cfg = ensure_models(cfg, data, out)
    records, folds = load_data(data)
    return data, cfg, model_cfg, records, folds


def test_metrics_against_hand_computed_values():
    # classes 0..2; reference 0 0 0 1 1 2, prediction 0 0 1 1 2 2
    m = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 3)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["WA"] == pytest.approx(4 / 6)
    assert m["UA"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    # F1: c0 p=1 r=2/3 -> 0.8; c1 p=1/2 r=1/2 -> 0.5; c2 p=1/2 r=1 -> 2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["weighted_f1"] == pytest.approx((3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6)
    # a class absent from reference and predictions does not dilute UA / macro F1
    m4 = classification_metrics([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 4)
    assert m4["UA"] == pytest.approx(m["UA"]) and m4["macro_f1"] == pytest.approx(m["macro_f1"])
    s = mean_std([0.5, 0.7, None])
    assert s["mean"] == pytest.approx(0.6) and s["std"] == pytest.approx(0.1) and s["n"] == 2


def test_bucket_sampler_covers_everything_and_shards_evenly():
    durations = list(np.random.default_rng(0).uniform(1, 10, size=37))
    s = BucketBatchSampler(durations, 4, shuffle=True, seed=3, bucket_batches=3)
    s.set_epoch(1)
    batches = list(s)
    assert sorted(i for b in batches for i in b) == list(range(37)) and len(batches) == len(s)
    for b in batches:   # each batch sorted by duration within its bucket
        assert [durations[i] for i in b] == sorted(durations[i] for i in b)
    s.set_epoch(2)
    assert list(s) != batches
    shards = []
    for rank in range(3):
        r = BucketBatchSampler(durations, 4, shuffle=True, seed=3, bucket_batches=3, num_replicas=3, rank=rank)
        r.set_epoch(1)
        shards.append(list(r))
        assert len(shards[-1]) == len(r)
    assert len({len(x) for x in shards}) == 1
    assert {i for x in shards for b in x for i in b} == set(range(37))


def _fixed_batch(setup, n=6):
    data, cfg, model_cfg, records, folds = setup
    labels = ["neu", "hap", "ang", "sad"]
    ex = [e for e in utterance_examples(records, labels) if e.label >= 0][:n]
    tok = load_tokenizer(model_cfg)
    items = [SERDataset(ex, 4.0)[i] for i in range(len(ex))]
    return Collator(tok, model_cfg.text.max_tokens)(items)


def test_one_step_lowers_the_loss_on_a_fixed_batch(setup):
    _, cfg, model_cfg, *_ = setup
    torch.manual_seed(0)
    model = build_model(model_cfg, 4)
    model.train()
    for m in model.modules():   # no dropout: compare the same function before and after
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    batch = _fixed_batch(setup)
    tcfg = TrainConfig(lr_encoder=1e-3, lr_head=1e-3, weight_decay=0.0)
    opt = make_optimizer(model, tcfg)
    names = {g["name"] for g in opt.param_groups}
    assert {"encoder", "head"} <= names

    def loss():
        out = model(batch["input_ids"], batch["attention_mask"], batch["audio"], batch["audio_lengths"])
        return F.cross_entropy(out, batch["labels"])

    before = loss()
    before.backward()
    opt.step()
    with torch.no_grad():
        after = loss()
    assert after.item() < before.item()


def test_scheduler_warms_up_then_decays():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = make_scheduler(opt, total_steps=10, warmup_ratio=0.2)
    lrs = []
    for _ in range(10):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.5) and lrs[1] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[1:], lrs[2:])) and lrs[-1] < 0.2


def _weights(path):
    return load_checkpoint(path)["model"]


@pytest.mark.slow
def test_resume_after_interruption_matches_an_uninterrupted_run(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    fold = folds[0]
    full = tmp_path / "full"
    killed = tmp_path / "killed"
    s_full = train_fold(fold, records, cfg, full, rt=CPU, model_cfg=model_cfg, quiet=True)
    partial = train_fold(fold, records, cfg, killed, rt=CPU, model_cfg=model_cfg, quiet=True,
                         stop_after_epoch=1)
    assert partial["interrupted"] and partial["epoch"] == 1
    # a temporary file left over by a kill during a checkpoint write is harmless
    (killed / "fold1" / ".last.pt.junk.tmp").write_bytes(b"half a checkpoint")
    s_res = train_fold(fold, records, cfg, killed, rt=CPU, model_cfg=model_cfg, quiet=True, resume=True)
    assert s_res == s_full
    for name in ("last.pt", "best.pt"):
        a, b = _weights(full / "fold1" / name), _weights(killed / "fold1" / name)
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    hist_full = [json.loads(x) for x in (full / "fold1" / "metrics.jsonl").read_text().splitlines()]
    hist_res = [json.loads(x) for x in (killed / "fold1" / "metrics.jsonl").read_text().splitlines()]
    drop = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert drop(hist_full) == drop(hist_res) and len(hist_full) == 3
    assert {"train_loss", "valid_loss", "valid_UA", "valid_WA", "lr"} <= set(hist_full[0])
    # training actually changed the weights
    init = build_model(model_cfg, 4).state_dict()
    final = _weights(full / "fold1" / "last.pt")
    assert not torch.equal(init["head.classifier.weight"], final["head.classifier.weight"])


@pytest.mark.slow
def test_without_resume_a_fold_restarts_from_scratch(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    cfg = override(cfg, {"train.epochs": 1})
    train_fold(folds[0], records, cfg, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True)
    first = _weights(tmp_path / "fold1" / "last.pt")
    train_fold(folds[0], records, cfg, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True)
    again = _weights(tmp_path / "fold1" / "last.pt")
    for key in first:
        torch.testing.assert_close(first[key], again[key], rtol=0, atol=0)
    assert len((tmp_path / "fold1" / "metrics.jsonl").read_text().splitlines()) == 1


@pytest.mark.slow
def test_early_stopping_stops_and_keeps_the_best_epoch(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    cfg = override(cfg, {"train.epochs": 6, "train.lr_encoder": 0.0, "train.lr_head": 0.0,
                         "train.early_stopping.metric": "loss", "train.early_stopping.patience": 1})
    s = train_fold(folds[0], records, cfg, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True)
    # zero learning rate: validation never improves after epoch 1
    assert s["early_stopped"] and s["epochs"] == 2 and s["best_epoch"] == 1
    assert load_checkpoint(tmp_path / "fold1" / "best.pt")["epoch"] == 1


def test_atomic_torch_save_leaves_the_old_file_on_failure(tmp_path):
    path = tmp_path / "x.pt"
    atomic_torch_save({"a": 1}, path)

    class Boom:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_torch_save({"a": Boom()}, path)
    assert load_checkpoint(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.pt"]


def test_training_on_turns_reads_the_labelled_aligned_turns(setup, tmp_path):
    """``train.on: turns``: the examples are align's turns of the training sessions, labelled
    as SER-Align labels them; evaluation reports the test turns' metrics under ``turns``."""
    import shutil

    from recipes.iemocap.stages.align import align
    from recipes.iemocap.stages.evaluate import evaluate_fold
    from recipes.iemocap.stages.common import label_turns, load_turns, split_examples

    data, cfg, model_cfg, records, folds = setup
    data2 = tmp_path / "data"
    shutil.copytree(data, data2)
    align(data2, data2, cfg, verbose=False)
    turns = load_turns(data2)
    cfg = override(cfg, {"train.on": "turns", "train.epochs": 1})
    fold = folds[0]
    train_ex = split_examples(records, turns, fold, cfg, "train")
    ids = label_turns(turns, records, cfg.labels.turn_overlap)
    session = {r["dialog"]: r["session"] for r in records}
    expected = [t for t, uid in zip(turns, ids) if uid is not None and uid not in set(fold["valid"])
                and session[t["session_id"]] != fold["test_session"]]
    assert len(train_ex) == len(expected) > 20
    assert [(e.start, e.end) for e in train_ex] == [(t["start_time"], t["end_time"]) for t in expected]
    assert all(e.wav.endswith(f"dialog/wav/{t['session_id']}.wav") for e, t in zip(train_ex, expected))
    assert {e.label for e in train_ex} <= {0, 1, 2, 3}
    out = tmp_path / "exp"
    s = train_fold(fold, records, cfg, out, rt=CPU, model_cfg=model_cfg, quiet=True, turns=turns)
    assert s["epochs"] == 1
    r = evaluate_fold(fold, records, cfg, data2, out, rt=CPU, model_cfg=model_cfg, quiet=True)
    n_test = sum(uid is not None and session[t["session_id"]] == fold["test_session"] for t, uid in zip(turns, ids))
    assert r["trained_on"] == "turns" and r["turns"]["n"] == n_test > 0
    assert set(r["turns"]) >= {"WA", "UA", "macro_f1", "weighted_f1", "n"} and 0 <= r["turns"]["WA"] <= 1
    assert r["n_test"] == len(fold["test"])           # the utterance metrics are still there
    with pytest.raises(Exception, match="run `python -m recipes.iemocap align` first"):
        split_examples(records, None, fold, cfg, "train")
