"""The ser-align preset against a literal re-statement of the SER-Align evaluation script.

``ser_align_script`` below is ``main()`` of ``teer_calculate.py`` (M4RC034/SER-Align)
with its file reading taken out: it loops over the hypothesis files in sorted
order, builds every ``pyannote.core.Annotation`` with ``annotation[segment] =
label`` (so a second segment with the same start and end replaces the first,
and an empty segment is not added), skips a file with no reference segment of
a target emotion or with no hypothesis, and runs pyannote.metrics'
``DiarizationErrorRate().compute_components`` (collar 0, no overlap skipping)
with ``uem`` = reference extent | hypothesis extent on "speech" labels (MS, FA,
TOTAL), emotion labels (CONF_emo) and ``emotion_speaker`` labels
(CONF_emo_spk). The one addition is a fourth run on speaker labels, built the
same way, for teer's DER.

The random inputs include what real corpora have: segments with identical time
stamps (two speakers, or a duplicated system line), segments that differ by
less than pyannote's 1 µs precision, segments shorter than 1 µs, files without
a target emotion, files on one side only and a hypothesis file with an empty
segment list. Times are otherwise random numbers of 9 decimals (teer's 1 ns
resolution, so that both sides score the same times), so that no two
label pairs overlap for exactly the same time: with exact ties, pyannote's
Hungarian mapping and teer's pick one of the equally good mappings each by its
own rule.
"""
from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import pytest

import teer
from teer.io import from_records

pytest.importorskip("pyannote.metrics")
from pyannote.core import Annotation, Segment  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402

TARGETS = ("neu", "hap", "ang", "sad")


def random_side(rng, file, speakers, duration, emotions, self_overlap):
    rows = []
    for spk in speakers:
        t = float(rng.uniform(0, 3))
        while t < duration:
            length = float(rng.uniform(0.2, 5))
            # times of teer's resolution (1 ns, 9 decimals: ``teer.ticks``), so that both
            # score the very same times; the near-copies below still differ in their last bits
            rows.append(dict(file=file, start=round(t, 9), end=round(t + length, 9), speaker=spk,
                             emotion=str(rng.choice(emotions))))
            gap = float(rng.uniform(-0.8 * length if self_overlap else 0.05, 4))
            t += max(length + gap, 0.1)
    return rows


def with_identical_segments(rng, rows, speakers, emotions):
    """Copies of some segments with the same time stamps and another speaker or emotion,
    inserted anywhere, plus near-copies and segments shorter than pyannote's precision."""
    rows = list(rows)
    for row in list(rows):
        u = rng.random()
        if u < 0.15:  # identical time stamps, another label
            copy = dict(row, speaker=str(rng.choice(speakers)), emotion=str(rng.choice(emotions)))
            rows.insert(int(rng.integers(0, len(rows) + 1)), copy)
        elif u < 0.2:  # a duplicated line, the very same segment again
            rows.insert(int(rng.integers(0, len(rows) + 1)), dict(row))
        elif u < 0.23:  # equal in all but the last bits: a different Segment for pyannote
            rows.append(dict(row, end=float(np.nextafter(row["end"], np.inf)),
                             speaker=str(rng.choice(speakers)), emotion=str(rng.choice(emotions))))
        elif u < 0.25:  # shorter than 1 µs: an empty Segment, never added
            rows.append(dict(row, end=row["start"] + 5e-7, speaker=str(rng.choice(speakers))))
    return rows


def random_corpus(seed, self_overlap=True):
    """Reference and hypothesis as ``{file: [segment, ...]}`` (the hypothesis may list
    a file with no segments), with every situation of the module docstring."""
    rng = np.random.default_rng(seed)
    ref, hyp = {}, {}
    for k in range(5):
        f = f"f{k}"
        dur = float(rng.uniform(8, 40))
        speakers = [f"R{i}" for i in range(int(rng.integers(1, 4)))]
        emotions = TARGETS + ("fru", "xxx") if k != 4 else ("fru", "xxx")  # f4: no target emotion
        ref[f] = with_identical_segments(rng, random_side(rng, f, speakers, dur, emotions,
                                                          self_overlap and rng.random() < 0.7),
                                         speakers, emotions)
        if k == 3 and seed % 2:
            continue  # a reference file the system skipped
        if k == 2 and seed % 4 == 1:
            hyp[f] = []  # the system listed the file but found no speech: all missed
            continue
        speakers = [f"H{i}" for i in range(int(rng.integers(1, 5)))]
        hyp[f] = with_identical_segments(rng, random_side(rng, f, speakers, dur, TARGETS + ("UNK",),
                                                          self_overlap and rng.random() < 0.7),
                                         speakers, TARGETS + ("UNK",))
    hyp["h"] = [dict(file="h", start=1.0, end=5.0, speaker="H0", emotion="neu")]  # only in the hypothesis
    if seed % 3 == 0:  # a reference file made of one segment shorter than 1 µs: empty for pyannote
        ref["t"] = [dict(file="t", start=2.0, end=2.0 + 4e-7, speaker="R0", emotion="hap")]
        hyp["t"] = [dict(file="t", start=0.9, end=3.1, speaker="H0", emotion="neu")]
    return ref, hyp


def ser_align_script(ground_truth_data, hypotheses, target_emotions):
    """``teer_calculate.py``'s ``main()`` on ``{wav_id: [segments]}`` for both sides.

    Returns the script's accumulators and, per scored file, its components.
    """
    sums = defaultdict(float)
    per_file = {}
    for wav_id in sorted(hypotheses):
        aligned_segments = hypotheses[wav_id]

        ref_speech = Annotation()
        ref_emotion = Annotation()
        ref_emo_spk = Annotation()
        ref_speaker = Annotation()  # not in the script: for teer's DER
        for utt in ground_truth_data.get(wav_id, []):
            gt_emo = utt["emotion"]
            if gt_emo not in target_emotions:
                continue
            segment = Segment(utt["start"], utt["end"])
            gt_spk = utt["speaker"]
            ref_speech[segment] = "speech"
            ref_emotion[segment] = gt_emo
            ref_emo_spk[segment] = f"{gt_emo}_{gt_spk}"
            ref_speaker[segment] = gt_spk
        if not ref_speech:
            continue

        hyp_speech = Annotation()
        hyp_emotion = Annotation()
        hyp_speaker = Annotation()
        hyp_emo_spk = Annotation()
        if aligned_segments is None:
            continue
        for seg in aligned_segments:
            segment = Segment(seg["start"], seg["end"])
            hyp_spk = seg["speaker"]
            hyp_speech[segment] = "speech"
            hyp_speaker[segment] = hyp_spk
            hyp_emo = seg["emotion"]
            hyp_emotion[segment] = hyp_emo
            hyp_emo_spk[segment] = f"{hyp_emo}_{hyp_spk}"

        evaluator = DiarizationErrorRate()
        uem = ref_speech.get_timeline().extent() | hyp_speech.get_timeline().extent()
        speech = evaluator.compute_components(ref_speech, hyp_speech, uem=uem, detailed=True)
        emo = evaluator.compute_components(ref_emotion, hyp_emotion, uem=uem, detailed=True)
        emo_spk = evaluator.compute_components(ref_emo_spk, hyp_emo_spk, uem=uem, detailed=True)
        spk = evaluator.compute_components(ref_speaker, hyp_speaker, uem=uem, detailed=True)
        f = {
            "MS": speech["missed detection"], "FA": speech["false alarm"], "TOTAL": speech["total"],
            "AGREE": speech["correct"] + speech["confusion"],
            "CONF_emo": emo["confusion"], "AGREE_emo": emo["correct"] + emo["confusion"],
            "CONF_emo_spk": emo_spk["confusion"], "AGREE_emo_spk": emo_spk["correct"] + emo_spk["confusion"],
            "CONF_spk": spk["confusion"],
        }
        per_file[wav_id] = f
        for k, v in f.items():
            sums[k] += v
    return sums, per_file


def flat(sides):
    return [row for rows in sides.values() for row in rows]


def as_json_files(tmp_path, ref, hyp):
    """The reference as a SegLST list, the hypothesis as ``{file: segments}`` (empty lists
    kept); floats written exactly (repr), so both sides read back the very same times."""
    ref_path, hyp_path = tmp_path / "ref.json", tmp_path / "hyp.json"
    ref_path.write_text(json.dumps([dict(session_id=r["file"], start_time=r["start"], end_time=r["end"],
                                         speaker=r["speaker"], emotion=r["emotion"]) for r in flat(ref)]))
    hyp_path.write_text(json.dumps({f: [dict(start=h["start"], end=h["end"], speaker=h["speaker"],
                                             emotion=h["emotion"]) for h in rows] for f, rows in hyp.items()}))
    return ref_path, hyp_path


def expected_skips(ref, hyp, targets):
    skipped = {}
    for f in sorted(set(ref) | set(hyp)):
        if f not in hyp:
            skipped[f] = "not in the hypothesis"
        elif f not in ref:
            skipped[f] = "not in the reference"
        elif not any(r["emotion"] in targets and r["end"] - r["start"] > 1e-6 for r in ref[f]):
            skipped[f] = "no reference segment with a target emotion"
    return skipped


def rates(c):
    return {
        "TEER": (c["MS"] + c["FA"] + c["CONF_emo"]) / c["TOTAL"],
        "sTEER": (c["MS"] + c["FA"] + c["CONF_emo_spk"]) / c["TOTAL"],
        "EERa": c["CONF_emo"] / c["AGREE_emo"],
        "sEERa": c["CONF_emo_spk"] / c["AGREE_emo_spk"],
        "DER": (c["MS"] + c["FA"] + c["CONF_spk"]) / c["TOTAL"],
    }


KEYS = ("MS", "FA", "TOTAL", "AGREE", "CONF_emo", "CONF_emo_spk", "CONF_spk")


def assert_equal_to_the_script(report, theirs, per_file):
    ours = report.total
    for key in KEYS:
        assert ours[key] == pytest.approx(theirs[key], rel=1e-9, abs=1e-9), key
    assert theirs["AGREE_emo"] == pytest.approx(ours.AGREE, rel=1e-9, abs=1e-9)
    assert theirs["AGREE_emo_spk"] == pytest.approx(ours.AGREE, rel=1e-9, abs=1e-9)
    for key, value in rates(theirs).items():
        assert ours[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key
    # file by file: the same files scored, with the same figures
    assert set(report.files) == set(per_file)
    for name, f in per_file.items():
        for key in KEYS:
            assert report.files[name][key] == pytest.approx(f[key], rel=1e-9, abs=1e-9), (name, key)


@pytest.mark.parametrize("seed", range(16))
def test_ser_align_matches_the_script_figure_for_figure(seed, tmp_path):
    ref, hyp = random_corpus(seed)
    theirs, per_file = ser_align_script(ref, hyp, TARGETS)
    report = teer.score(*as_json_files(tmp_path, ref, hyp), preset="ser-align", emotions=TARGETS)
    assert_equal_to_the_script(report, theirs, per_file)
    assert report.skipped == expected_skips(ref, hyp, TARGETS)
    assert set(report.skipped).isdisjoint(report.files)
    assert any(w.startswith(f"ser-align skips {len(report.skipped)} file(s)") for w in report.warnings)


def test_the_random_corpora_hold_every_situation():
    """The inputs above are not only clean random data (a guard on the generator)."""
    seen = defaultdict(int)
    for seed in range(16):
        ref, hyp = random_corpus(seed)
        for side in (ref, hyp):
            for rows in side.values():
                keys = [(r["start"], r["end"]) for r in rows]
                seen["identical"] += len(keys) - len(set(keys))
                seen["empty"] += sum(r["end"] - r["start"] <= 1e-6 for r in rows)
        seen["empty hypothesis file"] += sum(not rows for rows in hyp.values())
        for reason in expected_skips(ref, hyp, TARGETS).values():
            seen[reason] += 1
    assert all(seen[k] > 0 for k in ("identical", "empty", "empty hypothesis file", "not in the hypothesis",
                                      "not in the reference", "no reference segment with a target emotion")), seen


def test_identical_segments_the_last_one_wins_on_each_side():
    ref = [dict(file="a", start=0.0, end=4.0, speaker="A", emotion="hap"),
           dict(file="a", start=0.0, end=4.0, speaker="B", emotion="sad")]
    hyp = [dict(file="a", start=0.0, end=4.0, speaker="X", emotion="sad"),
           dict(file="a", start=0.0, end=4.0, speaker="X", emotion="sad")]
    c = teer.score(ref, hyp, preset="ser-align").total
    # one reference track (B, sad) and one hypothesis track: nothing missed or falsely detected
    assert (c.TOTAL, c.MS, c.FA, c.CONF_emo) == (4, 0, 0, 0)
    w = teer.score(ref, hyp, collar=0).total  # wu2023 counts both reference segments
    assert (w.TOTAL, w.MS) == (8, 4)


@pytest.mark.parametrize("seed", range(4))
def test_ser_align_without_a_target_set_scores_every_label(seed):
    ref, hyp = random_corpus(seed, self_overlap=False)
    labels = {r["emotion"] for r in flat(ref)}
    theirs, per_file = ser_align_script(ref, hyp, labels)
    report = teer.score(from_records(flat(ref)), from_records(flat(hyp)),
                        preset="ser-align")
    # in memory, a file with no segments is no file: the script would score it all missed
    per_file = {f: v for f, v in per_file.items() if hyp[f]}
    theirs = {k: sum(v[k] for v in per_file.values()) for k in next(iter(per_file.values()))}
    assert_equal_to_the_script(report, theirs, per_file)


def test_ser_align_with_an_emotion_map_equals_the_script_on_mapped_labels(tmp_path):
    ref, hyp = random_corpus(5)
    merge = {"fru": "ang", "UNK": "neu"}

    def mapped(side):
        return {f: [dict(r, emotion=merge.get(r["emotion"], r["emotion"])) for r in rows] for f, rows in side.items()}

    theirs, per_file = ser_align_script(mapped(ref), mapped(hyp), TARGETS)
    report = teer.score(*as_json_files(tmp_path, ref, hyp), preset="ser-align", emotions=",".join(TARGETS),
                        emotion_map="fru=ang,UNK=neu")
    assert_equal_to_the_script(report, theirs, per_file)
