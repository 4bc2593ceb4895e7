"""Conformance on real diarization references (VoxConverse, CC BY 4.0) with simulated
system output. Skipped when ../shared/data/voxconverse is absent."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import teer
from teer.io import load_reference
from teer.io import from_records

from .corpus import to_annotation

VOXCONVERSE = Path(__file__).resolve().parents[2] / "shared" / "data" / "voxconverse"
EMOTIONS = ("neu", "hap", "ang", "sad")
N_FILES = 24


def _references() -> list[dict]:
    if not VOXCONVERSE.is_dir():
        pytest.skip(f"{VOXCONVERSE} is absent")
    paths = sorted((VOXCONVERSE / "dev").glob("*.rttm"))[:N_FILES]
    rows = []
    rng = np.random.default_rng(7)
    for path in paths:
        for r in load_reference(path).records():
            r["emotion"] = str(rng.choice(EMOTIONS))
            rows.append(r)
    return rows


def _system(ref: list[dict], seed: int) -> list[dict]:
    """A plausible system: jittered boundaries, renamed and sometimes confused speakers,
    missed and invented turns, emotions right about 60 % of the time."""
    rng = np.random.default_rng(seed)
    out = []
    for r in ref:
        if rng.random() < 0.05:
            continue
        start = max(0.0, r["start"] + rng.normal(0, 0.2))
        end = max(start + 0.01, r["end"] + rng.normal(0, 0.2))
        speaker = "sys_" + (r["speaker"] if rng.random() > 0.1 else str(rng.integers(0, 3)))
        emotion = r["emotion"] if rng.random() < 0.6 else str(rng.choice(EMOTIONS))
        out.append(dict(file=r["file"], start=round(start, 3), end=round(end, 3), speaker=speaker,
                        emotion=emotion))
        if rng.random() < 0.03:
            out.append(dict(file=r["file"], start=round(end + 0.5, 3), end=round(end + 2.0, 3),
                            speaker="sys_fa", emotion="neu"))
    return out


def _self_overlapping(rows: list[dict]) -> set[str]:
    """Files where a speaker's segments touch or overlap (md-eval, pyannote and spy-der differ there)."""
    bad = set()
    by = {}
    for r in rows:
        by.setdefault((r["file"], r["speaker"]), []).append((r["start"], r["end"]))
    for (file, _), spans in by.items():
        spans.sort()
        if any(b[0] <= a[1] for a, b in zip(spans, spans[1:])):
            bad.add(file)
    return bad


@pytest.fixture(scope="module")
def corpus():
    ref = _references()
    hyp = _system(ref, 1)
    return ref, hyp, from_records(ref), from_records(hyp)


def _extent(rows, file):
    own = [r for r in rows if r["file"] == file]
    return min(r["start"] for r in own), max(r["end"] for r in own)


def test_der_equals_spyder_on_voxconverse(corpus):
    spyder = pytest.importorskip("spyder")
    ref, hyp, ref_t, hyp_t = corpus
    report = teer.score(ref_t, hyp_t, collar=0.0)
    assert len(report.files) == len({r["file"] for r in ref})
    for file, comp in report.files.items():
        r = [(x["speaker"], x["start"], x["end"]) for x in ref if x["file"] == file]
        h = [(x["speaker"], x["start"], x["end"]) for x in hyp if x["file"] == file]
        m = spyder.DER(r, h, uem=[_extent(ref, file)])
        assert comp.TOTAL == pytest.approx(m.duration, rel=1e-9)
        assert comp.DER == pytest.approx(m.der, rel=1e-6, abs=1e-9)


def test_teer_and_der_equal_pyannote_on_voxconverse(corpus):
    pytest.importorskip("pyannote.metrics")
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate
    from pyannote.metrics.identification import IdentificationErrorRate

    ref, hyp, ref_t, hyp_t = corpus
    skip = _self_overlapping(ref) | _self_overlapping(hyp)
    files = sorted({r["file"] for r in ref} - skip)
    assert files, "every file has same-speaker overlap"
    for collar in (0.0, 0.25):
        report = teer.score(ref_t, hyp_t, collar=collar)
        for file in files:
            uem = Timeline([Segment(*_extent(ref, file))])
            ier = IdentificationErrorRate(collar=2 * collar).compute_components(
                to_annotation(ref, file, lambda r: r["emotion"]), to_annotation(hyp, file, lambda r: r["emotion"]),
                uem=uem)
            comp = report.files[file]
            assert comp.CONF_emo == pytest.approx(ier["confusion"], rel=1e-9, abs=1e-9)
            assert comp.MS == pytest.approx(ier["missed detection"], rel=1e-9, abs=1e-9)
            assert comp.FA == pytest.approx(ier["false alarm"], rel=1e-9, abs=1e-9)
            if collar == 0.0:
                der = DiarizationErrorRate().compute_components(
                    to_annotation(ref, file, lambda r: r["speaker"]), to_annotation(hyp, file, lambda r: r["speaker"]),
                    uem=uem)
                assert comp.CONF_spk == pytest.approx(der["confusion"], rel=1e-9, abs=1e-9)
