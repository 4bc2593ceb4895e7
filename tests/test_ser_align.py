"""The ser-align preset against a literal re-statement of the SER-Align evaluation script.

The script, per file: drop reference segments whose emotion is outside the
target set, build pyannote Annotations, and run pyannote.metrics'
``DiarizationErrorRate().compute_components`` (defaults: collar 0, no overlap
skipping) three times with UEM = reference extent ∪ hypothesis extent: on
"speech" labels (MS, FA, TOTAL), on emotion labels (CONF_emo) and on
``emotion_speaker`` labels (CONF_emo_spk).

Times are continuous random numbers, so that no two label pairs overlap for
exactly the same time: with exact ties, pyannote's Hungarian mapping and
teer's pick one of the equally good mappings each by its own rule, and where
a label overlaps itself the choice can change the confusion.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

import teer
from teer.segments import SegmentTable

pytest.importorskip("pyannote.metrics")
from pyannote.core import Annotation, Segment, Timeline  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402

TARGETS = ("neu", "hap", "ang", "sad")


def random_side(rng, file, speakers, duration, emotions, self_overlap):
    rows = []
    for spk in speakers:
        t = float(rng.uniform(0, 3))
        while t < duration:
            length = float(rng.uniform(0.2, 5))
            rows.append(dict(file=file, start=t, end=t + length, speaker=spk, emotion=str(rng.choice(emotions))))
            gap = float(rng.uniform(-0.8 * length if self_overlap else 0.05, 4))
            t += max(length + gap, 0.1)
    return rows


def random_corpus(seed, self_overlap=True):
    rng = np.random.default_rng(seed)
    ref, hyp = [], []
    for k in range(4):
        f = f"f{k}"
        dur = float(rng.uniform(8, 40))
        ref += random_side(rng, f, [f"R{i}" for i in range(int(rng.integers(1, 4)))], dur,
                           TARGETS + ("fru", "xxx"), self_overlap and rng.random() < 0.7)
        if k == 3 and seed % 2:
            continue  # a reference file the system skipped
        hyp += random_side(rng, f, [f"H{i}" for i in range(int(rng.integers(1, 5)))], dur,
                           TARGETS + ("UNK",), self_overlap and rng.random() < 0.7)
    if seed % 3 == 0:  # a file whose reference is all outside the target set
        ref += [dict(file="g", start=1.3, end=4.7, speaker="R0", emotion="fru")]
        hyp += [dict(file="g", start=0.9, end=3.1, speaker="H0", emotion="neu")]
    return ref, hyp


def annotation(rows, file, label):
    ann = Annotation(uri=file)
    for k, r in enumerate(rows):
        ann[Segment(r["start"], r["end"]), k] = label(r)
    return ann


def ser_align_script(ref, hyp, targets):
    """What the SER-Align script computes, written with pyannote's calls."""
    files = sorted({r["file"] for r in ref})
    ref = [r for r in ref if r["emotion"] in targets]
    sums = defaultdict(float)
    per_file = {}
    for file in files:
        R = [r for r in ref if r["file"] == file]
        H = [h for h in hyp if h["file"] == file]
        speech_r = annotation(R, file, lambda r: "speech")
        speech_h = annotation(H, file, lambda r: "speech")
        extent = speech_r.get_timeline().extent() | speech_h.get_timeline().extent()
        uem = Timeline([extent])
        c1 = DiarizationErrorRate().compute_components(speech_r, speech_h, uem=uem)
        c2 = DiarizationErrorRate().compute_components(
            annotation(R, file, lambda r: r["emotion"]), annotation(H, file, lambda r: r["emotion"]), uem=uem)
        c3 = DiarizationErrorRate().compute_components(
            annotation(R, file, lambda r: f"{r['emotion']}_{r['speaker']}"),
            annotation(H, file, lambda r: f"{r['emotion']}_{r['speaker']}"), uem=uem)
        c4 = DiarizationErrorRate().compute_components(
            annotation(R, file, lambda r: r["speaker"]), annotation(H, file, lambda r: r["speaker"]), uem=uem)
        f = {
            "MS": c1["missed detection"], "FA": c1["false alarm"], "TOTAL": c1["total"],
            "AGREE": c1["correct"] + c1["confusion"],
            "CONF_emo": c2["confusion"], "AGREE_emo": c2["correct"] + c2["confusion"],
            "CONF_emo_spk": c3["confusion"], "AGREE_emo_spk": c3["correct"] + c3["confusion"],
            "CONF_spk": c4["confusion"],
        }
        per_file[file] = f
        for k, v in f.items():
            sums[k] += v
    return sums, per_file


def rates(c):
    return {
        "TEER": (c["MS"] + c["FA"] + c["CONF_emo"]) / c["TOTAL"],
        "sTEER": (c["MS"] + c["FA"] + c["CONF_emo_spk"]) / c["TOTAL"],
        "EERa": c["CONF_emo"] / c["AGREE_emo"],
        "sEERa": c["CONF_emo_spk"] / c["AGREE_emo_spk"],
        "DER": (c["MS"] + c["FA"] + c["CONF_spk"]) / c["TOTAL"],
    }


@pytest.mark.parametrize("seed", range(16))
def test_ser_align_matches_the_script_figure_for_figure(seed):
    ref, hyp = random_corpus(seed)
    theirs, per_file = ser_align_script(ref, hyp, TARGETS)
    report = teer.score(SegmentTable.from_records(ref), SegmentTable.from_records(hyp),
                        preset="ser-align", emotions=TARGETS)
    ours = report.total
    for key in ("MS", "FA", "TOTAL", "AGREE", "CONF_emo", "CONF_emo_spk", "CONF_spk"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-6, abs=1e-6), key
    assert theirs["AGREE_emo"] == pytest.approx(ours.AGREE, rel=1e-9)
    assert theirs["AGREE_emo_spk"] == pytest.approx(ours.AGREE, rel=1e-9)
    for key, value in rates(theirs).items():
        assert ours[key] == pytest.approx(value, rel=1e-6), key
    # file by file too, including files whose reference speech was all dropped
    assert set(report.files) == set(per_file)
    for name, f in per_file.items():
        for key in ("MS", "FA", "TOTAL", "CONF_emo", "CONF_emo_spk", "CONF_spk"):
            assert report.files[name][key] == pytest.approx(f[key], rel=1e-6, abs=1e-6), (name, key)


@pytest.mark.parametrize("seed", range(4))
def test_ser_align_without_a_target_set_scores_every_label(seed):
    ref, hyp = random_corpus(seed, self_overlap=False)
    labels = {r["emotion"] for r in ref}
    theirs, _ = ser_align_script(ref, hyp, labels)
    ours = teer.score(SegmentTable.from_records(ref), SegmentTable.from_records(hyp), preset="ser-align").total
    for key, value in rates(theirs).items():
        assert ours[key] == pytest.approx(value, rel=1e-6), key


def test_ser_align_with_an_emotion_map_equals_the_script_on_mapped_labels():
    ref, hyp = random_corpus(5)
    merge = {"fru": "ang", "UNK": "neu"}
    theirs, _ = ser_align_script([dict(r, emotion=merge.get(r["emotion"], r["emotion"])) for r in ref],
                                 [dict(h, emotion=merge.get(h["emotion"], h["emotion"])) for h in hyp], TARGETS)
    ours = teer.score(SegmentTable.from_records(ref), SegmentTable.from_records(hyp), preset="ser-align",
                      emotions=",".join(TARGETS), emotion_map="fru=ang,UNK=neu").total
    for key, value in rates(theirs).items():
        assert ours[key] == pytest.approx(value, rel=1e-6), key
