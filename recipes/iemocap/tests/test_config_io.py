"""Config loading (the typed structure, its defaults, checks and overrides) and the atomic-write helpers."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recipes.iemocap.config import (DEFAULT_CONFIG, SMOKE_CONFIG, RecipeConfig, as_dict, load_config,
                                    override, yaml_load)
from recipes.iemocap.lib.io_utils import (RecipeError, atomic_output_dir, atomic_write_json,
                                      atomic_write_text, read_jsonl)

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    conf = tmp_path / "c.yaml"
    conf.write_text(text)
    return conf


def error(conf_or_call) -> str:
    with pytest.raises(RecipeError) as info:
        conf_or_call() if callable(conf_or_call) else load_config(conf_or_call)
    return str(info.value)


@pytest.mark.parametrize("path", [DEFAULT_CONFIG, SMOKE_CONFIG])
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.labels.mapping == {"neu": "neu", "hap": "hap", "exc": "hap", "ang": "ang", "sad": "sad"}
    assert cfg.labels.names == ["neu", "hap", "ang", "sad"]
    assert cfg.align.source == "oracle"
    assert 0 < cfg.folds.valid_fraction < 1
    assert cfg.path == str(path)


def test_default_yaml_spells_out_exactly_the_dataclass_defaults():
    assert load_config(DEFAULT_CONFIG) == RecipeConfig()
    # every setting is there (a complete, documented example), and nothing else
    assert yaml_load(DEFAULT_CONFIG.read_text()) == as_dict(RecipeConfig())


def test_default_yaml_is_written_from_the_dataclasses():
    """The defaults live in config.py only: conf/default.yaml is derived from it, comments too."""
    from recipes.iemocap.tools.write_defaults import defaults_yaml, main

    assert DEFAULT_CONFIG.read_text(encoding="utf-8") == defaults_yaml()
    assert main(["--check"]) == 0
    text = defaults_yaml()
    assert "  # Seed of the validation draw.\n  seed: 1234\n" in text          # a field's docstring above it
    assert "    wu2023: {reference: ref_words.rttm, collar: null, regions: null}\n" in text


def test_values_once_outside_the_config_are_settings():
    cfg = RecipeConfig()
    assert cfg.train.rank_seed_stride == 7919 and cfg.study.seeds == [0] and cfg.run.seeds is None
    assert cfg.study.min_word == 0.01 and cfg.study.merge_gap == 0.3
    assert cfg.synthetic.seed == 0 and cfg.synthetic.utterances_per_dialog == 12
    assert list(cfg.study.levels) == ["word_jitter", "boundary_shift", "word_drop", "word_merge",
                                      "speaker_words", "speaker_turns", "turn_shift", "max_gap"]


def test_smoke_yaml_is_the_default_with_a_few_values_changed():
    smoke = load_config(SMOKE_CONFIG)
    changed = yaml_load(SMOKE_CONFIG.read_text())

    def leaves(d, key=()):
        for k, v in d.items():
            yield from leaves(v, key + (k,)) if isinstance(v, dict) else [(".".join(key + (k,)), v)]

    settings = dict(leaves(changed))
    assert len(settings) < 25
    assert override(RecipeConfig(), settings) == smoke
    assert smoke.model.text.pretrained is None and smoke.model.audio.pretrained is None
    assert smoke.model.text.tiny == RecipeConfig().model.text.tiny     # the tiny shapes live once
    assert smoke.train.folds == [1, 2] and smoke.train.epochs == 2


def test_a_file_gives_only_what_it_changes(tmp_path):
    cfg = load_config(write(tmp_path, "train:\n  epochs: 3\nmodel:\n  fusion: {dim: 64}\n"))
    assert cfg.train.epochs == 3 and cfg.model.fusion.dim == 64
    assert dataclasses.replace(cfg, train=RecipeConfig().train, model=RecipeConfig().model) == RecipeConfig()
    assert load_config(write(tmp_path, "")) == RecipeConfig()
    # an integer where a number is expected is a float
    assert load_config(write(tmp_path, "align: {max_gap: 2}\n")).align.max_gap == 2.0
    assert isinstance(load_config(write(tmp_path, "align: {max_gap: 2}\n")).align.max_gap, float)


def test_full_label_set_and_unknown_set(tmp_path):
    mapping = load_config(write(tmp_path, "labels: {set: full}\n")).labels.mapping
    assert mapping["exc"] == "exc" and "xxx" not in mapping and len(mapping) == 10
    assert error(write(tmp_path, "labels: {set: sixclass}\n")) == (
        f"{tmp_path / 'c.yaml'}:1: labels.set: unknown label set 'sixclass' (choose from 4class, full)")


def test_label_sets_and_maps_of_the_config(tmp_path):
    cfg = load_config(write(tmp_path, "labels:\n  set: two\n  sets: {two: {ang: bad, sad: bad, hap: good}}\n"))
    assert cfg.labels.mapping == {"ang": "bad", "sad": "bad", "hap": "good"}
    assert cfg.labels.names == ["bad", "good"]
    cfg = load_config(write(tmp_path, "labels:\n  map: {neu: n, ang: a}\n"))
    assert cfg.labels.mapping == {"neu": "n", "ang": "a"}
    assert "labels.map: expected a non-empty mapping of emotion codes" in error(
        write(tmp_path, "labels:\n  map: {neutral: n}\n"))


def test_bad_yaml_names_file_and_line(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("labels:\n  set: 4class\n  x: [1, 2\nprepare: {}\n")
    with pytest.raises(RecipeError) as info:
        load_config(conf)
    assert str(conf) in str(info.value) and info.value.line is not None


@pytest.mark.parametrize("text, line, message", [
    ("train:\n  epochs: ten\n", 2, "train.epochs: expected a positive integer, got 'ten'"),
    ("train:\n  epochs: 0\n", 2, "train.epochs: expected a positive integer, got 0"),
    ("train:\n  epochs: true\n", 2, "train.epochs: expected a positive integer, got True"),
    ("train:\n  epochs: 2.5\n", 2, "train.epochs: expected a positive integer, got 2.5"),
    ("train:\n  seed: 1\n  epoch: 3\n", 3, "train.epoch: unknown key; did you mean epochs? (known: folds, on, "),
    ("trian:\n  epochs: 3\n", 1, "trian: unknown key; did you mean train? (known: labels, prepare, folds, "),
    ("train:\n  colour: red\n", 2, "train.colour: unknown key (known: folds, on, epochs, "),
    ("study:\n  levels: {jitter: [0.1]}\n", 2, "study.levels: expected a mapping of factors (word_jitter, "),
    ("study:\n  factors: [word_drop]\n  levels: {max_gap: [1.0]}\n", 2,
     "study.factors: no levels for factor 'word_drop' (study.levels has max_gap)"),
    ("study: {seeds: []}\n", 1, "study.seeds: expected a non-empty list of integers, got []"),
    ("synthetic: {utterances_per_dialog: 1}\n", 1, "synthetic.utterances_per_dialog: expected an integer >= 2"),
    ("synthetic: {cue: video}\n", 1, "synthetic.cue: expected one of none, audio, text, both, got 'video'"),
    ("run: {seeds: [1, x]}\n", 1, "run.seeds: expected a non-empty list of integers or null"),
    ("train: 5\n", 1, "train: expected a mapping of settings, got 5"),
    ("train:\n  folds: []\n", 2, "train.folds: expected a non-empty list of fold numbers"),
    ("train:\n  early_stopping: {metric: accuracy}\n", 2,
     "train.early_stopping.metric: expected one of UA, WA, macro_f1, weighted_f1, loss, got 'accuracy'"),
    ("train:\n  precision: fp64\n", 2, "train.precision: expected one of auto, fp32, bf16, fp16, got 'fp64'"),
    ("train:\n  lr_head: .nan\n", 2, "train.lr_head: expected a number >= 0, got nan"),
    ("folds: {valid_fraction: 1}\n", 1, "folds.valid_fraction: expected a number from 0 to 1 (1 excluded)"),
    ("model:\n  fusion:\n    dim: 30\n    heads: 4\n", 4, "model.fusion.heads: 4 heads do not divide dim 30"),
    ("model:\n  audio:\n    max_seconds: 0\n", 3, "model.audio.max_seconds: expected a number of seconds > 0 "
                                                   "or null, got 0"),
    ("model:\n  text:\n    tiny: {hidden: 3}\n", 3, "model.text.tiny.hidden: unknown key"),
    ("evaluate: {checkpoint: first}\n", 1, "evaluate.checkpoint: expected one of best, last, got 'first'"),
    ("score:\n  presets:\n    nist: {reference: ref_words.rttm}\n", 3,
     "score.presets.nist: expected one of wu2023, ser-align, eder, got 'nist'"),
    ("score:\n  presets:\n    wu2023: {collar: 0.1}\n", 3,
     "score.presets.wu2023.reference: missing (this setting has no default)"),
    ("score:\n  presets: {}\n", 2, "score.presets: expected at least one teer preset"),
    ("score:\n  collar: 0.25\n", 1, "score.presets.ser-align: preset ser-align fixes collar (0.0); 0.25 would "
                                     "no longer reproduce it (set score.presets.ser-align.collar to the "
                                     "preset's value, or score.collar to null)"),
    ("score:\n  regions: some\n", 2, "score.regions: expected one of all, single, overlap, nonoverlap or null"),
    ("- train\n", 1, "config must be a mapping of sections"),
])
def test_a_bad_setting_is_one_error_naming_file_line_and_key(tmp_path, text, line, message):
    conf = write(tmp_path, text)
    assert error(conf).startswith(f"{conf}:{line}: {message}")


def test_overrides_are_read_as_yaml_and_checked_the_same_way(tmp_path):
    cfg = load_config(SMOKE_CONFIG, ["train.epochs=5", "model.fusion.dim=64", "train.folds=[3]",
                                     "labels.map={neu: n, sad: s}", "model.text.pretrained=null",
                                     "align.max_gap=1"])
    assert cfg.train.epochs == 5 and cfg.model.fusion.dim == 64 and cfg.train.folds == [3]
    assert cfg.labels.names == ["n", "s"] and cfg.align.max_gap == 1.0
    assert cfg.train.lr_head == load_config(SMOKE_CONFIG).train.lr_head   # the file's values stay
    assert error(lambda: load_config(SMOKE_CONFIG, ["train.epochs=ten"])) == (
        "--set: train.epochs: expected a positive integer, got 'ten'")
    assert error(lambda: load_config(None, ["train.epochs"])).startswith("--set: expected KEY=VALUE")
    assert error(lambda: load_config(None, ["train.epoch=3"])).startswith(
        "--set: train.epoch: unknown key; did you mean epochs? (known: ")
    assert error(lambda: load_config(None, ["model.fusion.heads=3"])) == (
        "--set: model.fusion.heads: 3 heads do not divide dim 256")
    assert error(lambda: load_config(None, ["score.presets.wu2023.reference=x.rttm"])).startswith(
        "--set: score.presets: is set as a whole (score.presets={...})")
    assert error(lambda: load_config(None, ["train.epochs.x=3"])).startswith(
        "--set: train.epochs: is set as a whole")
    assert error(lambda: load_config(None, ["train=3"])) == "--set: train: expected a mapping of settings, got 3"
    # overrides come after the file
    conf = write(tmp_path, "train: {epochs: 7}\n")
    assert load_config(conf, ["train.epochs=8"]).train.epochs == 8


@pytest.mark.parametrize("typed,value", [("1e-3", 1e-3), ("1E-3", 1e-3), ("2e-5", 2e-5), (".5", 0.5),
                                         ("5.", 5.0), ("+1e-4", 1e-4), ("1_000.5", 1000.5), ("3", 3.0)])
def test_numbers_as_people_type_them_in_set_and_in_files(tmp_path, typed, value):
    """YAML 1.1 reads 1e-3 as a string; here it is the number Python reads."""
    assert load_config(None, [f"train.lr_encoder={typed}"]).train.lr_encoder == value
    conf = write(tmp_path, f"train:\n  lr_head: {typed}\n")
    assert load_config(conf).train.lr_head == value


def test_quoted_numbers_and_near_numbers_stay_strings():
    assert error(lambda: load_config(None, ['train.lr_encoder="1e-3"'])) == (
        "--set: train.lr_encoder: expected a number >= 0, got '1e-3'")
    for text in ("1e", "e3", "1.2.3", "."):
        assert error(lambda: load_config(None, [f"train.lr_encoder={text}"])) == (
            f"--set: train.lr_encoder: expected a number >= 0, got {text!r}")
    # booleans are YAML 1.2's: on/off/yes/no are words (train.on is a key)
    assert load_config(None, ["train.on=turns", "model.audio.freeze_feature_encoder=False"]).train.on == "turns"
    assert error(lambda: load_config(None, ["model.audio.freeze_feature_encoder=yes"])) == (
        "--set: model.audio.freeze_feature_encoder: expected true or false, got 'yes'")
    # an integer setting still takes an integer only
    assert error(lambda: load_config(None, ["train.epochs=1e1"])) == (
        "--set: train.epochs: expected a positive integer, got 10.0")


def test_a_stage_takes_set_on_its_command_line(tmp_path, capsys):
    from recipes.iemocap.__main__ import main as cli

    assert cli(["align", "--data", str(tmp_path), "--set", "align.max_gap=-1", "-q"]) == 2
    assert capsys.readouterr().err == "iemocap: error: --set: align.max_gap: expected a finite number of " \
                                      "seconds >= 0, got -1\n"


def test_config_imports_neither_torch_nor_transformers():
    code = ("import sys; import recipes.iemocap.config as c; c.load_config(c.SMOKE_CONFIG); "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_atomic_writes(tmp_path):
    atomic_write_text(tmp_path / "a" / "t.txt", "héllo\n")
    atomic_write_json(tmp_path / "j.json", {"x": "é"})
    assert (tmp_path / "a" / "t.txt").read_text(encoding="utf-8") == "héllo\n"
    assert json.loads((tmp_path / "j.json").read_text(encoding="utf-8")) == {"x": "é"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "j.json"]
    # the mode a plain open() gives (not mkstemp's 0600), so others can read the results
    umask = os.umask(0o022)
    os.umask(umask)
    assert (tmp_path / "j.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_atomic_output_dir_publishes_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    with atomic_output_dir(out) as stage:
        (stage / "one.txt").write_text("1")
        (stage / "two.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == ["one.txt", "two.txt"]
    with pytest.raises(RuntimeError):
        with atomic_output_dir(out) as stage:
            (stage / "one.txt").write_text("changed")
            raise RuntimeError("boom")
    assert (out / "one.txt").read_text() == "1"
    assert sorted(p.name for p in out.iterdir()) == ["one.txt", "two.txt"]


def test_read_jsonl_names_bad_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n\n{"a": \n')
    with pytest.raises(RecipeError) as info:
        read_jsonl(path)
    assert info.value.line == 3
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_jsonl(path) == [(1, {"a": 1}), (3, {"a": 2})]
