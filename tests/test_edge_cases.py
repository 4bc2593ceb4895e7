"""Edge cases of the conventions: UEMs, collars, no-score zones, batching, mappings, reports."""
from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

import teer
from teer import api, engine
from teer.components import Components
from teer.io import from_records

from .corpus import corpus, table, to_annotation, total


def _random_uem(rng, files, low=0.0):
    """Two intervals per file, on a grid of 0.01 s, cutting through segments."""
    uem = {}
    for f in files:
        pts = np.sort(np.round(rng.uniform(low, 60, size=4), 2))
        uem[f] = [(max(float(pts[0]), 0.0), float(pts[1])), (float(pts[2]), float(pts[3]))]
    return uem


# --------------------------------------------------------------------------
# scored time


def test_zero_length_reference_segment_does_not_stretch_the_reference_extent(tmp_path):
    # the readers drop a zero-length segment; given in memory it must not count either
    ref = table(("a", 0, 5, "A", "hap"), ("a", 20, 20, "A", "hap"))
    hyp = table(("a", 0, 20, "X", "hap"))
    in_memory = total(ref, hyp)
    assert (in_memory.TOTAL, in_memory.FA) == (5, 0)
    path = tmp_path / "ref.rttm"
    path.write_text("SPEAKER a 1 0 5 hap <NA> A <NA> <NA>\nSPEAKER a 1 20 0 hap <NA> A <NA> <NA>\n")
    assert total(str(path), hyp).to_dict() == in_memory.to_dict()
    # nor the union extent, on either side
    ref = table(("a", 2, 5, "A", "hap"), ("a", 0, 0, "A", "hap"))
    hyp = table(("a", 2, 5, "X", "hap"), ("a", 9, 9, "X", "hap"), ("a", 0, 1, "Y", "sad"))
    sweep = engine.sweep(ref, hyp, uem_default="union")
    assert sweep.grid_time[sweep.evaluated].min() == 0 and sweep.grid_time[sweep.evaluated].max() < 5 * 10 ** 9
    assert total(ref, hyp, uem_default="union").FA == 1


@pytest.mark.parametrize("bad", [[(0, 10), (8, 5)], [(5, 3)], [(0, float("nan"))], [(0,)]])
def test_uem_given_as_a_mapping_is_checked_like_a_uem_file(bad):
    # an interval with end < start would be subtracted from the intervals it overlaps
    ref = table(("a", 0, 10, "A", "hap"))
    with pytest.raises(ValueError, match=r"uem\['a'\]"):
        teer.score(ref, ref, uem={"a": bad})


def test_uem_file_absent_from_both_sides_is_reported_with_no_rates():
    ref = table(("a", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("h", 0, 4, "X", "hap"))
    report = teer.score(ref, hyp, collar=0, uem={"a": [(0, 10)], "ghost": [(0, 5)], "h": [(1, 3)]})
    assert set(report.files) == {"a", "ghost", "h"}
    assert report.files["ghost"].to_dict() == Components().to_dict()
    assert report.files["ghost"].TEER is None
    assert (report.files["h"].FA, report.files["h"].TOTAL) == (2, 0)
    assert report.total.FA == 2 and report.total.TOTAL == 10


def test_uem_cutting_through_segments_with_collars_before_time_zero():
    # ref A [0,6] hap, B [4,10] sad; hyp X [0,10] hap; UEM [0.1,5] + [7,12], collar 0.5
    ref = table(("a", 0, 6, "A", "hap"), ("a", 4, 10, "B", "sad"))
    hyp = table(("a", 0, 10, "X", "hap"))
    c = total(ref, hyp, collar=0.5, uem={"a": [(0.1, 5), (7, 12)]})
    # collars [-.5,.5] [3.5,4.5] [5.5,6.5] [9.5,10.5]; UEM boundaries get no collar
    # scored: [.5,3.5] A|X, [4.5,5] A,B|X, [7,9.5] B|X
    assert c.TOTAL == pytest.approx(3 + 1 + 2.5)
    assert c.MS == pytest.approx(0.5)
    assert c.CONF_emo == pytest.approx(0 + 0 + 2.5)
    # X maps to A (6 s against 5 s of B, over the UEM before collars: 4.9 against 3 + 3)
    assert c.CONF_spk == pytest.approx(2.5)


@pytest.mark.parametrize("seed", range(8))
def test_der_equals_spyder_with_a_uem_of_several_intervals(seed):
    spyder = pytest.importorskip("spyder")
    rng = np.random.default_rng(100 + seed)
    ref, hyp = corpus(seed, n_files=2)
    uem = _random_uem(rng, ["file0", "file1"], low=-1.0)
    for collar, regions in itertools.product((0.0, 0.25, 1.0), ("all", "single", "overlap", "nonoverlap")):
        report = teer.score(from_records(ref), from_records(hyp),
                            collar=collar, uem=uem, regions=regions)
        for file, comp in report.files.items():
            r = [(x["speaker"], x["start"], x["end"]) for x in ref if x["file"] == file]
            h = [(x["speaker"], x["start"], x["end"]) for x in hyp if x["file"] == file]
            m = spyder.DER(r, h, uem=uem[file], collar=collar, regions=regions)
            assert comp.TOTAL == pytest.approx(m.duration, abs=1e-6)
            if m.duration > 0:
                assert comp.MS == pytest.approx(m.miss * m.duration, abs=1e-6)
                assert comp.FA == pytest.approx(m.falarm * m.duration, abs=1e-6)
                assert comp.CONF_spk == pytest.approx(m.conf * m.duration, abs=1e-6)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("self_overlap", [False, True])
def test_teer_equals_pyannote_with_a_uem_of_several_intervals(seed, self_overlap):
    """Without self-overlap, wu2023's counting; with it, "each" (pyannote counts every track)."""
    pytest.importorskip("pyannote.metrics")
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.identification import IdentificationErrorRate

    from teer.api import as_uem

    rng = np.random.default_rng(200 + seed)
    ref, hyp = corpus(seed, n_files=2, self_overlap=self_overlap)
    uem = _random_uem(rng, ["file0", "file1"])
    for collar in (0.0, 0.25):
        sweep = engine.sweep(from_records(ref), from_records(hyp), as_uem(uem),
                             collar=collar, same_speaker_overlap="each" if self_overlap else "once")
        comps = {k: v / 10 ** 9 for k, v in sweep.components().items()}  # (ticks: ns)
        for i, file in enumerate(sweep.files):
            theirs = IdentificationErrorRate(collar=2 * collar).compute_components(
                to_annotation(ref, file, lambda r: r["emotion"]), to_annotation(hyp, file, lambda r: r["emotion"]),
                uem=Timeline([Segment(s, e) for s, e in uem[file]]))
            assert comps["TOTAL"][i] == pytest.approx(theirs["total"], abs=1e-6)
            assert comps["MS"][i] == pytest.approx(theirs["missed detection"], abs=1e-6)
            assert comps["FA"][i] == pytest.approx(theirs["false alarm"], abs=1e-6)
            assert comps["CONF_emo"][i] == pytest.approx(theirs["confusion"], abs=1e-6)


# --------------------------------------------------------------------------
# no-score zones, regions and the speaker mapping


def test_non_target_zone_with_collars_still_counts_for_the_speaker_mapping():
    # B's non-target speech (4-20) decides the mapping X->B, so A->Y
    ref = table(("a", 0, 4, "A", "hap"), ("a", 4, 20, "B", "xxx"))
    hyp = table(("a", 0, 20, "X", "hap"), ("a", 0, 4, "Y", "hap"))
    c = total(ref, hyp, collar=0.25, emotions="hap")
    # scored: [0.25, 3.75] only (zone 4-20, collars around 0, 4, 20)
    assert c.TOTAL == pytest.approx(3.5)
    assert c.FA == pytest.approx(3.5)  # one of X, Y is extra
    assert (c.CONF_emo, c.CONF_spk, c.CONF_emo_spk) == (0, 0, 0)  # A is matched with Y
    # with a UEM over the whole file, the zone removes hypothesis speech too: none of X's 16 s is false alarm
    assert total(ref, hyp, collar=0.25, emotions="hap", uem={"a": [(0, 20)]}).FA == pytest.approx(3.5)


def test_regions_with_collars_and_no_score_zones():
    # A [0,10] hap, B [2,6] hap, C [8,9] xxx (non-target); hyp X [0,10] hap
    ref = table(("a", 0, 10, "A", "hap"), ("a", 2, 6, "B", "hap"), ("a", 8, 9, "C", "xxx"))
    hyp = table(("a", 0, 10, "X", "hap"))
    kw = dict(collar=0.5, emotions="hap")
    # excluded: [-.5,.5] [1.5,2.5] [5.5,6.5] [7.5,9.5] (collars of C and its zone) [9.5,10.5]
    single = total(ref, hyp, regions="single", **kw)
    assert single.TOTAL == pytest.approx(1 + 1)  # [.5,1.5] [6.5,7.5]
    overlap = total(ref, hyp, regions="overlap", **kw)
    assert (overlap.TOTAL, overlap.MS) == (pytest.approx(6), pytest.approx(3))  # [2.5,5.5] with A, B
    everything = total(ref, hyp, **kw)
    assert everything.TOTAL == pytest.approx(single.TOTAL + overlap.TOTAL)
    assert total(ref, hyp, regions="nonoverlap", **kw).TOTAL == pytest.approx(single.TOTAL)


@pytest.mark.parametrize("entry, message", [
    ({("a", "X"): "NOBODY"}, "reference speaker 'NOBODY' does not occur in file 'a'"),
    ({("b", "Z"): "A"}, "hypothesis speaker 'Z' does not occur in file 'b'"),
    ({("a", "X"): "A", ("a", "Y"): "A"}, "reference speaker 'A' of 'a' is mapped twice"),
])
def test_fixed_speaker_map_naming_nothing_or_many_to_one_is_an_error(entry, message):
    # such entries used to be ignored: DER and sTEER went to 1.0 without a word
    ref = table(("a", 0, 10, "A", "hap"), ("b", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 5, "X", "hap"), ("a", 5, 10, "Y", "hap"), ("b", 0, 10, "X", "hap"))
    with pytest.raises(teer.InputError, match=re.escape(message)):
        teer.score(ref, hyp, collar=0, speaker_map=entry)


def test_fixed_speaker_map_for_files_in_neither_input_is_a_warning():
    ref = table(("a", 0, 10, "A", "hap"), ("b", 0, 10, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("b", 0, 10, "X", "hap"))
    report = teer.score(ref, hyp, collar=0, speaker_map={("a", "X"): "A", ("c", "X"): "A"})
    assert any("neither input ('c')" in w for w in report.warnings)
    assert report.files["a"].CONF_spk == 0 and report.files["b"].CONF_spk == 10


@pytest.mark.parametrize("bad", [[("a", "X", "A")], {"X": "A"}, {("a", "X"): 1}])
def test_fixed_speaker_map_of_the_wrong_shape_is_a_type_error(bad):
    ref = table(("a", 0, 10, "A", "hap"))
    with pytest.raises(TypeError, match="speaker_map"):
        teer.score(ref, ref, collar=0, speaker_map=bad)


def test_speaker_map_file_lines_naming_nothing_are_errors_with_the_line(tmp_path):
    from teer.io.speaker_map import read_speaker_map

    (tmp_path / "ref.rttm").write_text("SPEAKER a 1 0 10 hap <NA> A <NA> <NA>\n")
    (tmp_path / "hyp.rttm").write_text("SPEAKER a 1 0 10 hap <NA> X <NA> <NA>\n")
    (tmp_path / "map").write_text("# file hyp ref\na A X\n")  # columns swapped
    with pytest.raises(teer.InputError, match=r"map:2: hypothesis speaker 'A' does not occur"):
        teer.score(tmp_path / "ref.rttm", tmp_path / "hyp.rttm", speaker_map=read_speaker_map(tmp_path / "map"))


# --------------------------------------------------------------------------
# batching, the sparse pair sums


@pytest.mark.parametrize("batch", [1, 7, 50, 10**6])
def test_batches_agree_with_one_sweep_with_files_only_in_the_uem_or_one_side(batch, monkeypatch):
    ref, hyp = corpus(4, n_files=6, self_overlap=True)
    ref = [r for r in ref if r["file"] != "file2"]  # file2 only in the hypothesis
    hyp = [r for r in hyp if r["file"] != "file3"]  # file3 only in the reference
    hyp += [dict(file="hyponly", start=1, end=5, speaker="Q", emotion="hap")]
    ref_t, hyp_t = from_records(ref), from_records(hyp)
    uems = [None, {"file0": [(0, 20)], "file2": [(0, 30)], "file3": [(3, 9), (10, 40)],
                   "ghost": [(0, 5)], "hyponly": [(0, 3)]}]
    monkeypatch.setattr(engine.scoring, "BATCH_SEGMENTS", batch)
    for uem, collar, emotions in itertools.product(uems, (0.0, 0.25), (None, "neu,hap")):
        kw = dict(uem=uem, collar=collar, emotions=emotions)
        whole = api.run(ref_t, hyp_t, **kw).report  # one sweep
        batched = teer.score(ref_t, hyp_t, **kw)
        assert set(batched.files) == set(whole.files)
        for name, c in whole.files.items():
            for key, value in c.to_dict().items():
                other = batched.files[name][key]
                assert (value is None) == (other is None)
                if value is not None:
                    assert other == pytest.approx(value, abs=1e-9)
        # the same-speaker overlap warning counts the scored files, however they are batched
        assert batched.warnings == whole.warnings


def test_same_speaker_overlaps_are_counted_in_scored_files_only():
    ref = table(("a", 0, 10, "A", "hap"), ("b", 0, 10, "A", "hap"), ("b", 5, 15, "A", "hap"))
    hyp = table(("a", 0, 10, "X", "hap"), ("a", 2, 3, "X", "hap"), ("h", 0, 4, "X", "hap"), ("h", 1, 2, "X", "hap"))
    warnings = teer.score(ref, hyp, uem={"a": [(0, 10)]}).warnings
    assert "1 hypothesis segment(s) overlap" in " ".join(warnings)
    assert "reference segment(s) overlap" not in " ".join(warnings)  # b is not scored
    warnings = teer.score(ref, hyp).warnings  # h (only in the hypothesis) is not scored
    assert "1 reference segment(s) overlap" in " ".join(warnings)
    assert "1 hypothesis segment(s) overlap" in " ".join(warnings)


# --------------------------------------------------------------------------
# reports


def test_reports_of_disjoint_files_add_up_to_the_report_of_all():
    ref, hyp = corpus(5, n_files=4)
    ref_a = from_records([r for r in ref if r["file"] in ("file0", "file1")])
    ref_b = from_records([r for r in ref if r["file"] in ("file2", "file3")])
    hyp_t = from_records(hyp)
    both = teer.score(from_records(ref), hyp_t)
    added = teer.score(ref_a, hyp_t) + teer.score(ref_b, hyp_t)
    assert set(added.files) == set(both.files)
    for key in Components().to_dict():
        assert added.total[key] == pytest.approx(both.total[key], rel=1e-12)
    with pytest.raises(ValueError, match="both reports"):
        _ = added + teer.score(ref_a, hyp_t)
    with pytest.raises(ValueError, match="different settings"):
        _ = teer.score(ref_a, hyp_t) + teer.score(ref_b, hyp_t, collar=0)


def test_components_without_emotions_stay_without_emotions_when_added():
    with_emotions = Components(MS=1, TOTAL=4, AGREE=3)
    der_only = Components(FA=1, TOTAL=4, AGREE=4, emotions=False)
    s = with_emotions + der_only
    assert s.TEER is None and s.DER == pytest.approx(2 / 8)
    assert sum([with_emotions, with_emotions]).TEER == pytest.approx(2 / 8)
