"""align: oracle and WhisperX-style words -> speaker turns, against the truth."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from recipes.iemocap.lib.deps import missing_reason

from recipes.iemocap.__main__ import main as cli
from recipes.iemocap.stages.align import (Turn, Word, assign_speakers, build_turns, fill_untimed_words,
                                   match_utterances, read_whisperx_json, turns_to_seglst)
from recipes.iemocap.lib.io_utils import RecipeError
from recipes.iemocap.stages.prepare import load_utterances


def run_align(capsys, *argv) -> tuple[int, str]:
    rc = cli(["align", "-q", *map(str, argv)])
    return rc, capsys.readouterr().err


# ---------------------------------------------------------------- end to end

def test_oracle_recovers_reference_turns(prepared, tmp_path, capsys):
    data, truth = prepared
    rc, err = run_align(capsys, "--data", data, "--out", tmp_path)
    assert rc == 0, err
    rows = json.loads((tmp_path / "hyp_turns.json").read_text(encoding="utf-8"))
    assert [list(r) for r in rows] == [["session_id", "start_time", "end_time", "speaker",
                                        "emotion", "words", "utterance_id"]] * len(rows)
    by_utt = {r["utterance_id"]: r for r in rows}
    assert len(rows) == len(by_utt) == len(truth.utterances)      # one turn per utterance
    for t in truth.utterances:
        r = by_utt[t.id]
        assert (r["session_id"], r["speaker"], r["emotion"]) == (t.dialog, t.speaker, "<NA>")
        if t.has_wdseg:
            assert r["start_time"] == pytest.approx(t.words[0][1])
            assert r["end_time"] == pytest.approx(t.words[-1][2])
            assert r["words"] == " ".join(w for w, _, _ in t.words)
        else:                       # no wdseg: transcript words over the utterance
            assert (r["start_time"], r["end_time"]) == pytest.approx((t.start, t.end))
            assert r["words"].split() == [w.strip(".,?!").upper() for w in t.text.split()]
    # the corpus has overlapping turns of the two speakers, and they stay separate turns
    overlaps = [(a, b) for a in rows for b in rows
                if a["session_id"] == b["session_id"] and a["speaker"] < b["speaker"]
                and a["start_time"] < b["end_time"] and b["start_time"] < a["end_time"]]
    assert overlaps


def test_hyp_turns_readable_by_teer(prepared, tmp_path, capsys):
    from teer.io import read_seglst

    data, truth = prepared
    assert run_align(capsys, "--data", data, "--out", tmp_path)[0] == 0
    table = read_seglst(tmp_path / "hyp_turns.json")
    assert len(table) == len(truth.utterances)


def _whisperx_inputs(truth, records, tmp_path: Path) -> tuple[Path, Path, dict]:
    """WhisperX JSON per dialog from the truth, with untimed words and no speakers,
    plus a diarization RTTM with anonymous cluster names."""
    asr = tmp_path / "asr"
    asr.mkdir()
    names: dict[str, str] = {}
    rttm = []
    untimed: dict[str, list[str]] = {}
    for dialog in sorted(truth.dialogs):
        utts = sorted((u for u in truth.utterances if u.dialog == dialog), key=lambda u: u.start)
        segments = []
        for n, u in enumerate(utts):
            spk = names.setdefault(u.speaker, f"SPEAKER_{len(names):02d}")
            rttm.append(f"SPEAKER {dialog} 1 {u.start:.4f} {u.end - u.start:.4f} <NA> <NA> {spk} <NA> <NA>\n")
            words = []
            for k, (w, s, e) in enumerate(u.words):
                item = {"word": w.lower(), "start": s, "end": e, "score": 0.9}
                # the first word of every 3rd utterance and the 2nd word of every 4th: no times
                if (k == 0 and n % 3 == 0 and len(u.words) > 1) or (k == 1 and n % 4 == 1):
                    item = {"word": w.lower()}
                    untimed.setdefault(u.id, []).append(w.lower())
                words.append(item)
            segments.append({"start": u.words[0][1], "end": u.words[-1][2],
                             "text": " ".join(x["word"] for x in words), "words": words})
        (asr / f"{dialog}.json").write_text(json.dumps({"segments": segments}), encoding="utf-8")
    (tmp_path / "diar.rttm").write_text("".join(rttm))
    return asr, tmp_path / "diar.rttm", {"names": names, "untimed": untimed}


def test_whisperx_words_with_diarization(prepared, tmp_path, capsys):
    data, truth = prepared
    records = load_utterances(data)
    asr, diar, info = _whisperx_inputs(truth, records, tmp_path)
    rc, err = run_align(capsys, "--data", data, "--out", tmp_path, "--set", "align.source=whisperx",
                        "--set", f"align.asr={asr}", "--set", f"align.diarization={diar}")
    assert rc == 0, err
    rows = json.loads((tmp_path / "hyp_turns.json").read_text(encoding="utf-8"))
    by_utt = {r["utterance_id"]: r for r in rows}
    assert len(rows) == len(by_utt) == len(truth.utterances)
    assert info["untimed"]
    for t in truth.utterances:
        r = by_utt[t.id]
        assert r["speaker"] == info["names"][t.speaker]
        # every word kept, untimed ones included, in order
        assert r["words"] == " ".join(w.lower() for w, _, _ in t.words)
    n_words = sum(len(r["words"].split()) for r in rows)
    assert n_words == sum(len(t.words) for t in truth.utterances)


def test_a_bad_diarization_line_is_named_and_nothing_is_written(prepared, tmp_path, capsys):
    data, truth = prepared
    asr, diar, _ = _whisperx_inputs(truth, load_utterances(data), tmp_path)
    lines = diar.read_text().splitlines(keepends=True)
    fields = lines[2].split()
    fields[3] = "1,5"
    lines[2] = " ".join(fields) + "\n"
    diar.write_text("".join(lines))
    rc, err = run_align(capsys, "--data", data, "--out", tmp_path / "out", "--set", "align.source=whisperx",
                        "--set", f"align.asr={asr}", "--set", f"align.diarization={diar}")
    assert rc == 2
    assert err.startswith(f"iemocap: error: {diar}:3: ") and "1,5" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "hyp_turns.json").exists()


@pytest.mark.parametrize("content, problem", [
    ('{"segments": [\n {"start": 1.0,\n  "end": }\n]}\n', ":3: "),
    (json.dumps({"segments": [{"start": 1, "end": 2, "words": [{"word": "hi", "start": 1, "end": 2}]}]}),
     "no speaker"),
])
def test_bad_whisperx_json_is_named_and_nothing_is_written(prepared, tmp_path, capsys, content, problem):
    data, truth = prepared
    asr = tmp_path / "asr"
    asr.mkdir()
    path = asr / f"{sorted(truth.dialogs)[0]}.json"
    path.write_text(content)
    rc, err = run_align(capsys, "--data", data, "--out", tmp_path / "out", "--set", "align.source=whisperx",
                        "--set", f"align.asr={asr}")
    assert rc == 2
    assert err.startswith(f"iemocap: error: {path}") and problem in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "hyp_turns.json").exists()


def test_missing_prepare_output(tmp_path, capsys):
    rc, err = run_align(capsys, "--data", tmp_path, "--out", tmp_path)
    assert rc == 2 and "utterances.jsonl" in err and "prepare" in err


# ---------------------------------------------------------------- the pieces

def W(word, s, e, spk=None, dialog="d"):
    return Word(word, s, e, spk, dialog)


def test_assign_speakers_max_overlap_and_nearest():
    turns = [(0.0, 1.0, "A"), (0.8, 2.0, "B"), (5.0, 6.0, "A")]
    words = [W("a", 0.1, 0.5), W("b", 0.85, 1.5), W("c", 0.7, 1.0), W("d", 3.0, 3.2),
             W("e", 4.5, 4.8), W("f", None, None, "X")]
    assign_speakers(words, turns)
    assert [w.speaker for w in words] == ["A", "B", "A", "B", "A", "X"]


def test_untimed_words_attached_not_dropped():
    words = [W("first", None, None), W("one", 1.0, 1.5, "A"), W("two", None, None, "B"),
             W("three", 2.0, 2.4, "A"), W("four", None, None)]
    out = fill_untimed_words(words)
    assert [w.word for w in out] == ["first", "one", "two", "three", "four"]
    assert [(w.start, w.end, w.speaker) for w in out] == [
        (1.0, 1.0, "A"), (1.0, 1.5, "A"), (1.5, 1.5, "A"), (2.0, 2.4, "A"), (2.4, 2.4, "A")]
    assert [w.attached for w in out] == [True, False, True, False, True]
    turns = build_turns(out, max_gap=1.0)
    assert len(turns) == 1 and turns[0].text == "first one two three four"
    with pytest.raises(RecipeError, match="no word has times"):
        fill_untimed_words([W("x", None, None, "A")], "f.json")


def test_segment_without_word_times_spreads_over_segment(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"segments": [
        {"start": 1.0, "end": 2.0, "speaker": "S1", "words": [{"word": "a"}, {"word": "b"}]},
        {"start": 3.0, "end": 4.0, "text": "c d", "speaker": "S2"}]}))
    words = read_whisperx_json(path)
    assert [(w.word, w.start, w.end, w.speaker) for w in words] == [
        ("a", 1.0, 1.5, "S1"), ("b", 1.5, 2.0, "S1"), ("c", 3.0, 3.5, "S2"), ("d", 3.5, 4.0, "S2")]


def test_turns_end_at_speaker_change_and_long_pause():
    words = [W("a1", 0.0, 0.4, "A"), W("a2", 0.5, 0.9, "A"),     # A
             W("b1", 1.0, 1.3, "B"),                              # B speaks in A's pause
             W("a3", 1.4, 1.8, "A"),                              # -> new A turn
             W("a4", 3.5, 3.9, "A"),                              # pause 1.7 s > 1.0 -> new turn
             W("b2", 3.7, 4.5, "B"), W("a5", 4.0, 4.3, "A")]      # overlap: B starts inside a4
    turns = build_turns(words, max_gap=1.0)
    got = [(t.speaker, t.text) for t in turns]
    assert got == [("A", "a1 a2"), ("B", "b1"), ("A", "a3"), ("A", "a4 a5"), ("B", "b2")]
    assert [(t.start, t.end) for t in turns][:2] == [(0.0, 0.9), (1.0, 1.3)]
    assert len(build_turns(words, max_gap=2.0)) == 4      # the long pause no longer splits


def test_match_utterances_threshold():
    records = [{"id": "u1", "dialog": "d", "start": 0.0, "end": 2.0, "speaker": "A"},
               {"id": "u2", "dialog": "d", "start": 1.5, "end": 4.0, "speaker": "B"}]
    t1 = Turn("d", "A", [W("x", 0.2, 1.8, "A")])
    t2 = Turn("d", "B", [W("y", 1.6, 3.5, "B")])
    t3 = Turn("d", "A", [W("z", 1.9, 4.5, "A")])       # overlaps u2 by 2.1 of 2.5 s
    t4 = Turn("d", "A", [W("w", 3.9, 6.0, "A")])       # 0.1 s of u2: below threshold
    t5 = Turn("e", "A", [W("v", 0.0, 1.0, "A")])       # another dialog
    assert match_utterances([t1, t2, t3, t4, t5], records, 0.5) == ["u1", "u2", "u2", None, None]
    assert t4.utterance_id is None
    rows = turns_to_seglst([t1])
    assert rows == [{"session_id": "d", "start_time": 0.2, "end_time": 1.8, "speaker": "A",
                     "emotion": "<NA>", "words": "x", "utterance_id": "u1"}]


def test_untimed_word_prefers_its_own_segment():
    a = Word("end", 1.0, 1.5, "A", "d", segment=0)
    b = Word("start", None, None, None, "d", segment=1)
    c = Word("next", 2.0, 2.5, "B", "d", segment=1)
    out = fill_untimed_words([a, b, c])
    assert (out[1].start, out[1].speaker) == (2.0, "B")
    assert [t.text for t in build_turns(out, 1.0)] == ["end", "start next"]


# ---------------------------------------------------------------- the WhisperX step
# What is tested here, without whisperx installed (it pins torch 2.8; the recipe's tests run
# 2.13): the refusal without it, the keyword the Hugging Face token goes under for the
# DiarizationPipeline signatures of whisperx 3.2.0-3.7 and 3.8 (copied from its source), the
# device defaults, the diarization DataFrame -> RTTM and the JSON written, and that the step
# imports none of the recipe's model code. WhisperX itself has not run here.

def test_run_whisperx_without_whisperx_is_one_line(prepared, tmp_path, capsys):
    import importlib.util

    if importlib.util.find_spec("whisperx") is not None:
        pytest.skip("whisperx is installed")
    data, _ = prepared
    rc, err = run_align(capsys, "--data", data, "--out", tmp_path, "--run-whisperx")
    assert rc == 2 and len(err.strip().splitlines()) == 1
    assert "--run-whisperx needs whisperx >= 3.8" in err and "Traceback" not in err
    assert not (tmp_path / "hyp_turns.json").exists()


def test_the_token_goes_under_the_name_the_pipeline_takes():
    from recipes.iemocap.stages.align import diarization_pipeline
    from recipes.iemocap.config import WhisperXConfig

    class Since38:      # whisperx 3.8 .. 3.8.7rc1: DiarizationPipeline.__init__'s parameters
        def __init__(self, model_name=None, token=None, device="cpu", cache_dir=None):
            self.kwargs = {"model_name": model_name, "token": token, "device": device}

    class Until37:      # whisperx 3.2.0 .. 3.7
        def __init__(self, model_name=None, use_auth_token=None, device="cpu"):
            self.kwargs = {"model_name": model_name, "use_auth_token": use_auth_token, "device": device}

    new = diarization_pipeline(Since38, WhisperXConfig(), "cuda", "hf_x")
    assert new.kwargs == {"model_name": None, "token": "hf_x", "device": "cuda"}
    old = diarization_pipeline(Until37, WhisperXConfig(diarization_model="pyannote/speaker-diarization-3.1"),
                               "cpu", "hf_x")
    assert old.kwargs == {"model_name": "pyannote/speaker-diarization-3.1", "use_auth_token": "hf_x",
                          "device": "cpu"}


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_whisperx_settings_default_to_ser_align_and_the_device_present():
    import torch

    from recipes.iemocap.stages.align import whisperx_device
    from recipes.iemocap.config import WhisperXConfig, load_config

    wx = load_config().align.whisperx
    assert (wx.model, wx.language, wx.batch_size, wx.vad_onset, wx.speakers) == ("large-v2", "en", 8, 0.4, 2)
    gpu = torch.cuda.is_available()
    assert whisperx_device(wx) == (("cuda", "float16") if gpu else ("cpu", "int8"))
    assert whisperx_device(WhisperXConfig(device="cuda:1")) == ("cuda:1", "float16")
    assert whisperx_device(WhisperXConfig(device="cpu", compute_type="float32")) == ("cpu", "float32")


def test_diarization_frame_and_whisperx_json_are_written_as_align_reads_them(tmp_path):
    """WhisperX's diarization DataFrame (its columns: segment, label, speaker, start, end)
    becomes RTTM lines; numpy numbers in the aligned segments become JSON numbers."""
    import numpy as np
    import pandas as pd

    from recipes.iemocap.stages.align import diarization_rows, plain, read_diarization, read_whisperx_json
    from recipes.iemocap.lib.io_utils import atomic_write_json, write_segments
    from teer.io import from_records

    frame = pd.DataFrame({"segment": [None, None], "label": ["A", "B"], "speaker": ["SPEAKER_01", "SPEAKER_00"],
                          "start": np.array([0.5, 2.25]), "end": np.array([2.0, 3.5])})
    rows = diarization_rows(frame, "Ses01F_impro01")
    write_segments(tmp_path / "d.rttm", from_records(rows, source="<test>"))
    assert read_diarization(tmp_path / "d.rttm") == {"Ses01F_impro01": [(0.5, 2.0, "SPEAKER_01"),
                                                                          (2.25, 3.5, "SPEAKER_00")]}
    segments = [{"start": np.float64(0.5), "end": np.float64(1.0), "text": " Hello.",
                 "words": [{"word": "Hello.", "start": np.float64(0.5), "end": np.float32(1.0),
                            "score": np.float32(0.9), "speaker": "SPEAKER_01"}], "speaker": "SPEAKER_01"}]
    atomic_write_json(tmp_path / "Ses01F_impro01.json", {"segments": plain(segments)})
    [w] = read_whisperx_json(tmp_path / "Ses01F_impro01.json")
    assert (w.word, w.start, w.end, w.speaker) == ("Hello.", 0.5, 1.0, "SPEAKER_01")


def test_the_asr_step_needs_none_of_the_model_code():
    """``align`` (and so ``--run-whisperx``) imports neither torch nor transformers: it runs
    in a WhisperX environment with teer, PyYAML, intervaltree and soundfile."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    code = ("import sys; import recipes.iemocap.stages.align, recipes.iemocap.__main__; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
