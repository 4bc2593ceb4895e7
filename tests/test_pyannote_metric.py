"""teer.pyannote: TEER and sTEER as pyannote.metrics metrics."""
from __future__ import annotations

import warnings

import pytest

import teer
from teer.io import from_records

from .corpus import corpus, to_annotation

pytest.importorskip("pyannote.metrics")
from pyannote.core import Annotation, Segment, Timeline  # noqa: E402
from pyannote.metrics.identification import IdentificationErrorRate  # noqa: E402

from teer.pyannote import SpeakerAttributedTEER, TimeWeightedEmotionErrorRate  # noqa: E402

def annotations(rows):
    return {f: to_annotation(rows, f, lambda r: (r["speaker"], r["emotion"]))
            for f in sorted({r["file"] for r in rows})}


def accumulate(metric, ref, hyp, uem=None):
    refs, hyps = annotations(ref), annotations(hyp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f, r in refs.items():
            metric(r, hyps.get(f, Annotation(uri=f)), uem=None if uem is None else uem(f))
    return metric


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("preset", ["wu2023", "ser-align"])
def test_accumulated_metric_equals_teer_score(seed, preset):
    ref, hyp = corpus(seed, self_overlap=seed % 2 == 1)
    total = teer.score(from_records(ref), from_records(hyp), preset=preset).total
    teer_metric = accumulate(TimeWeightedEmotionErrorRate(preset), ref, hyp)
    steer_metric = accumulate(SpeakerAttributedTEER(preset), ref, hyp)
    assert abs(teer_metric) == pytest.approx(total.TEER, rel=1e-12)
    assert abs(steer_metric) == pytest.approx(total.sTEER, rel=1e-12)
    assert teer_metric["confusion"] == pytest.approx(total.CONF_emo, rel=1e-12, abs=1e-12)
    assert steer_metric["confusion"] == pytest.approx(total.CONF_emo_spk, rel=1e-12, abs=1e-12)
    assert teer_metric["total"] == pytest.approx(total.TOTAL)
    assert teer_metric["correct"] + teer_metric["confusion"] == pytest.approx(total.AGREE)
    assert teer_metric.teer_total.EERa == pytest.approx(total.EERa, rel=1e-12)
    assert teer_metric.teer_total.DER == pytest.approx(total.DER, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_teer_metric_equals_pyannote_identification_error_rate_on_emotions(seed):
    ref, hyp = corpus(seed)
    refs = annotations(ref)
    extent = {f: Timeline([a.get_timeline().extent()]) for f, a in refs.items()}
    ours = accumulate(TimeWeightedEmotionErrorRate(collar=0), ref, hyp, uem=extent.get)
    theirs = IdentificationErrorRate()
    for f in refs:
        theirs(to_annotation(ref, f, lambda r: r["emotion"]), to_annotation(hyp, f, lambda r: r["emotion"]),
               uem=extent[f])
    assert abs(ours) == pytest.approx(abs(theirs), rel=1e-9)
    for key in ("total", "correct", "confusion", "missed detection", "false alarm"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), key


def test_report_and_confidence_interval_work_as_for_pyannote_metrics():
    ref, hyp = corpus(3)
    metric = accumulate(TimeWeightedEmotionErrorRate(), ref, hyp)
    report = metric.report()
    assert list(report.index) == sorted({r["file"] for r in ref}) + ["TOTAL"]
    assert report.loc["TOTAL", ("TEER", "%")] == pytest.approx(100 * abs(metric))
    assert report.loc["TOTAL", ("confusion", "")] == pytest.approx(metric["confusion"])
    center, (lower, upper) = metric.confidence_interval()
    assert lower <= center <= upper
    assert "TEER" in str(metric)
    metric.reset()
    assert metric.teer_results_ == [] and metric["total"] == 0


def test_one_file_by_hand():
    ref = Annotation(uri="a")
    ref[Segment(0, 10), "r1"] = ("A", "hap")
    ref[Segment(8, 12), "r2"] = ("B", "sad")
    hyp = Annotation(uri="a")
    hyp[Segment(0, 5), "h1"] = ("X", "hap")
    hyp[Segment(3, 9), "h2"] = ("Y", "sad")
    hyp[Segment(11, 15), "h3"] = ("Z", "sad")
    uem = Timeline([Segment(0, 16)])
    detail = TimeWeightedEmotionErrorRate(collar=0)(ref, hyp, uem=uem, detailed=True)
    # the worked example of tests/test_engine.py
    assert detail["total"] == 14 and detail["missed detection"] == 4 and detail["false alarm"] == 5
    assert detail["confusion"] == 3 and detail["TEER"] == pytest.approx(12 / 14)
    assert SpeakerAttributedTEER(collar=0)(ref, hyp, uem=uem) == pytest.approx(18 / 14)


def test_emotion_options_pass_through():
    ref = Annotation(uri="a")
    ref[Segment(0, 4), 0] = ("A", "exc")
    ref[Segment(4, 6), 1] = ("A", "fru")
    hyp = Annotation(uri="a")
    hyp[Segment(0, 6), 0] = ("X", "hap")
    metric = TimeWeightedEmotionErrorRate(collar=0, emotions="hap", emotion_map={"exc": "hap"})
    detail = metric(ref, hyp, detailed=True)
    assert (detail["total"], detail["confusion"]) == (4, 0)


def test_empty_reference_and_reference_without_emotions():
    hyp = Annotation(uri="a")
    hyp[Segment(1, 3), 0] = ("X", "hap")
    empty = Annotation(uri="a")
    assert TimeWeightedEmotionErrorRate()(empty, hyp, detailed=True)["false alarm"] == 0  # reference extent
    # SER-Align's script skips a file without a reference segment of a target emotion
    with pytest.warns(UserWarning, match="ser-align skips 1 file"):
        detail = TimeWeightedEmotionErrorRate("ser-align")(empty, hyp, detailed=True)
    assert (detail["false alarm"], detail["total"], detail["TEER"]) == (0, 0, 0)


def test_preset_rules_apply_to_the_metric():
    with pytest.raises(ValueError, match="preset ser-align fixes collar"):
        TimeWeightedEmotionErrorRate("ser-align", collar=0.25)
    with pytest.raises(ValueError, match="unknown preset"):
        SpeakerAttributedTEER("nope")


def _plain_and_labelled():
    plain = Annotation(uri="a")
    plain[Segment(0, 3), 0] = "A"
    labelled = Annotation(uri="a")
    labelled[Segment(0, 3), 0] = ("A", "hap")
    return plain, labelled


@pytest.mark.parametrize("side", ["reference", "hypothesis"])
@pytest.mark.parametrize("metric_class", [TimeWeightedEmotionErrorRate, SpeakerAttributedTEER])
def test_plain_speaker_labels_give_no_emotion_rate_with_a_warning(side, metric_class):
    """As teer.score: emotion rates not available (not a TEER of 1.0, nor an error)."""
    import math

    plain, labelled = _plain_and_labelled()
    ref, hyp = (plain, labelled) if side == "reference" else (labelled, plain)
    metric = metric_class(collar=0)
    with pytest.warns(teer.TeerWarning, match=f"the {side} has no emotion labels"):
        detail = metric(ref, hyp, detailed=True)
    assert math.isnan(detail[metric.name]) and math.isnan(detail["confusion"])
    assert (detail["total"], detail["missed detection"], detail["false alarm"]) == (3, 0, 0)
    assert math.isnan(abs(metric))
    assert metric.teer_total.DER == 0 and metric.teer_total.TEER is None


@pytest.mark.parametrize("metric_class", [TimeWeightedEmotionErrorRate, SpeakerAttributedTEER])
def test_unknown_keywords_are_refused(metric_class):
    with pytest.raises(TypeError, match="foo"):
        metric_class(collar=0, foo=1)
    with pytest.raises(TypeError, match="skip_overlap"):
        metric_class(skip_overlap="yes")
    with pytest.raises(TypeError, match="miss"):
        metric_class(miss="1")
    with pytest.raises(ValueError, match="nonoverlap"):
        metric_class(skip_overlap=True, regions="all")


@pytest.mark.parametrize("seed", range(4))
def test_pyannote_keywords_mean_what_they_mean_in_identification_error_rate(seed):
    """skip_overlap=True scores only where the reference does not overlap (regions="nonoverlap")
    and the weights weigh the components: equal to pyannote's IdentificationErrorRate with the
    same keywords, on emotion labels (no speaker overlaps itself, so counting speakers, as
    teer does, or segments, as pyannote does, is the same)."""
    ref, hyp = corpus(seed)
    refs = annotations(ref)
    extent = {f: Timeline([a.get_timeline().extent()]) for f, a in refs.items()}
    for keywords in (dict(skip_overlap=True), dict(confusion=0.5, miss=2.0, false_alarm=0.25),
                     dict(skip_overlap=True, confusion=2.0)):
        ours = accumulate(TimeWeightedEmotionErrorRate(collar=0, **keywords), ref, hyp, uem=extent.get)
        theirs = IdentificationErrorRate(**keywords)
        for f in refs:
            theirs(to_annotation(ref, f, lambda r: r["emotion"]), to_annotation(hyp, f, lambda r: r["emotion"]),
                   uem=extent[f])
        assert abs(ours) == pytest.approx(abs(theirs), rel=1e-9), keywords
        for key in ("total", "correct", "confusion", "missed detection", "false alarm"):
            assert ours[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), (keywords, key)
    # skipping the overlap changes something here: it is not ignored
    plain = accumulate(TimeWeightedEmotionErrorRate(collar=0), ref, hyp, uem=extent.get)
    skipped = accumulate(TimeWeightedEmotionErrorRate(collar=0, skip_overlap=True), ref, hyp, uem=extent.get)
    assert skipped["total"] < plain["total"]
    direct = teer.score(from_records(ref), from_records(hyp), collar=0,
                        regions="nonoverlap", uem={f: [(t[0].start, t[0].end)] for f, t in extent.items()}).total
    assert skipped["total"] == pytest.approx(direct.TOTAL)


def test_uem_is_a_timeline_or_a_segment():
    ref = Annotation(uri="a")
    ref[Segment(0, 10), 0] = ("A", "hap")
    hyp = Annotation(uri="a")
    hyp[Segment(0, 10), 0] = ("X", "sad")
    metric = TimeWeightedEmotionErrorRate(collar=0)
    by_segment = metric(ref, hyp, uem=Segment(2, 6), detailed=True)
    by_timeline = metric(ref, hyp, uem=Timeline([Segment(2, 6)]), detailed=True)
    assert by_segment == by_timeline and by_segment["total"] == 4
    with pytest.raises(TypeError, match="Timeline or Segment"):
        metric(ref, hyp, uem=[(2, 6)])
