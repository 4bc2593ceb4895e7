"""``alignment-study`` with oracle emotions on the synthetic corpus: the undegraded point
is exact, every degradation costs what it should, runs are seeded, outputs are complete."""
from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from recipes.iemocap import __main__ as cli
from recipes.iemocap.stages.align import oracle_words
from recipes.iemocap.stages.alignment_study import FACTORS, RATES, degrade
from recipes.iemocap.config import SMOKE_CONFIG, RecipeConfig
from recipes.iemocap.stages.prepare import load_utterances


@pytest.fixture(scope="module")
def study(prepared, tmp_path_factory):
    data, _ = prepared
    out = tmp_path_factory.mktemp("study")
    rc = cli.main(["alignment-study", "--data", str(data), "--out", str(out), "--config", str(SMOKE_CONFIG),
                   "--quiet"])
    assert rc == 0
    with open(out / "alignment_study.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["level"] = float(r["level"])
        for k in RATES:
            r[k] = float(r[k])
    return out, rows


def _at(rows, factor, preset):
    return [r for r in rows if r["factor"] == factor and r["preset"] == preset]


def test_every_factor_has_its_table_and_figure(study):
    out, rows = study
    assert {r["factor"] for r in rows} == set(FACTORS) == set(RecipeConfig().study.levels)
    assert {r["preset"] for r in rows} == {"wu2023", "ser-align"}
    md = (out / "alignment_study.md").read_text()
    for factor in FACTORS:
        assert f"## {factor}:" in md
        assert (out / f"{factor}.png").read_bytes()[:4] == b"\x89PNG"
        # exactly one undegraded level per factor and preset
        for preset in ("wu2023", "ser-align"):
            assert sum(r["undegraded"] == "True" for r in _at(rows, factor, preset)) == 1
    assert not list(out.glob("*.tmp"))


def test_undegraded_oracle_alignment_is_exact_under_wu2023(study):
    """Oracle words, speakers and emotions: nothing is wrong inside the collars. Under
    ser-align the utterance reference also counts the silences at the edges of each
    utterance as speech, which word-based turns miss: only missed speech remains."""
    _, rows = study
    for r in (r for r in rows if r["undegraded"] == "True"):
        if r["preset"] == "wu2023":
            assert all(r[k] == 0 for k in RATES), r
        else:
            assert r["EERa"] == 0 and r["sEERa"] == 0
            assert 0 < r["TEER"] == r["DER"] == pytest.approx(float(r["missed"]))


@pytest.mark.parametrize("factor,rate", [
    ("word_jitter", "TEER"), ("boundary_shift", "TEER"), ("word_drop", "TEER"),
    ("speaker_words", "DER"), ("speaker_turns", "sTEER"), ("turn_shift", "DER"), ("max_gap", "TEER")])
def test_the_strongest_degradation_costs_more_than_none(study, factor, rate):
    _, rows = study
    for preset in ("wu2023", "ser-align"):
        frows = _at(rows, factor, preset)
        base = next(r for r in frows if r["undegraded"] == "True")
        worst = max(frows, key=lambda r: abs(r["level"] - base["level"]))
        assert worst[rate] > base[rate] + 0.01, (preset, worst, base)


def test_merged_words_change_the_words_but_not_the_time(study, prepared):
    """Merging neighbouring words (at most 0.3 s apart, inside one turn) moves no turn
    boundary: with oracle emotions it costs nothing; only a model reading the words can
    suffer from it (--checkpoint)."""
    _, rows = study
    for preset in ("wu2023", "ser-align"):
        frows = _at(rows, "word_merge", preset)
        assert len({tuple(r[k] for k in RATES) for r in frows}) == 1
    data, _ = prepared
    records = load_utterances(data)
    words = oracle_words(records)
    merged, _ = degrade(words, "word_merge", 0.5, np.random.default_rng(0), records)
    assert sum(map(len, merged.values())) < sum(map(len, words.values()))
    assert any("+" in w.word for ws in merged.values() for w in ws)


def test_speaker_errors_cost_speaker_attributed_rates_more_than_emotion_rates(study):
    # a word given the wrong speaker keeps its (oracle) emotion: DER and sTEER rise faster than TEER
    _, rows = study
    worst = max(_at(rows, "speaker_words", "wu2023"), key=lambda r: r["level"])
    assert worst["sTEER"] > worst["TEER"] + 0.05 and worst["DER"] > worst["TEER"] + 0.05


def test_degradations_are_seeded_and_leave_the_input_alone(prepared):
    data, _ = prepared
    records = load_utterances(data)
    words = oracle_words(records)
    before = {d: [(w.word, w.start, w.end, w.speaker) for w in ws] for d, ws in words.items()}
    for factor, levels in RecipeConfig().study.levels.items():
        a, da = degrade(words, factor, levels[-1], np.random.default_rng(3), records)
        b, db = degrade(words, factor, levels[-1], np.random.default_rng(3), records)
        flat = lambda x: {d: [(w.word, w.start, w.end, w.speaker) for w in ws] for d, ws in x.items()}  # noqa: E731
        assert flat(a) == flat(b) and da == db, factor
        for ws in a.values():
            assert all(w.end >= w.start >= 0 for w in ws)
    after = {d: [(w.word, w.start, w.end, w.speaker) for w in ws] for d, ws in words.items()}
    assert after == before
    dropped, _ = degrade(words, "word_drop", 0.5, np.random.default_rng(0), records)
    n, n_drop = sum(map(len, words.values())), sum(map(len, dropped.values()))
    assert 0.35 * n < n_drop < 0.65 * n


def test_bad_arguments_are_one_line_errors(prepared, tmp_path, capsys):
    data, _ = prepared
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    rc = cli.main(["alignment-study", "--data", str(copy), "--out", str(tmp_path / "o"),
                   "--config", str(SMOKE_CONFIG), "--checkpoint", str(tmp_path / "nofold"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "best.pt" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_each_level_measures_its_word_boundary_error(study):
    """WBE, the mean |start - reference| and |end - reference| of the words: 0 where no time
    moves (undegraded, speakers, dropped or merged words, diarization, max_gap); for a jitter
    that moves both ends of a word by one N(0, s^2) offset, E|N| = s * sqrt(2 / pi)."""
    _, rows = study
    for r in rows:
        r["WBE"] = float(r["WBE"])
        if r["undegraded"] == "True" or r["factor"] not in ("word_jitter", "boundary_shift"):
            assert r["WBE"] == pytest.approx(0.0, abs=1e-9), r
    for r in _at(rows, "word_jitter", "wu2023"):
        assert r["WBE"] == pytest.approx(r["level"] * np.sqrt(2 / np.pi), rel=0.2), r
    shifts = [r["WBE"] for r in _at(rows, "boundary_shift", "wu2023")]
    assert shifts == sorted(shifts) and shifts[-1] > 0.1


def test_several_seeds_give_mean_and_spread(prepared, tmp_path):
    from recipes.iemocap.stages.alignment_study import alignment_study
    from recipes.iemocap.config import load_config

    data, _ = prepared
    rows = alignment_study(load_config(SMOKE_CONFIG), data, tmp_path, factors=["word_jitter"], seed=[0, 1, 2],
                           quiet=True)
    assert sorted({r["seed"] for r in rows}) == [0, 1, 2]
    worst = [r["TEER"] for r in rows if r["level"] == 0.4 and r["preset"] == "wu2023"]
    assert len(worst) == 3 and len(set(worst)) == 3          # each seed its own degradation
    md = (tmp_path / "alignment_study.md").read_text()
    mean, std = np.mean(worst), np.std(worst)
    assert f"{100 * mean:.1f} ± {100 * std:.1f}" in md and "3 runs" in md
    assert (tmp_path / "word_jitter.png").read_bytes()[:4] == b"\x89PNG"
