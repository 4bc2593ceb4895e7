"""One input in training and on turns (issue 21 §1): the text normaliser, the audio
sources, a turn's input built only from what a system has, sliding windows.

The model-level check (a model right on utterances is right on the oracle turns of the
same speech) is in the learning group, ``test_learning.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from recipes.iemocap.config import InputsConfig, load_config
from recipes.iemocap.lib.deps import missing_reason
from recipes.iemocap.lib.normalise import normalise

SR = 16000


@pytest.mark.parametrize("text", [
    "Yeah, I'm [LAUGHTER] fine.",                 # an IEMOCAP transcript
    "YEAH I'M FINE",                              # wdseg words
    "YEAH(2) ++NOISE++ <sil> I'M FINE",           # wdseg rows prepare would not have cleaned
    " Yeah,  I\u2019m fine.",                      # WhisperX words, curly apostrophe
    ["YEAH", "I'M", "FINE"],                      # words as a list
    [["Yeah", 0.1, 0.3], ["I'm", 0.3, 0.5], ["fine.", 0.5, 0.9]],
])
def test_every_source_of_words_reads_the_same(text):
    from recipes.iemocap.lib.normalise import join_words

    assert normalise(join_words(text)) == "yeah i'm fine"


def test_the_normaliser_keeps_what_carries_meaning():
    assert normalise("CAFÉ, rock'n'roll 5 dollars-ish 'cause") == "café rock'n'roll 5 dollars ish cause"
    assert normalise("[BREATHING]") == ""
    assert normalise("Yeah, I'm  fine.", "none") == "Yeah, I'm fine."
    with pytest.raises(ValueError):
        normalise("x", "upper")


def test_inputs_section_is_checked(tmp_path):
    from recipes.iemocap.lib.io_utils import RecipeError

    cfg = load_config(None, ["inputs.audio=mix", "inputs.text=none", "inputs.window_hop=2"])
    assert cfg.inputs == InputsConfig(text="none", audio="mix", window_hop=2.0)
    with pytest.raises(RecipeError, match="inputs.audio: expected one of channel, mix, first, sentence"):
        load_config(None, ["inputs.audio=left"])


def _dialog(tmp_path, seconds=4.0):
    """A two-channel dialog recording: left a rising ramp (loud), right a falling one (quiet)
    for the first half, then the other way round; one sentence wav (left, 0 .. 1 s)."""
    n = int(seconds * SR)
    t = np.arange(n) / n
    left = np.where(t < 0.5, 0.5 * t, 0.01 * t).astype("float32")
    right = np.where(t < 0.5, -0.01 * t, -0.5 * t).astype("float32")
    root = tmp_path / "Session1"
    (root / "dialog" / "wav").mkdir(parents=True)
    (root / "sentences" / "wav" / "Ses01F_x").mkdir(parents=True)
    sf.write(root / "dialog" / "wav" / "Ses01F_x.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    utt_wav = root / "sentences" / "wav" / "Ses01F_x" / "Ses01F_x_F000.wav"
    sf.write(utt_wav, left[:SR], SR, subtype="FLOAT")
    record = {"id": "Ses01F_x_F000", "dialog": "Ses01F_x", "session": "Ses01", "speaker": "Ses01F",
              "start": 0.0, "end": 1.0, "text": "Hello, there!", "emotion": "neu", "wav": str(utt_wav)}
    return record, left, right


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_a_turn_reads_only_what_a_system_has(tmp_path):
    """A turn exactly on an utterance is still read from the dialog recording with its own
    words: never the sentence wav or the transcript."""
    from recipes.iemocap.lib.data import read_audio, turn_examples

    record, left, right = _dialog(tmp_path)
    turns = [{"session_id": "Ses01F_x", "start_time": 0.0, "end_time": 1.0, "speaker": "A",
              "words": "HELLO THERE", "utterance_id": record["id"]},
             {"session_id": "Ses01F_x", "start_time": 2.5, "end_time": 3.5, "speaker": "B",
              "words": " A new,  turn.", "utterance_id": None}]
    for audio in ("channel", "sentence", "mix", "first"):
        ex = turn_examples(turns, {record["id"]: record}, InputsConfig(audio=audio))
        assert all(e.wav.endswith("dialog/wav/Ses01F_x.wav") for e in ex)
        assert [e.text for e in ex] == ["hello there", "a new turn"]
        assert [(e.start, e.end) for e in ex] == [(0.0, 1.0), (2.5, 3.5)]
    ex = turn_examples(turns, {record["id"]: record}, InputsConfig(audio="channel"))
    # the louder channel over each span: left in the first half, right in the second
    a, b = read_audio(ex[0], None), read_audio(ex[1], None)
    assert len(a) == len(b) == SR
    assert np.all(np.diff(a) > 0) and np.all(np.diff(b) < 0)
    first = turn_examples(turns, {record["id"]: record}, InputsConfig(audio="first"))
    assert np.all(np.diff(read_audio(first[1], None)) > 0)      # left, though quiet there
    with pytest.raises(ValueError, match="no recording found"):
        turn_examples([{**turns[0], "session_id": "Ses09F_y"}], {record["id"]: record})


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_utterances_read_the_same_audio_as_turns_unless_sentence_is_asked(tmp_path):
    from recipes.iemocap.lib.data import read_audio, turn_examples, utterance_examples

    record, left, right = _dialog(tmp_path)
    turn = {"session_id": "Ses01F_x", "start_time": 0.0, "end_time": 1.0, "speaker": "A",
            "words": "HELLO THERE", "utterance_id": None}
    for audio in ("channel", "mix", "first"):
        inputs = InputsConfig(audio=audio)
        [u] = utterance_examples([record], ["neu"], inputs)
        [t] = turn_examples([turn], {record["id"]: record}, inputs)
        assert u.label == 0 and u.text == t.text == "hello there"
        assert np.array_equal(read_audio(u, None), read_audio(t, None))
    [u] = utterance_examples([record], ["neu"], InputsConfig(audio="sentence"))
    assert u.wav == record["wav"]
    # the sentence wav is the speaker's channel here, so `sentence` reads what `channel` reads
    [t] = turn_examples([turn], {record["id"]: record}, InputsConfig(audio="sentence"))
    assert np.allclose(read_audio(u, None), read_audio(t, None), atol=1e-5)
    assert len(read_audio(u, 0.25)) == SR // 4
    [u] = utterance_examples([record], ["neu"], InputsConfig(text="none"))
    assert u.text == "Hello, there!"


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_windows_cover_a_long_example_and_only_a_long_one():
    from recipes.iemocap.lib.data import Example, windows

    short = Example("s", "", "x.wav", start=1.0, end=3.0, duration=2.0)
    long_ = Example("l", "", "x.wav", start=10.0, end=17.0, duration=7.0)
    parts, owner = windows([short, long_], 3.0)
    assert owner.tolist() == [0, 1, 1, 1, 1]
    assert parts[0] is short
    assert [(p.start, p.end) for p in parts[1:]] == [(10.0, 13.0), (11.5, 14.5), (13.0, 16.0), (14.0, 17.0)]
    parts, owner = windows([long_], 3.0, hop=3.0)
    assert [(p.start, p.end) for p in parts] == [(10.0, 13.0), (13.0, 16.0), (14.0, 17.0)]
    assert windows([long_], None)[0] == [long_]


@pytest.mark.skipif(bool(missing_reason()), reason=missing_reason() or "")
def test_a_long_input_gets_the_mean_of_its_windows_logits(tmp_path):
    """``classify`` with a real (tiny) model: a 3.5 s turn over 1 s windows is the mean of the
    logits of those windows, each classified alone; a short turn is classified as it is."""
    import torch

    from recipes.iemocap.lib.data import Collator, SERDataset, make_loader, turn_examples, windows
    from recipes.iemocap.lib.model import build_model, load_tokenizer, write_tiny_models
    from recipes.iemocap.lib.runtime import Runtime, classify, predict

    record, *_ = _dialog(tmp_path)
    cfg = load_config(None, ["model.text.pretrained=null", "model.audio.pretrained=null",
                             "model.fusion={dim: 32, heads: 2, layers: 1}", "model.audio.max_seconds=1.0",
                             "model.audio.tiny.feat_extract_norm=layer"])   # takes the sample mask:
    # group norm (wav2vec2-base) lets padding into a short turn batched with longer windows (issue 24)
    paths = write_tiny_models(cfg.model, ["hello there", "a new turn"], tmp_path / "m")
    model_cfg = cfg.model.with_pretrained(text=paths["text"], audio=paths["audio"], tokenizer=paths["tokenizer"])
    torch.manual_seed(0)
    model = build_model(model_cfg, 4).eval()
    collate = Collator(load_tokenizer(model_cfg), 64)
    turns = [{"session_id": "Ses01F_x", "start_time": 0.2, "end_time": 3.7, "speaker": "A", "words": "hello there"},
             {"session_id": "Ses01F_x", "start_time": 1.0, "end_time": 1.8, "speaker": "B", "words": "a new turn"}]
    ex = turn_examples(turns, {record["id"]: record})
    rt = Runtime(torch.device("cpu"))
    logits = classify(model, ex, collate, rt, seconds=1.0, batch_size=3)
    parts, owner = windows(ex, 1.0)
    assert owner.tolist() == [0] * 6 + [1]
    alone = []
    for p in parts:     # one window a batch: no padding anywhere
        loader = make_loader(SERDataset([p], 1.0), collate, 1, shuffle=False)
        alone.append(predict(model, loader, rt)[1][0])
    alone = np.array(alone)
    assert np.allclose(logits[0], alone[:6].mean(0), atol=1e-4)
    assert np.allclose(logits[1], alone[6], atol=1e-4)
    assert not np.allclose(alone[0], alone[5], atol=1e-3)    # the windows differ
    # validation (model selection) averages the windows as evaluation does
    from recipes.iemocap.stages.train import validation_metrics

    ex[0].label, ex[1].label = 1, 2
    loader = make_loader(SERDataset(parts, 1.0), collate, 3, shuffle=False)
    val = validation_metrics(model, loader, ex, 4, rt, quiet=True, owner=owner)
    expected = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.tensor([1, 2]))
    assert val["loss"] == pytest.approx(float(expected), abs=1e-4)


# --------------------------------------------------------------------------
# train.on: turns (issue 21 §2)

def _rec(id, dialog, start, end, emotion, session="Ses01", speaker="Ses01F"):
    return {"id": id, "dialog": dialog, "session": session, "speaker": speaker, "start": start, "end": end,
            "emotion": emotion, "code": emotion or "fru", "text": "", "wav": None}


def _turn(dialog, start, end, speaker="A"):
    return {"session_id": dialog, "start_time": start, "end_time": end, "speaker": speaker, "words": "x"}


def test_turns_are_labelled_as_ser_align_labels_them():
    """The labelled utterance overlapping longest, by more than 0.1 s; utterances outside
    the label set are no candidates (SER-Align's ground truth holds the four classes only)."""
    from recipes.iemocap.stages.common import label_turns

    records = [_rec("u1", "d", 0.0, 2.0, "neu"), _rec("u2", "d", 1.5, 5.0, None),   # fru: no label
               _rec("u3", "d", 4.8, 6.0, "ang"), _rec("u4", "e", 0.0, 1.0, "sad")]
    turns = [_turn("d", 0.5, 4.9),     # u1 1.5 s, u2 (unlabelled) 3.4 s, u3 0.1 s -> u1
             _turn("d", 2.5, 4.85),    # only u2 and 0.05 s of u3 -> none
             _turn("d", 4.7, 4.9),     # u3 by exactly 0.1 s: not more -> none
             _turn("d", 1.9, 5.0),     # u1 0.1 s, u3 0.2 s -> u3
             _turn("e", 0.5, 2.0),     # another dialog
             _turn("x", 0.0, 9.0)]     # a dialog without utterances
    assert label_turns(turns, records, 0.1) == ["u1", None, None, "u3", "u4", None]
    assert label_turns(turns, records, 0.0)[2] == "u3"


def test_turn_splits_follow_the_fold():
    from recipes.iemocap.stages.common import turn_split

    records = [_rec("a1", "Ses01F_a", 0.0, 2.0, "neu"), _rec("a2", "Ses01F_a", 3.0, 5.0, "sad"),
               _rec("b1", "Ses02F_b", 0.0, 2.0, "hap", session="Ses02"),
               _rec("b2", "Ses02F_b", 3.0, 5.0, "ang", session="Ses02"),
               _rec("b3", "Ses02F_b", 6.0, 8.0, "ang", session="Ses02")]
    fold = {"fold": 1, "test_session": "Ses01", "train": ["b1", "b3"], "valid": ["b2"], "test": ["a1", "a2"]}
    turns = [_turn("Ses01F_a", 0.0, 2.0), _turn("Ses01F_a", 2.2, 2.8), _turn("Ses01F_a", 3.0, 5.0),
             _turn("Ses02F_b", 0.0, 2.0), _turn("Ses02F_b", 3.0, 5.0), _turn("Ses02F_b", 6.0, 8.0),
             _turn("Ses02F_b", 8.5, 9.0)]
    assert turn_split(turns, records, fold, "test", 0.1) == ([turns[0], turns[2]], ["a1", "a2"])
    assert turn_split(turns, records, fold, "valid", 0.1) == ([turns[4]], ["b2"])
    assert turn_split(turns, records, fold, "train", 0.1) == ([turns[3], turns[5]], ["b1", "b3"])
