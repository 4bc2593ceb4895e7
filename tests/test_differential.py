"""teer against the scorers the field trusts: pyannote.metrics and spy-der."""
from __future__ import annotations

import pytest

import teer
from teer.io import from_records

from .corpus import corpus, to_annotation

pm = pytest.importorskip("pyannote.metrics")
from pyannote.core import Segment, Timeline  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402
from pyannote.metrics.identification import IdentificationErrorRate  # noqa: E402

SEEDS = range(12)


def _extent(rows, file):
    own = [r for r in rows if r["file"] == file]
    return min(r["start"] for r in own), max(r["end"] for r in own)


def _pyannote_components(ref, hyp, collar, metric_factory, label):
    totals = {}
    for file in sorted({r["file"] for r in ref}):
        start, end = _extent(ref, file)
        uem = Timeline([Segment(start, end)])
        metric = metric_factory(collar=2 * collar)  # pyannote's collar is the total width
        c = metric.compute_components(
            to_annotation(ref, file, label), to_annotation(hyp, file, label), uem=uem)
        for k, v in c.items():
            totals[k] = totals.get(k, 0.0) + v
    return totals


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("collar", [0.0, 0.25])
def test_teer_equals_pyannote_identification_error_rate_on_emotions(seed, collar):
    ref, hyp = corpus(seed)
    ours = teer.score(from_records(ref), from_records(hyp), collar=collar).total
    theirs = _pyannote_components(ref, hyp, collar, IdentificationErrorRate, lambda r: r["emotion"])
    assert ours.TOTAL == pytest.approx(theirs["total"], rel=1e-9, abs=1e-9)
    assert ours.MS == pytest.approx(theirs["missed detection"], rel=1e-9, abs=1e-9)
    assert ours.FA == pytest.approx(theirs["false alarm"], rel=1e-9, abs=1e-9)
    assert ours.CONF_emo == pytest.approx(theirs["confusion"], rel=1e-9, abs=1e-9)
    teer_pyannote = (theirs["missed detection"] + theirs["false alarm"] + theirs["confusion"]) / theirs["total"]
    assert ours.TEER == pytest.approx(teer_pyannote, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_der_and_steer_equal_pyannote_at_collar_zero(seed):
    ref, hyp = corpus(seed)
    ours = teer.score(from_records(ref), from_records(hyp), collar=0).total
    der = _pyannote_components(ref, hyp, 0.0, DiarizationErrorRate, lambda r: r["speaker"])
    assert ours.CONF_spk == pytest.approx(der["confusion"], rel=1e-9, abs=1e-9)
    assert ours.DER == pytest.approx(
        (der["missed detection"] + der["false alarm"] + der["confusion"]) / der["total"], rel=1e-9)

    # sTEER: hypothesis speakers renamed by the DER mapping, then identification on (speaker, emotion)
    conf = 0.0
    for file in sorted({r["file"] for r in ref}):
        start, end = _extent(ref, file)
        uem = Timeline([Segment(start, end)])
        r_spk = to_annotation(ref, file, lambda r: r["speaker"])
        h_spk = to_annotation(hyp, file, lambda r: r["speaker"])
        mapping = DiarizationErrorRate().optimal_mapping(r_spk, h_spk, uem=uem)
        joint_ref = to_annotation(ref, file, lambda r: (r["speaker"], r["emotion"]))
        joint_hyp = to_annotation(hyp, file, lambda r: (mapping.get(r["speaker"], "unmapped:" + r["speaker"]),
                                                         r["emotion"]))
        conf += IdentificationErrorRate().compute_components(joint_ref, joint_hyp, uem=uem)["confusion"]
    assert ours.CONF_emo_spk == pytest.approx(conf, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("collar", [0.0, 0.25])
@pytest.mark.parametrize("regions", ["all", "single", "overlap", "nonoverlap"])
def test_der_equals_spyder(seed, collar, regions):
    """spy-der merges a speaker's overlapping segments before placing collars, md-eval
    (and teer) collar every reference segment: compare with self-overlap at collar 0 only."""
    spyder = pytest.importorskip("spyder")
    ref, hyp = corpus(seed, self_overlap=collar == 0)
    ours = teer.score(from_records(ref), from_records(hyp),
                      collar=collar, regions=regions)
    for file, comp in ours.files.items():
        r = [(x["speaker"], x["start"], x["end"]) for x in ref if x["file"] == file]
        h = [(x["speaker"], x["start"], x["end"]) for x in hyp if x["file"] == file]
        m = spyder.DER(r, h, uem=[_extent(ref, file)], collar=collar, regions=regions)
        assert comp.TOTAL == pytest.approx(m.duration, rel=1e-9, abs=1e-9)
        if m.duration > 0:
            assert comp.MS == pytest.approx(m.miss * m.duration, rel=1e-6, abs=1e-6)
            assert comp.FA == pytest.approx(m.falarm * m.duration, rel=1e-6, abs=1e-6)
            assert comp.CONF_spk == pytest.approx(m.conf * m.duration, rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_speaker_mapping_equals_pyannote_optimal_mapping(seed):
    """The mapping the report gives per file (``Report.speaker_mapping``, the JSON's
    ``speaker_mapping``) is the one pyannote.metrics computes for DER."""
    ref, hyp = corpus(seed)
    report = teer.score(from_records(ref), from_records(hyp), collar=0)
    for file in sorted({r["file"] for r in ref}):
        start, end = _extent(ref, file)
        uem = Timeline([Segment(start, end)])
        theirs = DiarizationErrorRate().optimal_mapping(to_annotation(ref, file, lambda r: r["speaker"]),
                                                        to_annotation(hyp, file, lambda r: r["speaker"]), uem=uem)
        ours = report.speaker_mapping[file]
        assert set(ours) == {r["speaker"] for r in hyp if r["file"] == file}
        assert {h: r for h, r in ours.items() if r is not None} == theirs


def test_the_documented_way_to_reproduce_wu_et_al_on_identical_segments(tmp_path):
    """Wu et al.'s script keys its pyannote tracks by file id, so that segments with identical
    times replace each other (the last wins); teer counts both. docs/conventions.md gives a
    command that keeps the last of each: run as written, teer then equals the script."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    from pyannote.core import Annotation

    if not (shutil.which("awk") and shutil.which("tac") and shutil.which("bash")):
        pytest.skip("needs awk, tac and bash")
    docs = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text()
    command = re.search(r"`(tac ref\.rttm \| awk [^`]+)`", docs).group(1)
    rows = [("a", 0.0, 5.0, "A", "hap"), ("a", 0.0, 5.0, "B", "sad"), ("a", 5.0, 8.0, "A", "ang"),
            ("b", 1.0, 4.0, "C", "neu"), ("b", 1.0, 4.0, "C", "hap"), ("b", 2.0, 6.0, "D", "neu")]
    hyp_rows = [("a", 0.0, 5.0, "X", "sad"), ("a", 5.0, 8.0, "X", "ang"), ("b", 1.0, 6.0, "Y", "neu")]

    def rttm(path, rows):
        path.write_text("".join(f"SPEAKER {f} 1 {s} {e - s} {m} <NA> {k} <NA> <NA>\n" for f, s, e, k, m in rows))

    rttm(tmp_path / "ref.rttm", rows)
    rttm(tmp_path / "hyp.rttm", hyp_rows)
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True)
    ours = teer.score(tmp_path / "ref.last.rttm", tmp_path / "hyp.rttm", collar=0).total
    raw = teer.score(tmp_path / "ref.rttm", tmp_path / "hyp.rttm", collar=0).total

    # the script: one track per file id, so a segment with the times of an earlier one replaces it
    theirs = {"total": 0.0, "missed detection": 0.0, "false alarm": 0.0, "confusion": 0.0}
    for file in ("a", "b"):
        ref_ann, hyp_ann = Annotation(uri=file), Annotation(uri=file)
        for ann, source in ((ref_ann, rows), (hyp_ann, hyp_rows)):
            for f, s, e, _, m in source:
                if f == file:
                    ann[Segment(s, e), file] = m
        extent = ref_ann.get_timeline().extent()
        c = IdentificationErrorRate().compute_components(ref_ann, hyp_ann, uem=Timeline([extent]))
        for k in theirs:
            theirs[k] += c[k]
    assert ours.TOTAL == pytest.approx(theirs["total"]) and ours.CONF_emo == pytest.approx(theirs["confusion"])
    assert ours.MS == pytest.approx(theirs["missed detection"]) and ours.FA == pytest.approx(theirs["false alarm"])
    assert raw.TOTAL > ours.TOTAL  # teer counts both identical segments
