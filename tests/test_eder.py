"""The eder preset against a literal restatement of SpeechBrain's EDER (speechbrain/utils/EDER.py).

The oracle below restates, step by step, what SpeechBrain's ``EDER`` does: frames
as [id, start, end, label] lists, the merge of adjacent same-label frames, the
half-and-half split of overlaps between neighbours, the reference built from the
one annotated event with 'n' before and after it, and the sum of same-label
overlaps. The recipe (recipes/ZaionEmotionDataset/emotion_diarization/train.py)
reports the mean over utterances.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import teer
from teer.segments import InputError

from .test_cli import teer as teer_cli


# ------------------------------------------------------------------ the oracle


def sb_overlap(a, b):
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def sb_touches(end1, start2):
    return start2 <= end1


def sb_merge(lol):
    out = []
    current = lol[0]
    last_merged = False
    for i in range(1, len(lol)):
        nxt = lol[i]
        if sb_touches(current[2], nxt[1]) and current[3] == nxt[3]:
            current[2] = nxt[2]
            if i == len(lol) - 1:
                last_merged = True
                out.append(current)
        else:
            out.append(current)
            current = nxt
    if not last_merged:
        out.append(lol[-1])
    return out


def sb_split(lol):
    out = []
    current = lol[0]
    for i in range(1, len(lol)):
        nxt = lol[i]
        if sb_touches(current[2], nxt[1]):
            overlap = current[2] - nxt[1]
            current[2] = current[2] - (overlap / 2.0)
            nxt[1] = nxt[1] + (overlap / 2.0)
        if not out or out[-1] != current:
            out.append(current)
        current = nxt
    out.append(nxt)
    return out


def sb_reference(uid, duration, emotion):
    assert len(emotion) == 1
    start, end = emotion[0]["start"], emotion[0]["end"]
    lol = []
    if start > 0:
        lol.append([uid, 0, start, "n"])
    lol.append([uid, start, end, emotion[0]["emo"][0]])
    if end < float(duration):
        lol.append([uid, end, float(duration), "n"])
    return lol


def sb_segments(prediction, uid, window, stride):
    lol = [[uid, stride * i, stride * i + window, label] for i, label in enumerate(prediction)]
    lol = sb_merge(lol)
    if len(lol) != 1:
        lol = sb_split(lol)
    return lol


def sb_eder(prediction, uid, duration, emotion, window, stride):
    duration = float(duration)
    hyp = sb_segments(prediction, uid, window, stride)
    good = 0
    for ref in sb_reference(uid, duration, emotion):
        for seg in hyp:
            if seg[3] == ref[3]:
                good += sb_overlap([ref[1], ref[2]], [seg[1], seg[2]])
    return 1 - good / duration


# ------------------------------------------------------------------ random utterances


def random_corpus(seed: int, n: int = 12):
    """A ZED annotation and frame-wise output of random utterances, windows and strides."""
    rng = np.random.default_rng(seed)
    zed, frames = {}, {}
    for k in range(n):
        uid = f"utt{k}"
        duration = round(float(rng.uniform(0.3, 8)), 3)
        start, end = sorted(round(float(x), 3) for x in rng.uniform(0, duration, 2))
        kind = rng.integers(4)
        if kind == 0:
            start = 0.0
        elif kind == 1:
            end = duration
        if end <= start:
            end = min(duration, start + 0.1)
        emo = str(rng.choice(["angry", "happy", "sad"]))
        zed[uid] = {"duration": duration, "emotion": [{"emo": emo, "start": start, "end": end}],
                    "wav": f"datafolder/{uid}.wav"}
        step = rng.integers(3)
        if step == 0:  # SpeechBrain's grid: multiples of 20 ms, window >= stride
            stride = 0.02 * int(rng.integers(1, 6))
            window = stride + 0.02 * int(rng.integers(0, 8))
        # (other strides and windows of 10 µs steps: their frame times and the middles of
        # their overlaps are exact at teer's resolution of 1 ns, up to SpeechBrain's float noise)
        elif step == 1:  # any window and stride, overlapping frames
            stride = round(float(rng.uniform(0.01, 0.3)), 5)
            window = round(stride * float(rng.uniform(1, 4)), 5)
        else:  # frames with gaps between them, or a window of exactly one stride
            stride = round(float(rng.uniform(0.05, 0.4)), 5)
            window = stride if rng.random() < 0.3 else round(stride * float(rng.uniform(0.3, 1)), 5)
        count = int(duration / stride) + 1 + int(rng.integers(-2, 3))
        labels, current = [], str(rng.choice(list("nahs")))
        for _ in range(max(count, 1)):
            if rng.random() < 0.25:
                current = str(rng.choice(list("nahs")))
            labels.append(current)
        frames[uid] = {"window": window, "stride": stride, "labels": labels}
    return zed, frames


def write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("seed", range(8))
def test_eder_equals_speechbrain_per_utterance_and_on_the_mean(tmp_path, seed):
    zed, frames = random_corpus(seed)
    expected = {uid: sb_eder(frames[uid]["labels"], uid, zed[uid]["duration"], zed[uid]["emotion"],
                             frames[uid]["window"], frames[uid]["stride"]) for uid in zed}
    report = teer.score(write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames), preset="eder")
    assert sorted(report.files) == sorted(zed)
    for uid, value in expected.items():
        assert report.row(report.files[uid])["EDER"] == pytest.approx(value, abs=1e-9), uid
    assert report.mean()["EDER"] == pytest.approx(sum(expected.values()) / len(expected), abs=1e-9)
    assert report.figures() == report.mean()
    assert report.warnings == []  # frames past the duration, neutral output: nothing looks wrong


def test_speechbrain_docstring_example(tmp_path):
    zed = {"spk1_1": {"duration": 1.22, "emotion": [{"emo": "angry", "start": 0.39, "end": 1.10}]}}
    frames = {"spk1_1": {"window": 0.2, "stride": 0.2, "labels": ["n", "n", "n", "a", "a", "a"]}}
    assert sb_eder(frames["spk1_1"]["labels"], "spk1_1", 1.22, zed["spk1_1"]["emotion"], 0.2, 0.2) == \
        0.2704918032786885
    report = teer.score(write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames), preset="eder")
    assert report.mean()["EDER"] == pytest.approx(0.2704918032786885, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_frames_to_segments_is_speechbrains_merge_and_split(seed):
    zed, frames = random_corpus(100 + seed, n=3)
    for uid, f in frames.items():
        ours = teer.frames_to_segments(f["labels"], f["window"], f["stride"], file=uid)
        theirs = sb_segments(f["labels"], uid, f["window"], f["stride"])
        assert [s["emotion"] for s in ours] == [s[3] for s in theirs]
        for a, b in zip(ours, theirs):
            assert a["start"] == pytest.approx(b[1], abs=1e-12) and a["end"] == pytest.approx(b[2], abs=1e-12)
            assert a["file"] == uid and a["speaker"] == uid
        # never a speaker overlapping itself, even where SpeechBrain's halves differ by a rounding step
        assert all(x["end"] <= y["start"] for x, y in zip(ours, ours[1:]))


def test_frames_to_segments_examples():
    segs = teer.frames_to_segments(["a", "a", "n", "n", "n", "a"], 2.0, 1.0, file="u")
    # frames [0,2] [1,3] | [2,4] [3,5] [4,6] | [5,7]: a [0,3], n [2,6], a [5,7], overlaps split in half
    assert [(s["start"], s["end"], s["emotion"]) for s in segs] == [
        (0.0, 2.5, "a"), (2.5, 5.5, "n"), (5.5, 7.0, "a")]
    gaps = teer.frames_to_segments(["a", "a"], 0.5, 1.0, file="u")  # stride > window: nothing merges
    assert [(s["start"], s["end"]) for s in gaps] == [(0.0, 0.5), (1.0, 1.5)]
    assert teer.frames_to_segments([], 0.02, 0.02) == []
    with pytest.raises(ValueError, match="stride must be a positive number"):
        teer.frames_to_segments(["a"], 0.02, 0)
    with pytest.raises(ValueError, match="label must be a string"):
        teer.frames_to_segments(["a", 3], 0.02, 0.02)


# ------------------------------------------------------------------ the preset's conventions


def test_rttm_reference_neutral_label_and_uem(tmp_path):
    # the event, and unannotated time up to the last reference end, which is neutral
    ref = tmp_path / "ref.rttm"
    ref.write_text("SPEAKER u 1 1.0 2.0 angry <NA> S <NA> <NA>\n")
    hyp = [dict(file="u", start=0, end=1, speaker="X", emotion="neutral"),
           dict(file="u", start=1, end=2, speaker="Y", emotion="a")]
    report = teer.score(ref, hyp, preset="eder")
    assert report.settings["uem"] == "utterance [0, end of the last reference segment]"
    c = report.files["u"]
    assert (c.TOTAL, c.MS, c.FA, c.CONF_emo, report.mean()["EDER"]) == (3, 1, 0, 0, pytest.approx(1 / 3))
    # another neutral label, compared by first letter too: the system's "neutral" is now wrong
    other = teer.score(ref, hyp, preset="eder", neutral="calm")
    assert other.files["u"].CONF_emo == 1 and "'calm'" in other.settings["neutral"]
    # a UEM is the utterance
    longer = teer.score(ref, hyp, preset="eder", uem={"u": [(0, 4)]})
    assert longer.files["u"].TOTAL == 4 and longer.files["u"].MS == 2


def test_an_utterance_without_output_or_without_an_event(tmp_path):
    zed = {"a": {"duration": 2, "emotion": [{"emo": "sad", "start": 0.5, "end": 1}]},
           "b": {"duration": 3, "emotion": []}}
    frames = {"b": {"window": 1, "stride": 1, "labels": ["n", "n", "a"]}}
    report = teer.score(write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames), preset="eder")
    assert report.row(report.files["a"])["EDER"] == 1  # no output at all: all missed
    assert report.row(report.files["b"])["EDER"] == pytest.approx(1 / 3)  # all neutral, last second wrong
    assert report.mean()["EDER"] == pytest.approx((1 + 1 / 3) / 2)


def test_warnings_for_shared_first_letters_and_several_speakers(tmp_path):
    ref = [dict(file="u", start=0, end=1, speaker="A", emotion="sad"),
           dict(file="u", start=1, end=2, speaker="B", emotion="surprised")]
    hyp = [dict(file="u", start=0, end=2, speaker="X", emotion="s")]
    report = teer.score(ref, hyp, preset="eder")
    assert report.mean()["EDER"] == 0
    text = " ".join(report.warnings)
    assert "'sad', 'surprised' share their first letter" in text
    assert "several speakers (u)" in text


def test_the_preset_fixes_what_would_break_the_reproduction(tmp_path):
    ref = [dict(file="u", start=0, end=1, speaker="A", emotion="a")]
    for option in (dict(collar=0.25), dict(average="sums"), dict(uem_default="reference"), dict(regions="single"),
                   dict(emotions="a", non_target="drop")):
        with pytest.raises(ValueError, match="preset eder fixes"):
            teer.score(ref, ref, preset="eder", **option)
    with pytest.raises(ValueError, match="neutral .* belongs to the eder preset"):
        teer.score(ref, ref, neutral="n")
    with pytest.raises(ValueError, match="reference has no emotion labels"):
        teer.score([dict(file="u", start=0, end=1, speaker="A")], ref, preset="eder")


def test_average_files_for_every_preset():
    ref = [dict(file="a", start=0, end=10, speaker="A", emotion="hap"),
           dict(file="b", start=0, end=2, speaker="A", emotion="hap")]
    hyp = [dict(file="a", start=0, end=10, speaker="X", emotion="hap"),
           dict(file="b", start=0, end=2, speaker="X", emotion="sad")]
    for preset in ("wu2023", "ser-align"):
        sums = teer.score(ref, hyp, preset=preset)
        mean = teer.score(ref, hyp, preset=preset, average="files")
        assert sums.average == "sums" and "mean" not in sums.to_dict()
        assert mean.to_dict()["mean"]["TOTAL"] == pytest.approx(sum(c.TOTAL for c in mean.files.values()) / 2)
        assert mean.total == sums.total  # the summed components stay
        rates = [mean.files[f].TEER for f in ("a", "b")]
        assert mean.mean()["TEER"] == pytest.approx(sum(rates) / 2)
        assert mean.settings["average"] == "mean of per-file rates"
    with pytest.raises(ValueError, match="average must be one of sums, files"):
        teer.score(ref, hyp, average="median")


def test_zed_reader_errors_name_the_utterance(tmp_path):
    cases = [
        ({"u": {"duration": 2}}, "utterance 'u': missing key 'emotion'"),
        ({"u": {"duration": -1, "emotion": []}}, "utterance 'u': duration -1.0 is not a positive number"),
        ({"u": {"duration": 2, "emotion": [{"emo": "a", "start": 1}]}}, "utterance 'u' emotion[0]: missing key 'end'"),
        ({"u": {"duration": 2, "emotion": [{"emo": "a", "start": 1, "end": 0.5}]}},
         "utterance 'u' emotion[0]: end 0.5 is before start 1.0"),
        ({"u": {"window": 0.02, "stride": 0.02}}, "file 'u': missing key 'labels'"),
        ({"u": {"window": 0, "stride": 0.02, "labels": []}}, "file 'u': window must be a positive number"),
        ({"u": {"window": 0.02, "stride": 0.02, "labels": ["a", None]}},
         "file 'u' labels[1]: a frame label must be a string, found null"),
    ]
    for doc, message in cases:
        path = write(tmp_path, "bad.json", doc)
        with pytest.raises(InputError) as err:
            teer.score(path, path, preset="eder")
        assert str(err.value).startswith(f"{path}:{message}"), str(err.value)


def test_zed_event_past_the_duration_is_reported(tmp_path):
    zed = {"u": {"duration": 1, "emotion": [{"emo": "angry", "start": 0.5, "end": 1.5}]}}
    frames = {"u": {"window": 0.5, "stride": 0.5, "labels": ["n", "a", "a"]}}
    report = teer.score(write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames), preset="eder")
    assert any("end after their utterance's duration" in w for w in report.warnings)
    assert report.files["u"].TOTAL == 1 and report.mean()["EDER"] == 0


def test_command_line(tmp_path):
    zed, frames = random_corpus(7, n=4)
    ref, hyp = write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames)
    out = teer_cli("score", ref, hyp, "--preset", "eder", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    expected = [sb_eder(frames[u]["labels"], u, zed[u]["duration"], zed[u]["emotion"],
                        frames[u]["window"], frames[u]["stride"]) for u in zed]
    assert data["mean"]["EDER"] == pytest.approx(sum(expected) / len(expected), abs=1e-9)
    assert data["settings"]["preset"] == "eder" and data["settings"]["average"] == "mean of per-file rates"
    assert any("FA is 0 by construction" in note for note in data["settings"]["notes"])
    table = teer_cli("score", ref, hyp, "--preset", "eder", "--per-file")
    lines = table.stdout.splitlines()
    assert "preset: eder" in lines[0] and lines[-1].startswith("MEAN")
    assert "EDER %" in table.stdout and "sTEER" not in table.stdout.split("\n# ")[-1].splitlines()[-1]
    boot = teer_cli("score", ref, hyp, "--preset", "eder", "--bootstrap", "10", "--format", "json")
    assert boot.returncode == 0 and set(json.loads(boot.stdout)["intervals"]) == {"EDER", "EERa"}
    fixed = teer_cli("score", ref, hyp, "--preset", "eder", "--collar", "0.25")
    assert fixed.returncode == 2 and "preset eder fixes collar" in fixed.stderr


def test_average_files_on_the_command_line():
    from .test_cli import EXAMPLES

    out = teer_cli("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--average", "files", "--per-file")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "average: mean of per-file rates" in lines[0] and lines[-1].startswith("MEAN")
    data = json.loads(teer_cli("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--average", "files",
                               "--format", "json").stdout)
    teers = [f["TEER"] for f in data["files"].values() if f["TEER"] is not None]
    assert data["mean"]["TEER"] == pytest.approx(sum(teers) / len(teers))
    assert data["total"]["TEER"] != data["mean"]["TEER"]


def test_the_readme_example_of_eder_against_teer():
    from .test_cli import EXAMPLES

    ref, hyp = str(EXAMPLES / "zed_ref.json"), str(EXAMPLES / "frames_hyp.json")
    eder = teer.score(ref, hyp, preset="eder")
    assert [eder.row(eder.files[u])["EDER"] for u in ("u1", "u2")] == [0.125, 0.25]
    assert eder.mean()["EDER"] == 0.1875
    assert teer.score(ref, hyp).total.TEER == 1
    mapped = dict(emotion_map="angry=a,sad=s")
    assert teer.score(ref, hyp, **mapped).total.TEER == pytest.approx(0.4)
    assert teer.score(ref, hyp, collar=0, **mapped).total.TEER == pytest.approx(2.5 / 6)
    assert teer.score(ref, hyp, collar=0, average="files", **mapped).mean()["TEER"] == pytest.approx(0.375)
    union = teer.score(ref, hyp, collar=0, uem_default="union", **mapped)
    assert [union.files[u].TEER for u in ("u1", "u2")] == [1.25, 1.5]


def test_validate_reports_the_readers_message_for_zed_and_frames(tmp_path):
    zed = write(tmp_path, "zed.json", {"u": {"duration": 2, "emotion": [{"emo": "a", "start": 1}]}})
    frames = write(tmp_path, "frames.json", {"u": {"window": 1, "stride": 1, "labels": ["a", 1]}})
    good = write(tmp_path, "good.json", {"u": {"duration": 2, "emotion": [{"emo": "a", "start": 1, "end": 2}]}})
    out = teer_cli("validate", zed, frames, good)
    assert out.returncode == 1
    assert f"{zed}:utterance 'u' emotion[0]: missing key 'end'" in out.stdout
    assert f"{frames}:file 'u' labels[1]: a frame label must be a string, found a number" in out.stdout
    assert f"{good}: OK (JSON)" in out.stdout


def test_the_pyannote_metrics_refuse_a_mean_of_rates():
    pytest.importorskip("pyannote.metrics")
    from teer.pyannote import TimeWeightedEmotionErrorRate

    with pytest.raises(ValueError, match="mean of per-file rates"):
        TimeWeightedEmotionErrorRate("eder")


def test_bootstrap_of_a_mean_resamples_per_file_rates(tmp_path):
    from teer.bootstrap import Settings, compare, intervals, resample_counts

    zed, frames = random_corpus(3, n=9)
    ref, hyp = write(tmp_path, "ref.json", zed), write(tmp_path, "hyp.json", frames)
    report = teer.score(ref, hyp, preset="eder")
    settings = Settings(300, 0.9, 5)
    files = sorted(report.files)
    eder = np.array([report.row(report.files[f])["EDER"] for f in files])
    rng = np.random.default_rng(settings.seed)
    draws = np.concatenate(list(resample_counts(len(files), 300, rng)))
    naive = [np.mean(np.repeat(eder, row)) for row in draws]  # each drawn file, as often as drawn
    lo, hi = np.quantile(naive, [0.05, 0.95])
    assert intervals(report, settings)["EDER"] == pytest.approx((lo, hi), abs=1e-12)
    # paired: a system against itself differs by nothing; against all-neutral output, by a positive amount
    neutral = {u: dict(f, labels=["n"] * len(f["labels"])) for u, f in frames.items()}
    other = teer.score(ref, write(tmp_path, "neutral.json", neutral), preset="eder")
    same = compare(report, report, settings)["EDER"]
    assert (same.difference, same.p) == (0, 1)
    diff = compare(report, other, settings)["EDER"]
    assert diff.difference == pytest.approx(report.mean()["EDER"] - other.mean()["EDER"])
    out = teer_cli("compare", ref, hyp, write(tmp_path, "neutral.json", neutral), "--preset", "eder",
                   "--bootstrap", "50", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data["difference"]) == {"EDER", "EERa"}
    assert data["systems"]["A"]["mean"]["EDER"] == pytest.approx(report.mean()["EDER"])


def test_the_json_holds_one_eder_the_mean():
    """Under the eder preset the figure is the mean over files: the JSON's total keeps the
    summed seconds but no rates of its own, so that ``total.EDER`` cannot be read as it."""
    from .test_cli import EXAMPLES

    out = teer_cli("score", EXAMPLES / "zed_ref.json", EXAMPLES / "frames_hyp.json", "--preset", "eder",
                   "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["mean"]["EDER"] == 0.1875
    assert "EDER" not in data["total"] and "EERa" not in data["total"]
    assert data["total"]["TOTAL"] == 12 and data["total"]["CONF_emo"] == 2.5
    report = teer.score(EXAMPLES / "zed_ref.json", EXAMPLES / "frames_hyp.json", preset="eder")
    frame = report.to_dataframe()
    assert np.isnan(frame.loc["TOTAL", "EDER"]) and frame.loc["MEAN", "EDER"] == 0.1875
    # --average files under wu2023 keeps both (the user asked for the mean beside the sums)
    both = json.loads(teer_cli("score", EXAMPLES / "ref.rttm", EXAMPLES / "hyp.json", "--average", "files",
                               "--format", "json").stdout)
    assert "TEER" in both["total"] and "TEER" in both["mean"]
