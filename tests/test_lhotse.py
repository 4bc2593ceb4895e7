"""lhotse's own objects in the Python API, against the manifest teer reads without lhotse.

Optional: lhotse (``pip install lhotse``) is not a dependency of teer; the manifest
reader (``teer/io/supervisions.py``) never imports it. ``.ci/run`` installs it with
the recipe's torch and runs this file.
"""
from __future__ import annotations

import pytest

import teer

lhotse = pytest.importorskip("lhotse", reason="lhotse is not installed (pip install lhotse): the optional test of "
                                              "SupervisionSet objects is skipped")


def _supervisions():
    from lhotse import SupervisionSegment, SupervisionSet

    rows = [("d1", 0.5, 2.25, "A", "neu"), ("d1", 1.0, 2.0, "B", "hap"), ("d2", 0.0, 1.5, "A", "ang"),
            ("d2", 4.0, 5.75, "C", "sad")]
    return SupervisionSet.from_segments([
        SupervisionSegment(id=f"s{i}", recording_id=f, start=s, duration=d, channel=0, speaker=k,
                           custom={"emotion": e}) for i, (f, s, d, k, e) in enumerate(rows)])


def test_a_supervision_set_scores_as_its_manifest_file(tmp_path):
    reference = _supervisions()
    path = tmp_path / "supervisions_test.jsonl.gz"
    reference.to_file(path)  # written by lhotse, read by teer without it
    hypothesis = [dict(file="d1", start=0.5, end=2.75, speaker="X", emotion="neu"),
                  dict(file="d2", start=4.0, end=5.0, speaker="Y", emotion="hap")]
    from_file = teer.score(path, hypothesis, collar=0)
    from_objects = teer.score(reference, hypothesis, collar=0)
    assert from_objects.to_dict() == from_file.to_dict()
    assert from_file.total.TOTAL == pytest.approx(2.25 + 2.0 + 1.5 + 5.75)
    # a list of SupervisionSegment objects too
    assert teer.score(list(reference), hypothesis, collar=0).to_dict() == from_file.to_dict()


def test_a_bad_supervision_is_named_by_its_index():
    from lhotse import SupervisionSegment

    bad = [SupervisionSegment(id="s0", recording_id="d1", start=0, duration=1, speaker="A"),
           SupervisionSegment(id="s1", recording_id="d1", start=1, duration=1)]  # no speaker
    with pytest.raises(teer.InputError, match=r"<reference>:supervision \[1\]: missing key 'speaker'"):
        teer.score(bad, bad)
