"""Hand-computed cases, one per component and convention."""
from __future__ import annotations

import pytest

import teer
from teer.segments import SegmentTable

from .corpus import table, total


def test_every_component_on_a_worked_example():
    # regions: 0-3 A|X, 3-5 A|X,Y, 5-8 A|Y, 8-9 A,B|Y, 9-10 A,B|-, 10-11 B|-, 11-12 B|Z, 12-15 -|Z
    ref = table(("a", 0, 10, "A", "hap"), ("a", 8, 12, "B", "sad"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 3, 9, "Y", "sad"), ("a", 11, 15, "Z", "sad"))
    c = total(ref, hyp, uem={"a": [(0, 16)]})
    assert (c.TOTAL, c.MS, c.FA, c.AGREE) == (14, 4, 5, 10)
    # A->Y (6 s), B->Z (1 s): X is unmapped over 0-3
    assert c.CONF_spk == 3
    # emotions: A hap vs Y sad over 5-8
    assert c.CONF_emo == 3
    # both: 0-3 (X unmapped), 3-5 (Y sad), 5-8, 8-9 (B's Z absent, A hap vs Y sad)
    assert c.CONF_emo_spk == 9
    assert c.TEER == pytest.approx(12 / 14)
    assert c.sTEER == pytest.approx(18 / 14)
    assert c.DER == pytest.approx(12 / 14)
    assert c.EERa == pytest.approx(0.3)
    assert c.sEERa == pytest.approx(0.9)


def test_collar_removes_each_side_of_every_reference_boundary():
    ref = table(("a", 0, 10, "A", "hap"), ("a", 4, 6, "B", "neu"))
    hyp = table(("a", 0, 10, "X", "sad"))
    c = total(ref, hyp, collar=0.5)
    # boundaries 0, 4, 6, 10 -> no-score [-.5,.5] [3.5,4.5] [5.5,6.5] [9.5,10.5]
    # scored [0.5,3.5] (A) + [4.5,5.5] (A,B) + [6.5,9.5] (A)
    assert c.TOTAL == pytest.approx(3 + 2 + 3)
    assert c.MS == pytest.approx(1)
    assert c.CONF_emo == pytest.approx(3 + 1 + 3)


def test_touching_segments_of_one_speaker_get_a_collar_between_them_as_in_md_eval():
    ref = table(("a", 0, 5, "A", "hap"), ("a", 5, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    assert total(ref, hyp, collar=0.25).TOTAL == pytest.approx(10 - 0.25 - 0.5 - 0.25)


def test_uem_limits_the_scored_time_and_default_is_reference_extent():
    ref = table(("a", 2, 8, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    assert total(ref, hyp).FA == 0  # reference extent [2, 8]
    assert total(ref, hyp, uem_default="union").FA == 4
    c = total(ref, hyp, uem={"a": [(0, 3), (7, 9)]})
    assert (c.TOTAL, c.FA) == (2, 3)


def test_speaker_mapping_is_computed_before_collars_as_in_md_eval():
    ref = table(("a", 0, 2, "A", "hap"))
    hyp = table(("a", 0, 0.8, "X", "hap"), ("a", 1.6, 2.0, "X", "hap"), ("a", 0.8, 1.6, "Y", "hap"))
    # before collars X overlaps A for 1.2 s, Y for 0.8 s: A -> X.
    # scored [0.5, 1.5]: Y (unmapped) speaks over [0.8, 1.5]
    c = total(ref, hyp, collar=0.5)
    assert c.TOTAL == pytest.approx(1.0)
    assert c.CONF_spk == pytest.approx(0.7)
    assert c.CONF_emo == 0


def test_fixed_speaker_map_overrides_the_optimal_one():
    ref = table(("a", 0, 10, "A", "hap"), ("a", 10, 12, "B", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 10, 12, "Y", "hap"))
    assert total(ref, hyp).CONF_spk == 0
    swapped = total(ref, hyp, speaker_map={("a", "X"): "B", ("a", "Y"): "A"})
    assert swapped.CONF_spk == 12
    assert swapped.CONF_emo == 0


def test_self_overlap_counts_once_and_any_of_its_emotions_is_right():
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "sad"))
    hyp = table(("a", 0, 10, "X", "sad"))
    report = teer.score(ref, hyp, collar=0)
    c = report.total
    assert (c.TOTAL, c.MS, c.FA) == (10, 0, 0)
    assert c.CONF_emo == 4  # 0-4 hap vs sad; 4-6 hap or sad: right
    assert c.CONF_emo_spk == 4
    assert any("same speaker" in w for w in report.warnings)


def test_one_speaker_with_two_emotions_matches_only_one_hypothesis_speaker():
    # Sum over emotions of min(ref, hyp) would be 2; a one-to-one match has size 1.
    ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "A", "sad"), ("a", 0, 10, "B", "neu"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 0, 10, "Y", "sad"))
    c = total(ref, hyp)
    assert (c.TOTAL, c.AGREE) == (20, 20)
    assert c.CONF_emo == 10


def test_file_missing_from_the_hypothesis_is_all_missed():
    ref = table(("a", 0, 4, "A", "hap"), ("b", 0, 6, "A", "neu"))
    hyp = table(("a", 0, 4, "X", "hap"))
    report = teer.score(ref, hyp, collar=0)
    assert report.files["b"].MS == 6
    assert report.total.TEER == pytest.approx(0.6)


def test_file_only_in_the_hypothesis_is_scored_only_where_a_uem_covers_it():
    ref = table(("a", 0, 4, "A", "hap"))
    hyp = table(("a", 0, 4, "X", "hap"), ("c", 0, 3, "X", "hap"))
    report = teer.score(ref, hyp, collar=0)
    assert set(report.files) == {"a"} and report.total.FA == 0
    assert any("only in the hypothesis" in w for w in report.warnings)
    covered = teer.score(ref, hyp, collar=0, uem={"a": [(0, 4)], "c": [(0, 10)]})
    assert covered.files["c"].FA == 3
    assert covered.files["c"].DER is None  # no reference speech: zero denominator


def test_empty_hypothesis_misses_everything():
    ref = table(("a", 0, 4, "A", "hap"))
    c = total(ref, SegmentTable.empty())
    assert (c.MS, c.TEER, c.sTEER, c.DER) == (4, 1.0, 1.0, 1.0)
    assert c.EERa is None  # nothing was both spoken and detected


def test_reference_without_emotions_scores_der_only():
    ref = table(("a", 0, 4, "A", None))
    hyp = table(("a", 0, 4, "X", "hap"))
    report = teer.score(ref, hyp, collar=0)
    assert report.total.DER == 0
    assert report.total.TEER is None and report.total.sEERa is None
    assert report.notes and "no emotion" in report.notes[0]


def test_reference_with_some_emotions_missing_is_an_error():
    ref = table(("a", 0, 4, "A", "hap"), ("a", 5, 6, "A", None))
    with pytest.raises(teer.InputError, match="no emotion"):
        teer.score(ref, table(("a", 0, 4, "X", "hap")))


def test_hypothesis_without_emotion_is_an_emotion_error():
    ref = table(("a", 0, 4, "A", "hap"))
    hyp = table(("a", 0, 4, "X", None))
    c = total(ref, hyp)
    assert (c.CONF_emo, c.CONF_spk) == (4, 0)


def test_components_add_across_reports_and_rates_come_from_sums():
    a = teer.score(table(("a", 0, 4, "A", "hap")), table(("a", 0, 4, "X", "sad")), collar=0)
    b = teer.score(table(("b", 0, 16, "A", "hap")), table(("b", 0, 16, "X", "hap")), collar=0)
    both = a + b
    assert both.total.TEER == pytest.approx(4 / 20)  # not the mean of 1.0 and 0.0
    assert set(both.files) == {"a", "b"}


def test_negative_collar_and_unknown_regions_are_rejected():
    ref = table(("a", 0, 4, "A", "hap"))
    with pytest.raises(ValueError, match="collar"):
        teer.score(ref, ref, collar=-1)
    with pytest.raises(ValueError, match="regions"):
        teer.score(ref, ref, regions="some")


def test_pyannote_annotations_with_speaker_emotion_labels():
    from pyannote.core import Annotation, Segment

    ref = Annotation(uri="a")
    ref[Segment(0, 4)] = ("A", "hap")
    hyp = Annotation(uri="a")
    hyp[Segment(0, 2)] = ("X", "hap")
    hyp[Segment(2, 4)] = ("X", "sad")
    c = teer.score(ref, hyp, collar=0).total
    assert (c.CONF_emo, c.CONF_spk) == (2, 0)


@pytest.mark.parametrize("names", [("X", "Y"), ("Y", "X")])
def test_equally_good_speaker_mappings_are_decided_by_emotion_agreement(names):
    # B overlaps both hypothesis speakers for 1 s: DER cannot choose; emotions can.
    ref = table(("a", 0, 1, "B", "hap"), ("a", 1, 2, "B", "neu"))
    hyp = table(("a", 0, 1, names[0], "neu"), ("a", 1, 2, names[1], "neu"))
    c = total(ref, hyp)
    assert c.CONF_spk == 1
    assert c.CONF_emo_spk == 1  # B -> the speaker saying 'neu' with it over [1, 2]


def test_each_segment_counts_when_asked_as_pyannote_does():
    from teer import engine

    # one speaker in two overlapping segments; the hypothesis covers it once
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    once = engine.sweep(ref, hyp).components()
    each = engine.sweep(ref, hyp, same_speaker_overlap="each").components()
    s = 10 ** 9  # (the engine counts ticks: ns)
    assert (once["TOTAL"][0], once["MS"][0]) == (10 * s, 0)
    assert (each["TOTAL"][0], each["MS"][0], each["CONF_spk"][0], each["CONF_emo"][0]) == (12 * s, 2 * s, 0, 0)


def test_speaker_map_file_errors_name_the_line(tmp_path):
    from teer.io.speaker_map import read_speaker_map

    path = tmp_path / "map.txt"
    path.write_text("# file hyp ref\nf h1 r1\nf h2 r1\n")
    with pytest.raises(teer.InputError, match=r"map.txt:3: reference speaker 'r1' of 'f' is mapped twice"):
        read_speaker_map(path)
    path.write_text("f h1\n")
    with pytest.raises(teer.InputError, match=r"map.txt:1: expected 3 fields"):
        read_speaker_map(path)
    path.write_text("f,h1,r1\n")
    assert read_speaker_map(path) == {("f", "h1"): "r1"}




def test_nonoverlap_counts_speakers_and_md_evals_count_of_segments_is_a_no_score_zone_away():
    """``--regions nonoverlap`` keeps a speaker's overlap with itself (one speaker); md-eval's
    ``-1`` counts segments and drops it. docs/conventions.md says so, and how to get md-eval's
    figure: the self-overlapping spans as no-score zones."""
    from pathlib import Path

    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "hap"), ("a", 20, 25, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 20, 25, "Y", "sad"))
    with pytest.warns(teer.TeerWarning):
        assert teer.score(ref, hyp, collar=0, regions="nonoverlap").total.TOTAL == 15
        md_eval = teer.score(ref, hyp, collar=0, regions="nonoverlap", noscore=table(("a", 4, 6, "A", "hap")))
    assert md_eval.total.TOTAL == 13  # 0-4, 6-10 and 20-25: where at most one segment is active
    docs = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text()
    assert "md-eval's `-1`" in docs and 'regions="nonoverlap",\n  noscore=table)' in docs


def test_the_engine_returns_counts_and_teer_messages_words_them():
    # the engine composes no text (issue 23): files on one side only, speakers overlapping
    # themselves and hedged seconds come back as counts, worded by teer.messages
    from teer import engine, messages

    ref = table(("a", 0, 4, "A", "hap"), ("a", 2, 6, "A", "hap"), ("b", 0, 4, "B", "neu"))
    hyp = table(("a", 0, 6, "X", "hap"), ("a", 1, 3, "X", "sad"), ("c", 0, 3, "Y", "hap"))
    s = 10 ** 9  # (the engine's UEM is in ticks: ns)
    result = engine.score(ref, hyp, {"a": [(0, 10 * s)], "c": [(0, 10 * s)]})
    assert result.files_apart == engine.FilesApart(only_hyp=["c"], only_hyp_in_uem=True, not_in_uem=["b"])
    assert result.self_overlaps == (1, 1) and result.hyp_several_emotions == 2.0
    assert messages.file_warnings(["c"], True, ["b"]) == [
        "1 file(s) only in the hypothesis (c): scored where the UEM covers them",
        "1 reference file(s) not in the UEM (b): not scored"]
    # and teer.score gives those warnings, worded once
    report = teer.score(ref, hyp, uem={"a": [(0, 10)], "c": [(0, 10)]}, collar=0)
    for text in (messages.file_warnings(["c"], True, ["b"]) + messages.overlap_warnings(1, 1)
                 + messages.several_emotions_warnings(2.0)):
        assert report.warnings.count(text) == 1, text
    # each segment counts (the ser-align and pyannote way): nobody overlaps itself
    each = engine.score(ref, hyp, {"a": [(0, 10 * s)]}, same_speaker_overlap="each")
    assert each.self_overlaps == (0, 0) and each.hyp_several_emotions == 0.0


def test_the_sweep_takes_resolved_options_and_checks_a_collar_by_resolves_rule():
    # options resolve() built travel to the sweep unchecked; options given one by one to the
    # engine are checked by the one function that resolve() uses too
    from teer import engine, options

    ref = table(("a", 0, 4, "A", "hap"), ("a", 5, 9, "B", "sad"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 5, 9, "Y", "hap"))
    resolved = options.resolve("wu2023", collar=0.5, regions="nonoverlap")
    given = engine.score(ref, hyp, collar=0.5, regions="nonoverlap", uem_default=resolved.uem_default)
    # the resolved object itself, not a copy of its fields
    taken = engine.score(ref, hyp, options=resolved)
    for name, values in given.components.items():
        assert values.tolist() == taken.components[name].tolist(), name
    for bad in (-1.0, float("inf"), "0.5", True):
        with pytest.raises((ValueError, TypeError)) as by_resolve:
            options.resolve("wu2023", collar=bad)
        with pytest.raises(by_resolve.type) as by_engine:
            engine.score(ref, hyp, collar=bad)
        assert str(by_engine.value) == str(by_resolve.value)
    with pytest.raises(TypeError, match="not both"):
        engine.score(ref, hyp, options=resolved, collar=0.5)
    # a collar wider than any time removes nothing more and keeps the grid's times in int64
    assert engine.SweepOptions(1e300).collar_ticks == engine.SweepOptions(1e200).collar_ticks
