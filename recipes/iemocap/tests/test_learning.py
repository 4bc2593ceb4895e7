"""The recipe learns what is learnable, and only that (tiny random models, CPU).

Every run: fold 1 of a synthetic corpus whose emotion is in the audio, the words, or
both (``tests/learning.py``: 30 utterances a dialog, the four classes balanced, 6
epochs, encoders at lr 1e-3, the tiny wav2vec2's convolutions trained, the first second
of audio); the held-out session's speakers are never seen in training. UA is over the
~50 labelled utterances of Ses01; chance is 0.25.

Thresholds: measured with ``python -m recipes.iemocap.tests.learning --seeds 0 1 2``
(the table is in the recipe README; these tests are its seed-0 rows), then set with a
margin from the worst seed:

* both cues, fused model: UA 1.00, 1.00, 1.00                    -> assert >= 0.90
* two label permutations: UA 0.18-0.26 each, means 0.22-0.24     -> mean <= 0.40, each <= 0.50
* text cue: text model 1.00, fused 1.00; audio model 0.18-0.25   -> >= 0.90, >= 0.90; <= 0.40
* audio cue: audio model 1.00, fused 0.98-1.00; text model 0.28-0.30 -> >= 0.90, >= 0.90; <= 0.40

With the earlier head (one mean over the concatenated text and audio sequence) the fused
model reached only 0.66-0.74 on the audio cue: see the README, "Does it learn?".
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from recipes.iemocap.lib.deps import missing_reason

if missing_reason():
    pytest.skip(f"the recipe's model tests: {missing_reason()}", allow_module_level=True)

from recipes.iemocap.tests import learning  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """``runs(cue, modalities, permute=0)`` -> eval result, trained once per module (one
    corpus per cue, shared by its runs)."""
    import torch

    base = tmp_path_factory.mktemp("learning")
    data: dict[str, Path] = {}
    done: dict[tuple, dict] = {}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)    # as the sweep; two threads on a shared 2-core machine thrash

    def get(cue: str, modalities: str, permute: int = 0) -> dict:
        key = (cue, modalities, permute)
        if key not in done:
            if cue not in data:
                data[cue] = learning.make_data(base / cue, cue, seed=0)
            done[key] = learning.fit(data[cue], base / f"{cue}_{modalities}_{permute}", modalities,
                                     seed=0, permute=permute)
            done[key]["data"] = str(data[cue])
        return done[key]

    yield get
    torch.set_num_threads(threads)


def test_learns_with_cues_in_both_streams(runs):
    r = runs("both", "both")
    assert r["UA"] >= 0.90, r["UA"]


def test_permuted_training_labels_stay_at_chance(runs):
    """Catches a trainer that reads labels from elsewhere than the records it is given, a
    fold that leaks test utterances into training and a label join by position: each lets a
    model trained on labels independent of the truth score on the test session. A model that
    learns the cue maps each of the test session's 8 speaker x class groups to some label,
    so one run's UA varies a lot around 0.25: the mean of two permutations is asserted."""
    uas = [runs("both", "both", permute=k)["UA"] for k in (1, 2)]
    assert np.mean(uas) <= 0.40, uas
    assert max(uas) <= 0.50, uas


@pytest.mark.parametrize("cue,learns,own_min,fused_min,blind", [("text", "text", 0.90, 0.90, "audio"),
                                                                 ("audio", "audio", 0.90, 0.90, "text")])
def test_each_stream_learns_its_own_cue_only(runs, cue, learns, own_min, fused_min, blind):
    """Catches a fusion that ignores a stream, a mask that hides it, and features read
    from the wrong stream: the blind model must stay at chance, the seeing ones learn."""
    own = runs(cue, learns)["UA"]
    fused = runs(cue, "both")["UA"]
    other = runs(cue, blind)["UA"]
    assert own >= own_min, own
    assert fused >= fused_min, fused
    assert other <= 0.40, other


def _grid_labels(rows, dialog, n, step, key):
    out = [[] for _ in range(n)]
    for r in rows:
        if r["file"] == dialog:
            for i in range(int(round(r["start"] / step)), min(n, int(round(r["end"] / step)))):
                out[i].append(r[key])
    return out


def test_teer_is_consistent_with_the_time_weighted_accuracy(runs, tmp_path):
    """TEER (wu2023, by teer) against one minus the time-weighted accuracy of the same
    turn predictions, computed here on a 10 ms grid: over the reference speech of the
    four classes, outside 0.25 s of every reference boundary (the collar), the share of
    time where no hypothesis turn of the reference's emotion is active. Catches
    hypotheses written with the wrong times, files or labels, or scored against the
    wrong reference. With oracle alignment the two differ only by false alarm in pauses
    inside turns and grid rounding (measured on seed 0: TEER 0.3624, EERa 0.3624,
    1 - accuracy 0.3624 before the turns read the training input; 0.0000 all three since).
    """
    from recipes.iemocap.lib.io_utils import read_segments
    from recipes.iemocap.stages.score import filter_rttm, score_with_preset

    r = runs("both", "both")
    data, out = Path(r["data"]), Path(r["out"]) / "fold1"
    labels = r["labels"]
    hyp_rows = json.loads((out / "hyp.json").read_text())
    dialogs = {h["session_id"] for h in hyp_rows}
    reference = filter_rttm(data / "ref_words.rttm", dialogs, tmp_path / "ref.rttm")
    ref = read_segments(reference).records()
    scores = score_with_preset(reference, out / "hyp.json", "wu2023", emotions=labels)

    step, collar = 0.01, 0.25
    hyp = [{"file": h["session_id"], "start": h["start_time"], "end": h["end_time"], "emotion": h["emotion"]}
           for h in hyp_rows]
    scored = wrong = 0
    for dialog in dialogs:
        end = max(x["end"] for x in ref + hyp if x["file"] == dialog)
        n = int(end / step) + 2
        ref_at = _grid_labels(ref, dialog, n, step, "emotion")
        hyp_at = _grid_labels(hyp, dialog, n, step, "emotion")
        near = np.zeros(n, dtype=bool)
        for x in ref:
            if x["file"] == dialog:
                for t in (x["start"], x["end"]):
                    near[max(0, int((t - collar) / step)):int((t + collar) / step) + 1] = True
        for i in range(n):
            refs = ref_at[i]
            if near[i] or not refs or any(e not in labels for e in refs):
                continue
            for e in refs:
                scored += 1
                wrong += e not in hyp_at[i]
    error = wrong / scored
    assert scored * step > 15          # seconds of scored speech
    assert scores["TEER"] == pytest.approx(error, abs=0.02), (scores, error)
    assert scores["EERa"] <= scores["TEER"] + 1e-9


def test_a_model_right_on_utterances_is_right_on_the_oracle_turns(runs, tmp_path):
    """Training utterances and turns are one input (``inputs:``): the same text normaliser for
    the transcript and the wdseg words, the same channel of the dialog recording, sliding
    windows over turns longer than the 1 s audio limit. So a model right on the held-out
    utterances is right on the oracle-aligned turns of the same speech. Before, with the
    same UA 1.00, the turns' EERa was 0.36 (seed 0): the turns were read differently.

    Measured with ``python -m recipes.iemocap.tests.learning --fused-only --seeds 0 1 2 3 4``
    (fused model, both cues): UA 1.00, wu2023 EERa 0.000 and TEER 0.000 on every seed.
    Asserted: EERa <= 0.10 when UA >= 0.90, a margin of 0.10 over the worst seed (a tenth
    of the scored time may go wrong before it fails). The turn metrics (labels by
    SER-Align's rule) measured 0.948 on seed 0, not 1: a turn on non-target speech (fru,
    xxx) that overlaps a labelled neighbour of the other speaker by more than 0.1 s takes
    that neighbour's label. Asserted: >= 0.80 over more than 40 turns."""
    r = runs("both", "both")
    assert r["UA"] >= 0.90, r["UA"]
    scores = learning.turn_scores(r, tmp_path)
    assert scores["EERa"] <= 0.10, scores
    assert r["turns"]["n"] > 40 and r["turns"]["UA"] >= 0.80, r["turns"]


def test_alignment_study_with_the_trained_model(runs, tmp_path):
    """The model path of ``alignment-study``: the trained model classifies the rebuilt
    turns of its test session. Undegraded, the turns are align's, so its TEER is the one
    of the fold's ``hyp.json``; dropping half the words costs more."""
    from recipes.iemocap.stages.alignment_study import alignment_study
    from recipes.iemocap.stages.score import filter_rttm, score_with_preset

    r = runs("both", "both")
    data, fold_dir = Path(r["data"]), Path(r["out"]) / "fold1"
    rows = alignment_study(learning.config("both"), data, tmp_path, checkpoint=fold_dir,
                           factors=["word_drop"], quiet=True)
    by = defaultdict(dict)
    for row in rows:
        by[row["preset"]][row["level"]] = row
    assert all(row["emotions"] == "model" for row in rows)
    dialogs = {h["session_id"] for h in json.loads((fold_dir / "hyp.json").read_text())}
    reference = filter_rttm(data / "ref_words.rttm", dialogs, tmp_path / "ref.rttm")
    direct = score_with_preset(reference, fold_dir / "hyp.json", "wu2023", emotions=r["labels"])
    wu = by["wu2023"]
    assert wu[0.0]["TEER"] == pytest.approx(direct["TEER"], abs=1e-9)
    assert wu[0.5]["TEER"] > wu[0.0]["TEER"] + 0.05
    assert (tmp_path / "word_drop.png").is_file()
