"""The frozen, cached protocol (model.*.freeze, model.*.layers, train.cache_features) and the
budgets (train.max_batch_seconds, train.keep)."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from recipes.iemocap.lib.checkpoint import load_checkpoint  # noqa: E402
from recipes.iemocap.config import SMOKE_CONFIG, load_config, override  # noqa: E402
from recipes.iemocap.lib.data import BucketBatchSampler, utterance_examples  # noqa: E402
from recipes.iemocap.lib.features import FeatureCache  # noqa: E402
from recipes.iemocap.lib.io_utils import RecipeError  # noqa: E402
from recipes.iemocap.lib.model import FEATURE_DTYPE, LayerWeights, build_model, load_tokenizer  # noqa: E402
from recipes.iemocap.lib.runtime import Runtime  # noqa: E402
from recipes.iemocap.stages.common import ensure_models, load_data  # noqa: E402
from recipes.iemocap.stages.train import train_fold  # noqa: E402

CPU = Runtime(torch.device("cpu"))
FROZEN = {"model.text.freeze": True, "model.audio.freeze": True}


@pytest.fixture(scope="module")
def setup(prepared, tmp_path_factory):
    data, _ = prepared
    cfg = override(load_config(SMOKE_CONFIG), {
        "train.epochs": 2, "train.batch_size": 4, "train.num_workers": 0, "model.fusion.dim": 16,
        "model.fusion.heads": 2, "model.fusion.layers": 1})
    out = tmp_path_factory.mktemp("protocol_models")
    model_cfg = ensure_models(cfg, data, out)
    records, folds = load_data(data)
    return data, cfg, model_cfg, records, folds


def _model(model_cfg, **settings):
    cfg = override(load_config(SMOKE_CONFIG), {f"model.{k}": v for k, v in settings.items()})
    torch.manual_seed(0)
    return build_model(cfg.model.with_pretrained(text=model_cfg.text.pretrained, audio=model_cfg.audio.pretrained,
                                                 tokenizer=model_cfg.tokenizer), 4)


def _batch(model_cfg, n=3):
    tok = load_tokenizer(model_cfg)
    enc = tok(["yeah okay", "the forms are here", "no"][:n], padding=True, return_tensors="pt")
    gen = torch.Generator().manual_seed(0)
    return enc["input_ids"], enc["attention_mask"], torch.randn(n, 12000, generator=gen), torch.tensor([12000, 8000, 5000][:n])


def test_a_frozen_encoder_gets_no_gradient_and_gives_the_same_features_in_training(setup):
    *_, model_cfg, _, _ = setup
    model = _model(model_cfg, **{"text.freeze": True, "audio.freeze": True, "audio.mask_time_prob": 0.5}).train()
    ids, mask, audio, lengths = _batch(model_cfg)
    a1, _ = model.encode_audio(audio, lengths)
    a2, _ = model.encode_audio(audio, lengths)
    assert a1.dtype == FEATURE_DTYPE and torch.equal(a1, a2)   # no SpecAugment, no dropout
    model(ids, mask, audio, lengths).sum().backward()
    assert all(p.grad is None for p in model.encoder_parameters())
    assert model.head.classifier.weight.grad is not None
    trained = _model(model_cfg).train()
    trained(ids, mask, audio, lengths).sum().backward()
    assert trained.text_encoder.embeddings.word_embeddings.weight.grad is not None


def test_weighted_layers_start_as_the_mean_of_every_hidden_state_and_learn(setup):
    *_, model_cfg, _, _ = setup
    model = _model(model_cfg, **{"text.layers": "weighted", "audio.layers": "weighted"}).eval()
    ids, mask, audio, lengths = _batch(model_cfg)
    states, _ = model.encode_text(ids, mask)
    layers = model.text_encoder.config.num_hidden_layers + 1
    assert states.shape[1] == layers and isinstance(model.text_layer_weights, LayerWeights)
    torch.testing.assert_close(model.text_layer_weights(states), states.mean(1))
    last = model.text_encoder(input_ids=ids, attention_mask=mask).last_hidden_state
    torch.testing.assert_close(states[:, -1], last)
    model.train()
    model(ids, mask, audio, lengths).sum().backward()
    assert model.text_layer_weights.weights.grad.abs().sum() > 0
    assert model.audio_layer_weights.weights.grad.abs().sum() > 0
    before = model.eval()(ids, mask, audio, lengths)
    with torch.no_grad():
        model.audio_layer_weights.weights[0] += 3.0
    assert not torch.allclose(model(ids, mask, audio, lengths), before, atol=1e-5)


def _history(path):
    return [{k: v for k, v in json.loads(x).items() if k != "seconds"} for x in path.read_text().splitlines()]


@pytest.mark.slow
@pytest.mark.parametrize("layers", ["last", "weighted"])
def test_cached_and_uncached_training_give_the_same_result(setup, tmp_path, layers):
    data, cfg, model_cfg, records, folds = setup
    base = override(cfg, {**FROZEN, "model.audio.layers": layers, "train.keep": "both"})
    mcfg = override(base, {}).model.with_pretrained(text=model_cfg.text.pretrained, audio=model_cfg.audio.pretrained,
                                                    tokenizer=model_cfg.tokenizer)
    fold = {**folds[0], "train": folds[0]["train"][:16], "valid": folds[0]["valid"][:4]}
    runs = {}
    for cached in (False, True):
        out = tmp_path / f"cached{cached}"
        train_fold(fold, records, override(base, {"train.cache_features": cached}), out, rt=CPU,
                   model_cfg=mcfg, quiet=True)
        runs[cached] = out
    assert (runs[True] / "features").is_dir() and not (runs[False] / "features").exists()
    h0, h1 = _history(runs[False] / "fold1" / "metrics.jsonl"), _history(runs[True] / "fold1" / "metrics.jsonl")
    assert len(h0) == len(h1) == 2
    for a, b in zip(h0, h1):
        assert a.keys() == b.keys()
        for key in a:
            if isinstance(a[key], float):
                assert a[key] == pytest.approx(b[key], abs=1e-5), key
    # the two trained models predict alike (weights that do not change the output, such as an
    # attention's key bias, follow float noise under Adam and are not compared)
    logits = []
    for cached in (False, True):
        model = build_model(mcfg, 4)
        model.load_state_dict(load_checkpoint(runs[cached] / "fold1" / "last.pt")["model"])
        with torch.no_grad():
            logits.append(model.eval()(*_batch(mcfg)))
    torch.testing.assert_close(logits[0], logits[1], atol=1e-4, rtol=1e-4)
    untrained = build_model(mcfg, 4).eval()
    with torch.no_grad():
        assert not torch.allclose(untrained(*_batch(mcfg)), logits[0], atol=1e-3)   # training moved it


def test_a_changed_setting_or_input_never_reads_stale_features(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    labels = cfg.labels.names
    examples = [e for e in utterance_examples(records, labels) if e.label >= 0][:6]
    tok = load_tokenizer(model_cfg)
    root = tmp_path / "features"

    def cached(model, max_seconds=6.0, tokens=64, exs=examples):
        cache = FeatureCache(root, model, tok, tokens, max_seconds)
        keys = cache.keys(exs)
        cache.fill(model, exs, keys, CPU, 4)
        return cache, keys

    def same(cached_array, fresh_states):   # computed in a batch of 4 and alone: fp16 rounding apart
        np.testing.assert_allclose(cached_array, fresh_states.float().numpy(), atol=2e-3, rtol=2e-3)

    def fresh(model, ex, max_seconds=6.0):
        from recipes.iemocap.lib.data import read_audio
        wav = torch.from_numpy(read_audio(ex, max_seconds))[None]
        with torch.no_grad():
            return model.eval().encode_audio(wav, torch.tensor([wav.shape[1]]))[0][0]

    frozen = {"text.freeze": True, "audio.freeze": True}
    model = _model(model_cfg, **frozen)
    cache, keys = cached(model)
    first_dirs = set(cache.dirs.values())
    assert sum(1 for _ in root.rglob("*.npy")) == 2 * len(examples)
    same(cache.load("audio", keys[0]["audio"]), fresh(model, examples[0]))
    # the same settings read what is there: nothing computed again
    assert FeatureCache(root, model, tok, 64, 6.0).fill(model, examples, keys, CPU, 4) == 0
    # other weights (another seed of the tiny encoder), other layers: other directories
    other = _model(model_cfg, **frozen)
    with torch.no_grad():
        other.audio_encoder.encoder.layers[0].feed_forward.output_dense.weight.mul_(1.5)
    cache2, keys2 = cached(other)
    assert cache2.dirs["audio"] not in first_dirs and cache2.dirs["text"] in first_dirs
    same(cache2.load("audio", keys2[0]["audio"]), fresh(other, examples[0]))
    assert not np.allclose(cache2.load("audio", keys2[0]["audio"]), fresh(model, examples[0]).float().numpy(),
                           atol=2e-3, rtol=2e-3)   # the other weights' features are not the first ones
    weighted = _model(model_cfg, **frozen, **{"audio.layers": "weighted"})
    cache3, keys3 = cached(weighted)
    assert cache3.dirs["audio"] not in first_dirs | {cache2.dirs["audio"]}
    assert cache3.load("audio", keys3[0]["audio"]).ndim == 3
    # another cut of the audio, another tokenizer length: other input keys
    _, keys4 = cached(model, max_seconds=1.0, tokens=3)
    assert all(a["audio"] != b["audio"] for a, b in zip(keys, keys4) if examples[0].duration > 1.0)
    assert keys4[1]["text"] != keys[1]["text"]
    same(cache.load("audio", keys4[0]["audio"]), fresh(model, examples[0], 1.0))
    # the recording itself changed: another input key
    ex = examples[0]
    moved = tmp_path / "changed.wav"
    audio, sr = sf.read(ex.wav, dtype="float32")
    sf.write(moved, audio[::-1].copy(), sr)
    changed = type(ex)(**{**ex.__dict__, "wav": str(moved)})
    _, keys5 = cached(model, exs=[changed])
    assert keys5[0]["audio"] != keys[0]["audio"] and keys5[0]["text"] == keys[0]["text"]
    same(cache.load("audio", keys5[0]["audio"]), fresh(model, changed))


def test_the_cache_needs_a_frozen_encoder(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    with pytest.raises(RecipeError, match="train.cache_features needs a frozen encoder"):
        train_fold(folds[0], records, override(cfg, {"train.cache_features": True}), tmp_path, rt=CPU,
                   model_cfg=model_cfg, quiet=True)


def test_batches_capped_by_padded_seconds():
    durations = list(np.random.default_rng(0).uniform(0.5, 12, size=200))
    s = BucketBatchSampler(durations, 16, shuffle=True, seed=1, bucket_batches=4, max_batch_seconds=30.0)
    lengths = s.epoch_lengths(3)
    for epoch in range(3):
        s.set_epoch(epoch)
        batches = list(s)
        assert len(batches) == len(s) == lengths[epoch]
        assert sorted(i for b in batches for i in b) == list(range(200))
        for b in batches:
            assert len(b) <= 16
            assert len(b) == 1 or len(b) * max(durations[i] for i in b) <= 30.0
    assert len(set(lengths)) > 1 or lengths[0] > 200 * 6 / 30   # more batches than batch_size alone gives
    plain = BucketBatchSampler(durations, 16, shuffle=True, seed=1, bucket_batches=4)
    assert len(plain) < min(lengths)
    shards = [BucketBatchSampler(durations, 16, shuffle=True, seed=1, bucket_batches=4, max_batch_seconds=30.0,
                                 num_replicas=2, rank=r) for r in range(2)]
    assert len(list(shards[0])) == len(list(shards[1])) == len(shards[0])
    one = BucketBatchSampler([40.0, 1.0, 2.0], 8, shuffle=False, max_batch_seconds=10.0)
    assert list(one) == [[1, 2], [0]]


@pytest.mark.slow
def test_keep_best_leaves_weights_only_and_resume_of_a_finished_fold_trains_nothing(setup, tmp_path):
    data, cfg, model_cfg, records, folds = setup
    cfg = override(cfg, {"train.epochs": 1, "train.max_batch_seconds": 8.0})
    s = train_fold(folds[0], records, cfg, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True)
    fold = tmp_path / "fold1"
    assert sorted(p.name for p in fold.glob("*.pt")) == ["best.pt"]
    best = load_checkpoint(fold / "best.pt")
    assert "optimizer" not in best and set(best) >= {"model", "epoch", "labels"}
    assert s["checkpoints"] == {"best.pt": (fold / "best.pt").stat().st_size}
    mtime = (fold / "best.pt").stat().st_mtime_ns
    assert train_fold(folds[0], records, cfg, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True, resume=True) == s
    assert (fold / "best.pt").stat().st_mtime_ns == mtime
    # keep last (evaluated from last): last.pt weights only, no best.pt
    shutil.rmtree(fold)
    cfg_last = override(cfg, {"train.keep": "last", "evaluate.checkpoint": "last"})
    train_fold(folds[0], records, cfg_last, tmp_path, rt=CPU, model_cfg=model_cfg, quiet=True)
    assert sorted(p.name for p in fold.glob("*.pt")) == ["last.pt"]
    assert "optimizer" not in load_checkpoint(fold / "last.pt")
