"""Presets and emotion-set options, on hand-computed examples."""
from __future__ import annotations

import pytest

import teer
from teer.emotions import parse_emotion_map, parse_emotions
from teer.segments import InputError

from .corpus import table


def total(ref, hyp, **kw):
    return teer.score(ref, hyp, **kw).total


# ---------------------------------------------------------------- presets


def test_wu2023_is_the_default_and_named_in_the_settings():
    ref = table(("a", 0, 10, "A", "hap"), ("a", 8, 12, "B", "sad"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 3, 9, "Y", "sad"))
    default = teer.score(ref, hyp)
    explicit = teer.score(ref, hyp, preset="wu2023", collar=0.25, uem_default="reference", regions="all")
    assert default.total == explicit.total
    assert default.settings == explicit.settings
    assert default.settings["preset"] == "wu2023"
    assert default.settings["collar"] == 0.25
    assert default.settings["uem"] == "reference extent"
    assert default.settings["emotions"] == "all"
    assert default.to_dict()["settings"]["preset"] == "wu2023"


def test_ser_align_maps_emotion_labels_so_a_wrong_emotion_can_count_right():
    ref = table(("a", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "sad"))
    assert total(ref, hyp, collar=0).CONF_emo == 10
    c = total(ref, hyp, preset="ser-align")
    assert (c.CONF_emo, c.CONF_emo_spk, c.TEER, c.EERa) == (0, 0, 0, 0)


def test_ser_align_steer_can_be_below_its_teer():
    # two reference speakers with one emotion; the system splits them by emotion
    ref = table(("a", 0, 5, "A", "hap"), ("a", 5, 8, "B", "hap"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 5, 8, "Y", "sad"))
    c = total(ref, hyp, preset="ser-align")
    # emotion labels one-to-one: hyp hap -> ref hap (5 s); hyp sad has no partner left
    assert c.CONF_emo == 3 and c.TEER == pytest.approx(3 / 8)
    # emotion_speaker labels: hap_X -> hap_A, sad_Y -> hap_B: all "right"
    assert c.CONF_emo_spk == 0 and c.sTEER == 0
    w = total(ref, hyp, collar=0)
    assert (w.CONF_emo, w.CONF_emo_spk) == (3, 3)  # literal: sTEER >= TEER always
    assert w.sTEER >= w.TEER


def test_ser_align_scores_the_reference_and_hypothesis_extent_with_no_collar():
    ref = table(("a", 2, 8, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    c = total(ref, hyp, preset="ser-align")
    assert (c.TOTAL, c.FA, c.MS, c.AGREE) == (6, 4, 0, 6)
    report = teer.score(ref, hyp, preset="ser-align")
    assert report.settings["collar"] == 0
    assert report.settings["uem"] == "reference and hypothesis extent"
    assert report.settings["preset"] == "ser-align"


def test_ser_align_counts_each_segment_where_a_speaker_overlaps_itself():
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    c = total(ref, hyp, preset="ser-align")
    assert (c.TOTAL, c.MS, c.AGREE) == (12, 2, 10)
    w = total(ref, hyp, collar=0)
    assert (w.TOTAL, w.MS) == (10, 0)


def test_ser_align_der_is_pyannote_der_with_default_settings():
    ref = table(("a", 0, 4, "A", "hap"), ("a", 4, 10, "B", "sad"))
    hyp = table(("a", 0, 7, "X", "hap"), ("a", 7, 10, "Y", "sad"))
    c = total(ref, hyp, preset="ser-align")
    # overlaps X-A 4, X-B 3, Y-B 3: X -> A, Y -> B, and 4-7 (X over B) is confusion
    assert c.CONF_spk == 3
    assert c.DER == pytest.approx(3 / 10)


def test_ser_align_fixes_the_options_it_reproduces():
    ref = table(("a", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    # the preset's own values are accepted
    teer.score(ref, hyp, preset="ser-align", collar=0, uem_default="union", regions="all", non_target="drop")
    for option in (dict(collar=0.25), dict(uem_default="reference"), dict(regions="overlap"),
                   dict(non_target="noscore"), dict(speaker_map={("a", "X"): "A"}),
                   dict(noscore=table(("a", 1, 2, "A", None)))):
        with pytest.raises(ValueError, match="preset ser-align fixes"):
            teer.score(ref, hyp, preset="ser-align", **option)
    # a UEM replaces the extent, as passing uem= to the script would
    c = total(ref, hyp, preset="ser-align", uem={"a": [(2, 4)]})
    assert c.TOTAL == 2


def test_wu2023_options_override_the_preset():
    ref = table(("a", 2, 8, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"))
    report = teer.score(ref, hyp, collar=0, uem_default="union")
    assert report.settings["collar"] == 0 and report.total.FA == 4


def test_unknown_preset_is_an_error_naming_the_known_ones():
    ref = table(("a", 0, 1, "A", "hap"))
    with pytest.raises(ValueError, match="unknown preset 'nope' .*wu2023, ser-align"):
        teer.score(ref, ref, preset="nope")


def test_ser_align_with_a_reference_without_emotions_scores_der_only():
    ref = table(("a", 0, 10, "A", None))
    hyp = table(("a", 0, 6, "X", None), ("a", 6, 10, "Y", None))
    report = teer.score(ref, hyp, preset="ser-align")
    assert report.total.TEER is None and report.total.DER == pytest.approx(0.4)
    assert report.notes


# ---------------------------------------------------------------- emotion sets

# A speaks hap 0-4 and fru 4-6, B sad 6-10; the system hears one speaker saying hap throughout
REF = (("a", 0, 4, "A", "hap"), ("a", 4, 6, "A", "fru"), ("a", 6, 10, "B", "sad"))
HYP = (("a", 0, 10, "X", "hap"),)


def test_without_an_emotion_set_every_label_is_scored():
    c = total(table(*REF), table(*HYP), collar=0)
    assert (c.TOTAL, c.CONF_emo) == (10, 6)


def test_non_target_reference_speech_is_a_no_score_zone_by_default():
    report = teer.score(table(*REF), table(*HYP), collar=0, emotions="hap,sad")
    c = report.total
    assert (c.TOTAL, c.MS, c.FA, c.CONF_emo, c.AGREE) == (8, 0, 0, 4, 8)
    assert report.settings["emotions"] == "hap,sad"
    assert report.settings["non_target"] == "no-score zone"


def test_no_score_zone_removes_the_time_for_every_speaker():
    # B's sad speech under A's fru segment is not scored either
    ref = table(("a", 0, 4, "A", "fru"), ("a", 2, 8, "B", "sad"))
    hyp = table(("a", 0, 8, "X", "sad"))
    c = total(ref, hyp, collar=0, emotions=["sad"])
    assert (c.TOTAL, c.FA, c.CONF_emo) == (4, 0, 0)


def test_collars_still_surround_every_reference_segment_including_non_target_ones():
    c = total(table(*REF), table(*HYP), collar=0.25, emotions="hap,sad")
    # boundaries 0, 4, 6, 10 collared (.25 + .25 + .25 + .25 inside [0, 10]), plus fru 4-6:
    # removed [0,.25] [3.75,6.25] [9.75,10]
    assert c.TOTAL == pytest.approx(7)
    assert c.CONF_emo == pytest.approx(3.5)  # sad vs hap over [6.25, 9.75]


def test_drop_deletes_non_target_reference_speech_so_system_speech_there_is_false_alarm():
    report = teer.score(table(*REF), table(*HYP), collar=0, emotions="hap,sad", non_target="drop")
    c = report.total
    assert (c.TOTAL, c.MS, c.FA, c.CONF_emo) == (8, 0, 2, 4)
    assert report.settings["non_target"] == "dropped"


def test_hypothesis_emotions_outside_the_set_stay_and_are_wrong():
    ref = table(("a", 0, 4, "A", "hap"))
    hyp = table(("a", 0, 3, "X", "UNK"), ("a", 3, 4, "X", "hap"))
    c = total(ref, hyp, collar=0, emotions="hap,sad")
    assert (c.TOTAL, c.CONF_emo, c.FA) == (4, 3, 0)


def test_emotion_map_merges_labels_on_both_sides_first():
    ref = table(("a", 0, 4, "A", "exc"), ("a", 4, 6, "A", "hap"))
    hyp = table(("a", 0, 2, "X", "hap"), ("a", 2, 6, "X", "exc"))
    assert total(ref, hyp, collar=0).CONF_emo == 4
    report = teer.score(ref, hyp, collar=0, emotion_map="exc=hap")
    assert report.total.CONF_emo == 0
    assert report.settings["emotion_map"] == "exc=hap"
    # mapped, then restricted: exc counts as hap, which is in the set
    assert total(ref, hyp, collar=0, emotion_map={"exc": "hap"}, emotions=["hap"]).TOTAL == 6


def test_emotion_map_is_applied_once_not_chained():
    ref = table(("a", 0, 4, "A", "b"))
    hyp = table(("a", 0, 4, "X", "a"))
    assert total(ref, hyp, collar=0, emotion_map="a=b,b=c").CONF_emo == 4  # a -> b, b -> c


def test_emotion_set_with_a_label_the_reference_never_uses_warns():
    report = teer.score(table(*REF), table(*HYP), emotions="hap,sad,ang")
    assert any("'ang'" in w and "occur in neither input" in w for w in report.warnings)
    report = teer.score(table(*REF), table(*HYP, ("a", 0, 1, "Y", "ang")), emotions="hap,sad,ang")
    assert any("ang" in w and "never occur in the reference" in w for w in report.warnings)


def test_a_reference_file_with_only_non_target_speech_when_dropped():
    ref = table(("a", 0, 4, "A", "hap"), ("b", 0, 4, "A", "fru"))
    hyp = table(("a", 0, 4, "X", "hap"), ("b", 0, 4, "X", "hap"))
    report = teer.score(ref, hyp, collar=0, emotions="hap", non_target="drop")
    assert any("no speech in the scored emotion set" in w for w in report.warnings)
    # wu2023 keeps the scored time of the reference as given: the system's speech is false alarm
    assert (report.files["b"].FA, report.files["b"].TOTAL) == (4, 0)
    assert not any("only in the hypothesis" in w for w in report.warnings)
    ser = teer.score(ref, hyp, preset="ser-align", emotions="hap")
    # the script skips a file without a target-emotion reference segment (``if not ref_speech: continue``)
    assert "b" not in ser.files and ser.skipped == {"b": "no reference segment with a target emotion"}
    assert ser.to_dict()["skipped"] == {"b": "no reference segment with a target emotion"}
    assert any("ser-align skips 1 file(s)" in w and "(b)" in w for w in ser.warnings)
    assert ser.total.FA == 0


def test_parse_emotions():
    assert parse_emotions("neu, hap,ang") == ("neu", "hap", "ang")
    assert parse_emotions(["neu"]) == ("neu",)
    assert parse_emotions(None) is None
    for bad in ("", "neu,,hap", "neu,neu", "a b"):
        with pytest.raises(ValueError):
            parse_emotions(bad)


def test_parse_emotion_map_inline_and_file(tmp_path):
    assert parse_emotion_map("exc=hap, fru=ang") == {"exc": "hap", "fru": "ang"}
    assert parse_emotion_map({"exc": "hap"}) == {"exc": "hap"}
    path = tmp_path / "map.txt"
    path.write_text("# merges\nexc hap\n\nfru=ang\n")
    assert parse_emotion_map(str(path)) == {"exc": "hap", "fru": "ang"}
    assert parse_emotion_map(path) == {"exc": "hap", "fru": "ang"}
    with pytest.raises(ValueError, match="exc=hap=x"):
        parse_emotion_map("exc=hap=x")


def test_emotion_map_file_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "map.txt"
    path.write_text("exc hap\nfru ang sad\n")
    with pytest.raises(InputError, match=r"map\.txt:2: expected"):
        parse_emotion_map(str(path))
    path.write_text("exc hap\nexc neu\n")
    with pytest.raises(InputError, match=r"map\.txt:2: emotion 'exc' is mapped twice"):
        parse_emotion_map(str(path))
    with pytest.raises(InputError, match="no such file"):
        parse_emotion_map(str(tmp_path / "missing.txt"))


def test_bad_non_target_value():
    with pytest.raises(ValueError, match="non_target"):
        teer.score(table(*REF), table(*HYP), non_target="ignore")


def test_non_target_without_an_emotion_set_is_an_error():
    one = table(("a", 0, 1, "A", "hap"))
    with pytest.raises(ValueError, match="emotions"):
        teer.score(one, one, non_target="drop")
    assert teer.score(one, one, non_target="drop", emotions="hap").total.TEER == 0


def test_drop_keeps_the_scored_time_of_the_reference_as_given():
    ref = table(("a", 0, 4, "A", "hap"), ("a", 6, 10, "B", "fru"), ("b", 0, 3, "B", "fru"))
    hyp = table(("a", 0, 4, "X", "hap"), ("a", 6, 10, "Y", "sad"), ("b", 0, 3, "Z", "hap"))
    report = teer.score(ref, hyp, collar=0, emotions="hap", non_target="drop")
    # the fru speech is gone from the reference, but its time is still scored: Y and Z are false alarm
    assert (report.files["a"].TOTAL, report.files["a"].FA) == (4, 4)
    assert (report.files["b"].TOTAL, report.files["b"].FA) == (0, 3)
    assert report.settings["uem"] == "reference extent"
    noscore = teer.score(ref, hyp, collar=0, emotions="hap")
    assert (noscore.files["a"].FA, noscore.files["b"].FA) == (0, 0)
