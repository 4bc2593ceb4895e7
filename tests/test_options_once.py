"""Options are resolved and checked once (issue 23): the command line converts text,
``teer.options.resolve`` checks each rule with one function and builds a frozen
``ScoringOptions``, and that object reaches the sweep without being checked again."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import teer
from teer import api, options
from teer.cli import main
from teer.options import ScoringOptions, check_fixed, resolve
from teer.segments import OptionError
from teer.ticks import MAX_TICKS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
REF = [dict(file="a", start=0, end=5, speaker="s", emotion="hap")]
HYP = [dict(file="a", start=1, end=5, speaker="x", emotion="hap")]


def _count_resolves(monkeypatch) -> list:
    calls = []
    real = options.resolve

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(options, "resolve", counted)
    return calls


def test_resolved_options_are_frozen_and_given_whole():
    resolved = resolve("wu2023", collar=0.5, regions="single")
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.collar = 0  # type: ignore[misc]
    assert teer.score(REF, HYP, options=resolved).total == teer.score(REF, HYP, collar=0.5, regions="single").total


@pytest.mark.parametrize("function", [teer.score, api.run])
def test_resolved_options_are_not_resolved_again(monkeypatch, function):
    resolved = resolve(collar=0.0)
    calls = _count_resolves(monkeypatch)
    report = function(REF, HYP, options=resolved)
    assert calls == []
    assert getattr(report, "report", report).settings["collar"] == 0.0


def test_resolved_options_and_options_one_by_one_are_not_both_given():
    resolved = resolve(collar=0.0)
    with pytest.raises(TypeError, match="not both"):
        teer.score(REF, HYP, options=resolved, collar=0.5)
    with pytest.raises(TypeError, match="not both"):
        teer.score(REF, HYP, options=resolved, preset="ser-align")
    with pytest.raises(TypeError, match="options must be ScoringOptions"):
        teer.score(REF, HYP, options={"collar": 0.5})


@pytest.mark.parametrize("command", [
    ["score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"],
    ["compare", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", EXAMPLES / "hyp.json", "--bootstrap", "20"],
    ["analyze", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json"],
])
def test_each_command_resolves_its_options_once(monkeypatch, capsys, command):
    calls = _count_resolves(monkeypatch)
    assert main([str(a) for a in command] + ["--collar", "0.5"]) == 0
    assert len(calls) == 1  # compare scored two systems with one resolve
    capsys.readouterr()


def test_the_preset_fixed_rule_is_one_public_function():
    check_fixed("wu2023", "collar", 0.5)  # wu2023 fixes nothing
    check_fixed("ser-align", "collar", None)  # not given
    check_fixed("ser-align", "collar", 0.0)  # the preset's own value
    with pytest.raises(ValueError, match=r"preset ser-align fixes collar \(0.0\); 0.5 would no longer reproduce it"):
        check_fixed("ser-align", "collar", 0.5)
    with pytest.raises(ValueError, match=r"preset eder fixes speaker-map \(not used\); given"):
        check_fixed(teer.presets.get("eder"), "speaker_map", {("a", "x"): "s"})
    # resolve applies the same rule, with the same message
    with pytest.raises(ValueError, match=r"preset ser-align fixes regions \('all'\); 'single' would"):
        resolve("ser-align", regions="single")


def test_a_rule_broken_is_an_option_error_that_the_command_line_names_as_typed(capsys):
    with pytest.raises(OptionError, match="^collar must be a non-negative finite number of seconds, not -1$") as err:
        resolve(collar=-1)
    assert (err.value.option, isinstance(err.value, ValueError)) == ("collar", True)
    assert main(["score", str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json"), "--preset", "eder",
                 "--neutral", " "]) == 2
    assert capsys.readouterr().err == "teer: error: --neutral must be a non-empty label, not ' '\n"


def test_the_collar_in_ticks_is_the_nearest_tick_and_bounded():
    assert resolve(collar=0.25).collar_ticks == 250_000_000
    assert resolve(collar=1e300).collar_ticks == MAX_TICKS
    assert isinstance(resolve(), ScoringOptions) and resolve().collar_ticks == 250_000_000


def test_the_bootstrap_rules_are_the_settings_and_the_command_line_names_them(capsys):
    from teer.bootstrap import Settings

    with pytest.raises(OptionError, match="^the number of bootstrap resamples must be between 1 and 1,000,000"):
        Settings(0)
    with pytest.raises(OptionError, match=r"^the confidence must be between 0 and 1 \(exclusive\), not 1.5$"):
        Settings(10, 1.5)
    ref, hyp = str(EXAMPLES / "ref.rttm"), str(EXAMPLES / "hyp.json")
    # checked before anything is read, also where --bootstrap is not given
    assert main(["score", ref, hyp, "--confidence", "1.5"]) == 2
    assert capsys.readouterr().err == "teer: error: --confidence must be between 0 and 1 (exclusive), not 1.5\n"
    assert main(["compare", ref, hyp, hyp, "--bootstrap", "0"]) == 2
    assert capsys.readouterr().err.startswith("teer: error: --bootstrap must be between 1 and 1,000,000")
