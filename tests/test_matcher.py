"""teer.matcher: the speaker mapping, for tiny segments, many speakers and both assignment paths."""
from __future__ import annotations

import pytest

import teer
from teer import matcher
from teer.segments import SegmentTable

from .corpus import corpus, table, total


@pytest.mark.parametrize("length", [1e-9, 2e-9, 3e-7])
def test_very_short_segments_keep_their_speaker_mapping(length):
    ref = table(("a", 0, length, "A", "hap"))
    hyp = table(("a", 0, length, "X", "hap"))
    c = total(ref, hyp)
    assert (c.TOTAL, c.CONF_spk, c.DER) == (length, 0, 0)


def test_a_segment_shorter_than_half_a_tick_is_no_speech():
    # times are read to the nearest nanosecond (teer.ticks): [0, 1e-12] is [0, 0]
    c = total(table(("a", 0, 1e-12, "A", "hap")), table(("a", 0, 1e-12, "X", "hap")))
    assert (c.TOTAL, c.DER) == (0, None)


def test_a_nanosecond_overlap_is_mapped_beside_long_ones():
    ref = table(("a", 0, 100, "A", "hap"), ("a", 200, 200 + 1e-9, "B", "hap"))
    hyp = table(("a", 0, 100, "X", "hap"), ("a", 200, 200 + 1e-9, "Y", "hap"))
    assert total(ref, hyp).CONF_spk == 0


def test_many_speakers_map_in_one_assignment():
    # 3000 speakers on each side, each speaking once: the tie rule used to re-solve the
    # assignment for every matched pair (about n^4); one assignment takes well under a second
    n = 3000
    ref = table(*[("f", i, i + 1, f"R{i}", "hap") for i in range(n)])
    hyp = table(*[("f", i, i + 1, f"H{(i * 7) % n}", "hap") for i in range(n)])
    c = total(ref, hyp)
    assert c.CONF_spk == 0 and c.TOTAL == n


@pytest.mark.parametrize("seed", range(6))
def test_sparse_and_dense_assignment_agree(seed, monkeypatch):
    ref, hyp = corpus(seed, n_files=4)
    dense = teer.score(ref, hyp, collar=0.1)
    monkeypatch.setattr(matcher, "DENSE_CELLS", 0)
    sparse = teer.score(ref, hyp, collar=0.1)
    for name in dense.files:
        a, b = dense.files[name], sparse.files[name]
        for key in ("CONF_spk", "CONF_emo_spk", "TOTAL", "MS", "FA"):
            assert a[key] == pytest.approx(b[key], abs=1e-9)


def test_a_large_file_does_not_slow_the_assignment_of_small_ones():
    # each file's assignment is sized by its own overlapping speakers
    big = [("big", i, i + 1, f"R{i}", "hap") for i in range(600)]
    small = [(f"s{k}", 0, 1, "A", "hap") for k in range(300)]
    ref = table(*big, *small)
    hyp = table(*[(f, s, e, k.replace("R", "H").replace("A", "X"), m) for f, s, e, k, m in big + small])
    c = teer.score(ref, hyp, collar=0)
    assert c.total.CONF_spk == 0 and len(c.files) == 301


@pytest.mark.parametrize("seed", range(6))
def test_sparse_pair_sums_give_the_dense_result(seed, monkeypatch):
    ref, hyp = corpus(seed, n_files=4, self_overlap=seed % 2 == 0)
    ref_t, hyp_t = SegmentTable.from_records(ref), SegmentTable.from_records(hyp)
    dense = [teer.score(ref_t, hyp_t, collar=c).to_dict() for c in (0.0, 0.25)]
    tied_ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"))
    tied_hyp = table(("a", 0, 10, "X", "sad"), ("a", 0, 10, "Y", "hap"))
    # force the path taken when n_files * k_ref * k_hyp exceeds matcher.DENSE_KEYS
    monkeypatch.setattr(matcher, "DENSE_KEYS", 0)
    assert [teer.score(ref_t, hyp_t, collar=c).to_dict() for c in (0.0, 0.25)] == dense
    assert total(tied_ref, tied_hyp).CONF_emo_spk == 0  # the tie is decided by emotion agreement
