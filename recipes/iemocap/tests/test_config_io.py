"""Config loading and the atomic-write helpers."""
from __future__ import annotations

import json
import os

import pytest

from recipes.iemocap.config import DEFAULT_CONFIG, SMOKE_CONFIG, label_map, load_config
from recipes.iemocap.io_utils import (RecipeError, atomic_output_dir, atomic_write_json,
                                      atomic_write_text, read_jsonl)


@pytest.mark.parametrize("path", [DEFAULT_CONFIG, SMOKE_CONFIG])
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert label_map(cfg) == {"neu": "neu", "hap": "hap", "exc": "hap", "ang": "ang", "sad": "sad"}
    assert cfg["align"]["source"] == "oracle"
    assert 0 < cfg["folds"]["valid_fraction"] < 1


def test_full_label_set_and_unknown_set(tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("labels: {set: full}\n")
    mapping = label_map(load_config(conf))
    assert mapping["exc"] == "exc" and "xxx" not in mapping and len(mapping) == 10
    conf.write_text("labels: {set: sixclass}\n")
    with pytest.raises(RecipeError, match="sixclass"):
        load_config(conf)


def test_bad_yaml_names_file_and_line(tmp_path):
    conf = tmp_path / "bad.yaml"
    conf.write_text("labels:\n  set: 4class\n  x: [1, 2\nprepare: {}\n")
    with pytest.raises(RecipeError) as info:
        load_config(conf)
    assert str(conf) in str(info.value) and info.value.line is not None


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
