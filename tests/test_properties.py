"""Properties every scorer of this kind must have, on random inputs."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import teer
from teer.io import from_records

EMOTIONS = ["neu", "hap", "ang", "sad"]

segment = st.tuples(
    st.sampled_from(["f0", "f1"]),
    st.integers(0, 200),  # start, in tenths of a second
    st.integers(1, 60),  # duration, in tenths
    st.sampled_from(["A", "B", "C"]),
    st.sampled_from(EMOTIONS),
)
segments = st.lists(segment, min_size=1, max_size=25)
collars = st.sampled_from([0.0, 0.25, 0.5])


def table(rows, speaker_prefix=""):
    return from_records(
        [dict(file=f, start=s / 10, end=(s + d) / 10, speaker=speaker_prefix + k, emotion=e)
         for f, s, d, k, e in rows])


def score(ref_rows, hyp_rows, **kw):
    return teer.score(table(ref_rows), table(hyp_rows, "h"), **kw)


def same(a: teer.Components, b: teer.Components, tol=1e-9):
    for k in ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk", "AGREE", "TOTAL"):
        assert a[k] == pytest.approx(b[k], abs=tol), k


@settings(max_examples=60, deadline=None)
@given(segments, collars)
def test_a_perfect_hypothesis_scores_zero(ref, collar):
    c = score(ref, ref, collar=collar).total
    assert c.MS == c.FA == c.CONF_emo == c.CONF_spk == c.CONF_emo_spk == 0
    if c.TOTAL > 0:
        assert c.TEER == c.sTEER == c.DER == 0


@settings(max_examples=60, deadline=None)
@given(segments, segments, collars, st.permutations(["A", "B", "C"]))
def test_renaming_hypothesis_speakers_changes_nothing(ref, hyp, collar, names):
    rename = dict(zip(["A", "B", "C"], names))
    renamed = [(f, s, d, rename[k], e) for f, s, d, k, e in hyp]
    same(score(ref, hyp, collar=collar).total, score(ref, renamed, collar=collar).total)


@settings(max_examples=60, deadline=None)
@given(segments, segments, st.integers(0, 24), st.booleans())
def test_splitting_a_segment_into_two_abutting_ones_changes_nothing(ref, hyp, which, in_ref):
    rows = ref if in_ref else hyp
    f, s, d, k, e = rows[which % len(rows)]
    if d < 2:
        return
    split = [r for i, r in enumerate(rows) if i != which % len(rows)] + [(f, s, d // 2, k, e),
                                                                         (f, s + d // 2, d - d // 2, k, e)]
    before = score(ref, hyp, collar=0).total
    after = score(split, hyp, collar=0).total if in_ref else score(ref, split, collar=0).total
    same(before, after)


# Coarse grids (half seconds) with duplicated segments (the same times again, for another
# speaker or emotion): exact ties of overlap and emotion agreement between mappings are
# common, and the tie rule (teer.matcher.canonical_order) must decide them by the segments.
coarse_segment = st.tuples(st.sampled_from(["f0", "f1"]), st.integers(0, 16), st.integers(1, 6),
                           st.sampled_from(["A", "B", "C"]), st.sampled_from(EMOTIONS[:2]))
coarse_segments = st.lists(coarse_segment, min_size=1, max_size=10).flatmap(
    lambda rows: st.lists(st.sampled_from(rows), max_size=4).flatmap(
        lambda copies: st.tuples(*[st.sampled_from(["A", "B", "C"]) for _ in copies],
                                 *[st.sampled_from(EMOTIONS[:2]) for _ in copies]).map(
            lambda labels: rows + [(f, s, d, labels[i], labels[len(copies) + i])
                                   for i, (f, s, d, _, _) in enumerate(copies)])))


def exact_records(rows, shift_ticks=0, prefix=""):
    """Rows on the half-second grid as records with exact decimal times, shifted by ticks."""
    from teer import ticks

    half = ticks.TICKS_PER_SECOND // 2
    return [dict(file=f, start=ticks.text(s * half + shift_ticks), end=ticks.text((s + d) * half + shift_ticks),
                 speaker=prefix + k, emotion=e) for f, s, d, k, e in rows]


def figures(report):
    return {name: c.to_dict() for name, c in [("TOTAL", report.total), *sorted(report.files.items())]}


@settings(max_examples=150, deadline=None)
@given(coarse_segments, coarse_segments, collars, st.integers(1, 10 ** 15))
def test_shifting_all_times_changes_nothing(ref, hyp, collar, shift):
    """Every time shifted by a multiple of the resolution (1 ns, up to 11 days): every figure
    of every file stays the same, exactly (times and sums are integers of ticks)."""
    before = teer.score(exact_records(ref), exact_records(hyp, prefix="h"), collar=collar)
    after = teer.score(exact_records(ref, shift), exact_records(hyp, shift, prefix="h"), collar=collar)
    assert figures(after) == figures(before)


@settings(max_examples=150, deadline=None)
@given(coarse_segments, coarse_segments, collars, st.permutations(["A", "B", "C"]),
       st.permutations(["A", "B", "C"]), st.randoms(use_true_random=False))
def test_names_and_input_order_change_nothing_even_in_exact_ties(ref, hyp, collar, ref_names, hyp_names, rng):
    """Speakers renamed on both sides and the segments listed in another order: the same
    figures, exactly, on inputs where the speaker mapping has exact ties."""
    before = teer.score(exact_records(ref), exact_records(hyp, prefix="h"), collar=collar)
    rename_ref, rename_hyp = dict(zip("ABC", ref_names)), dict(zip("ABC", hyp_names))
    ref2 = [(f, s, d, rename_ref[k], e) for f, s, d, k, e in ref]
    hyp2 = [(f, s, d, rename_hyp[k], e) for f, s, d, k, e in hyp]
    rng.shuffle(ref2)
    rng.shuffle(hyp2)
    after = teer.score(exact_records(ref2), exact_records(hyp2, prefix="h"), collar=collar)
    assert figures(after) == figures(before)


@settings(max_examples=60, deadline=None)
@given(segments, segments, collars)
def test_components_add_across_files(ref, hyp, collar):
    whole = score(ref, hyp, collar=collar)
    parts = [score([r for r in ref if r[0] == f], [h for h in hyp if h[0] == f], collar=collar)
             for f in sorted({r[0] for r in ref})]
    same(whole.total, sum((p.total for p in parts), teer.Components()))
    for p in parts:
        for name, c in p.files.items():
            same(whole.files[name], c)


@settings(max_examples=100, deadline=None)
@given(segments, segments, collars, st.sampled_from(["all", "single", "overlap", "nonoverlap"]))
def test_rates_are_ordered_and_bounded(ref, hyp, collar, regions):
    c = score(ref, hyp, collar=collar, regions=regions).total
    if c.TOTAL > 0:
        assert c.sTEER >= max(c.TEER, c.DER) - 1e-12
    if c.AGREE > 0:
        assert 0 <= c.EERa <= c.sEERa + 1e-12 <= 1 + 1e-12
    for k in ("MS", "FA", "CONF_emo", "CONF_spk", "CONF_emo_spk"):
        assert c[k] >= -1e-12
    assert c.CONF_emo <= c.AGREE + 1e-9 and c.CONF_emo_spk <= c.AGREE + 1e-9


hyp_segment = st.tuples(st.sampled_from(["f0", "f1"]), st.integers(0, 200), st.integers(1, 60),
                        st.sampled_from(["A", "B", "C"]), st.sampled_from(EMOTIONS + [None]))


@settings(max_examples=150, deadline=None)
@given(segments, st.lists(hyp_segment, min_size=1, max_size=25), collars,
       st.sampled_from(["all", "overlap"]), st.booleans())
def test_matched_counts_from_pairs_equal_those_from_profiles(ref, hyp, collar, regions, fixed):
    """The engine counts matches from the pairs active together (same_speaker_overlap="once");
    the whole-grid profiles (the way that serves "each" too) give the same counts in every
    scored region, with speakers that overlap themselves with other emotions, hypothesis
    speech without an emotion, and a fixed speaker map."""
    import numpy as np

    from teer import engine
    from teer.engine import matching
    from teer.engine import together as with_whom

    speaker_map = {("f0", "hA"): "B", ("f1", "hC"): "A"} if fixed else None
    sw = engine.sweep(table(ref), table(hyp, "h"), collar=collar, regions=regions, speaker_map=speaker_map)
    both = sw.evaluated & (sw.ref.count > 0) & (sw.hyp.count > 0)
    n, e = sw.grid.n_regions, len(sw.emotions)
    together = with_whom.together_of(sw.ref, sw.hyp, both, e)
    fast = matching.matched_pairs(sw.ref, sw.hyp, sw.mapping, sw.scored, e, n, together)
    careful = matching.matched_of_profiles(sw.ref, sw.hyp, sw.mapping, sw.scored, e, n)
    for name in ("emo", "spk", "emo_spk"):
        a, b = getattr(fast, name), getattr(careful, name)
        assert a.dtype == b.dtype and np.array_equal(a[sw.scored], b[sw.scored]), name


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.floats(0, 100), st.floats(0, 100)), max_size=40), st.booleans())
def test_extents_of_grouped_and_scattered_rows_are_those_of_minimum_at(rows, grouped):
    import numpy as np

    from teer.segments import extents

    rows = sorted(rows) if grouped else rows
    codes = np.array([r[0] for r in rows], np.int32)
    start, end = np.array([r[1] for r in rows]), np.array([r[2] for r in rows])
    lo, hi = np.full(7, np.inf), np.full(7, -np.inf)
    np.minimum.at(lo, codes, start)
    np.maximum.at(hi, codes, end)
    got = extents(codes, start, end, 7)
    assert got[0].tobytes() == lo.tobytes() and got[1].tobytes() == hi.tobytes()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(1, 10)), max_size=30),
       st.lists(st.booleans(), min_size=45, max_size=45))
def test_active_groups_are_those_of_the_expanded_intervals(rows, listed):
    """``intervals.active`` (a sort of packed keys) lists, region by region, the groups that
    ``expand`` finds in each listed region."""
    import numpy as np

    from teer.intervals import active, coverage, expand, listed_before, merge

    group = np.array([g for g, _, _ in rows], np.int64)
    i0 = np.array([s for _, s, _ in rows], np.int32)
    i1 = np.array([s + d for _, s, d in rows], np.int32)
    iv, _ = merge(group, i0, i1)
    regions = np.flatnonzero(listed)
    which, region = expand(iv, regions)
    expected = sorted(zip(np.searchsorted(regions, region).tolist(), iv.group[which].tolist()))
    got = active(iv, listed_before(np.array(listed)))
    assert got.count.tolist() == coverage(iv.i0, iv.i1, len(listed))[regions].tolist()
    assert list(zip(got.position.tolist(), got.group.tolist())) == expected
    assert all(got.group[got.first[k]:got.first[k] + got.count[k]].tolist() == [g for p, g in expected if p == k]
               for k in range(len(regions)))


@settings(max_examples=100, deadline=None)
@given(segments, segments, collars)
def test_active_speakers_from_items_are_those_of_the_merged_speech(ref, hyp, collar):
    """Where every segment has an emotion, a side's active speakers are read off its active
    items (``together._active_speakers``), also where a speaker has two emotions at once: the
    same as the speakers' own intervals give."""
    import numpy as np

    from teer import engine
    from teer.engine import together as with_whom
    from teer.intervals import active, listed_before

    sw = engine.sweep(table(ref), table(hyp, "h"), collar=collar)
    both = sw.evaluated & (sw.ref.count > 0) & (sw.hyp.count > 0)
    regions, below, e = np.flatnonzero(both), listed_before(both), len(sw.emotions)
    for side in (sw.ref, sw.hyp):
        assert side.labelled
        items = active(side.by_speaker_emotion, below)
        fast, _ = with_whom._active_speakers(side, regions, below, items, e)
        general = active(side.by_speaker, below)
        for name in ("group", "position", "count", "first"):
            assert getattr(fast, name).tolist() == getattr(general, name).tolist(), name



@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40)), max_size=40), st.booleans(), st.booleans())
def test_group_start_order_sorts_as_lexsort(rows, by_start, wide):
    """``intervals.group_start_order`` (a radix sort by group where starts are sorted and
    groups fit 16 bits, else one integer key) orders as ``np.lexsort((i0, group))``."""
    import numpy as np

    from teer.intervals import group_start_order

    rows = sorted(rows, key=lambda r: r[1]) if by_start else rows
    group = np.array([g for g, _ in rows], np.int64) * (70_000 if wide else 1)
    i0 = np.array([s for _, s in rows], np.int32)
    order, expected = group_start_order(group, i0), np.lexsort((i0, group))
    assert group[order].tolist() == group[expected].tolist() and i0[order].tolist() == i0[expected].tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=40), st.sampled_from([1, 10, 10**6]))
def test_unique_inverse_by_counting_is_that_of_np_unique(keys, scale):
    import numpy as np

    from teer.segments import unique_inverse

    key = np.array(keys, np.int64) * scale
    uniq, inverse = unique_inverse(key)
    expected, expected_inverse = np.unique(key, return_inverse=True)
    assert uniq.tolist() == expected.tolist() and inverse.tolist() == expected_inverse.tolist()
    assert inverse.dtype == np.int64


@settings(max_examples=100, deadline=None)
@given(segments, st.lists(hyp_segment, min_size=1, max_size=25), st.sampled_from([0.25, 0.5]), st.booleans())
# two speakers that share two emotions at once, over regions that collars split
@example([("f0", 0, 50, "A", "hap"), ("f0", 10, 30, "A", "sad")],
         [("f0", 0, 50, "A", "hap"), ("f0", 10, 30, "A", "sad")], 0.25, False)
def test_together_on_coarse_regions_is_together_on_the_grid(ref, hyp, collar, zones):
    """Where collars (and no-score zones) split the grid's regions, ``together.together_of`` works
    on the coarser regions and repeats its pairs in their grid regions: the same pairs and
    items as found on the grid itself, each pair in the same regions in the same order, the
    regions with one pair on each side first (what the mapping's pair sums add, in order)."""
    import numpy as np

    from teer import engine
    from teer.engine import together as with_whom

    noscore = table([("f0", 30, 20, "A", "neu"), ("f1", 100, 5, "B", "neu")]) if zones else None
    sw = engine.sweep(table(ref), table(hyp, "h"), collar=collar, noscore=noscore)
    assert sw.coarse is not None
    both = sw.evaluated & (sw.ref.count > 0) & (sw.hyp.count > 0)
    e = len(sw.emotions)
    fine = with_whom.together_of(sw.ref, sw.hyp, both, e)
    coarse = with_whom.together_of(sw.ref, sw.hyp, both, e, sw.coarse)
    assert np.array_equal(fine.regions, coarse.regions)

    def per_pair(pairs):
        entries = zip(pairs.each(pairs.ref).tolist(), pairs.each(pairs.hyp).tolist(), pairs.region.tolist(),
                      [i < pairs.single for i in range(len(pairs))])
        return sorted(entries, key=lambda entry: entry[:2])  # stable: each pair's entries keep their order

    for name in ("speakers", "agreeing"):
        assert per_pair(getattr(fine, name)) == per_pair(getattr(coarse, name)), name
    for side in (0, 1):
        a, b = fine.items_in(side, fine.regions), coarse.items_in(side, fine.regions)
        assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 10)), max_size=80))
def test_covered_by_slices_or_by_count_is_coverage_above_zero(rows):
    import numpy as np

    from teer.intervals import coverage, covered

    i0 = np.array([s for s, _ in rows], np.int64)
    i1 = np.array([s + d for s, d in rows], np.int64)
    assert covered(i0, i1, 52).tolist() == (coverage(i0, i1, 52) > 0).tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5), st.integers(0, 4), st.integers(0, 3)),
                min_size=1, max_size=40),
       st.permutations(range(5)), st.integers(0, 5))
def test_exact_matching_read_off_masks_is_that_found_one_by_one(rows, order, n_mapped):
    """``matching._match_exactly`` (speakers' emotions as bit masks, Hall's condition where a
    side has two speakers) gives the counts of matching each region's speakers one by one."""
    import numpy as np

    from teer.engine import matching

    n_emotions = 4
    # rows: (side, region, speaker, emotion); hypothesis speakers 0..4 map to reference ones
    entries = sorted({(side, region, speaker * n_emotions + emotion) for side, region, speaker, emotion in rows})
    regions = np.array(sorted({region for _, region, _ in entries}), np.int64)
    active_items = [(np.array([g for s, _, g in entries if s == side], np.int64),
                     np.array([r for s, r, _ in entries if s == side], np.int64)) for side in (0, 1)]
    mapping = np.full(5, -1, np.int64)
    mapping[list(order[:n_mapped])] = np.arange(n_mapped)
    fast = [np.zeros(6, np.int32), np.zeros(6, np.int32)]
    matching._match_exactly(active_items, mapping, regions, n_emotions, *fast)
    careful = [np.zeros(6, np.int32), np.zeros(6, np.int32)]
    matching._match_one_by_one(active_items, mapping, regions, np.arange(len(regions)), n_emotions, *careful)
    assert fast[0].tolist() == careful[0].tolist() and fast[1].tolist() == careful[1].tolist()


@settings(max_examples=150, deadline=None)
@given(segments, segments, collars)
# two speakers that share two emotions at once
@example([("f0", 0, 50, "A", "hap"), ("f0", 10, 30, "A", "sad"), ("f0", 20, 40, "B", "neu")],
         [("f0", 0, 50, "A", "hap"), ("f0", 10, 30, "A", "sad"), ("f0", 5, 10, "B", "neu")], 0.0)
def test_agreeing_pairs_from_speakers_are_those_from_items(ref, hyp, collar):
    """Where both sides have an emotion on every segment, ``together._pairs_of_speakers`` finds
    the speaker pairs that agree on the emotion from bit masks instead of crossing the items:
    the same speaker pairs, and each agreeing pair's entries in the same regions in the same
    order, the regions with one item on each side first (what the pair sums add, in order)."""
    import numpy as np

    from teer import engine, matcher
    from teer.engine import together as with_whom
    from teer.intervals import active, listed_before

    sw = engine.sweep(table(ref), table(hyp, "h"), collar=collar)
    both = sw.evaluated & (sw.ref.count > 0) & (sw.hyp.count > 0)
    regions, below, e = np.flatnonzero(both), listed_before(both), max(len(sw.emotions), 1)
    items = tuple(active(side.by_speaker_emotion, below) for side in (sw.ref, sw.hyp))
    speakers = [with_whom._active_speakers(side, regions, below, side_items, e)
                for side, side_items in zip((sw.ref, sw.hyp), items)]
    pairs, agreeing = with_whom._pairs_of_speakers(tuple(s for s, _ in speakers), tuple(f for _, f in speakers),
                                                   items, e)
    general = matcher.cooccurring(speakers[0][0], speakers[1][0])
    for name in ("ref", "hyp", "region"):
        assert getattr(pairs, name).tolist() == getattr(general, name).tolist(), name
    assert pairs.single == general.single

    def per_pair(p):
        entries = zip(p.ref.tolist(), p.hyp.tolist(), p.region.tolist(), [i < p.single for i in range(len(p))])
        return sorted(entries, key=lambda entry: entry[:2])  # stable: each pair's entries keep their order

    expected = with_whom._agreeing_of_items(items, e)
    assert per_pair(agreeing) == per_pair(expected) and agreeing.single == expected.single
    assert np.all(np.diff(agreeing.region[agreeing.single:]) >= 0)  # region by region after the first ones


@settings(max_examples=100, deadline=None)
@given(segments, segments, st.sampled_from([0.25, 0.5]), st.booleans(), st.sampled_from(["once", "each"]))
def test_speaker_counts_on_coarse_regions_are_those_on_the_grid(ref, hyp, collar, zones, overlap):
    """Where collars (and no-score zones) split the grid's regions, each side's count of active
    speakers is counted on the coarser regions (``sides._count``) and repeated in their grid
    regions: the same counts as counted on the grid itself."""
    import numpy as np

    from teer import engine
    from teer.intervals import coverage

    noscore = table([("f0", 30, 20, "A", "neu"), ("f1", 100, 5, "B", "neu")]) if zones else None
    sw = engine.sweep(table(ref), table(hyp, "h"), collar=collar, noscore=noscore, same_speaker_overlap=overlap)
    assert sw.coarse is not None
    for side in (sw.ref, sw.hyp):
        on_grid = coverage(side.by_speaker.i0, side.by_speaker.i1, sw.grid.n_regions)
        assert side.count.dtype == on_grid.dtype and side.count.tolist() == on_grid.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.0, 0.1, 0.3, 1e-12, 5e-324, 7.0, 1e6, 1e6 + 1e-9]),
                          st.sampled_from([1.0, -1.0]), st.integers(0, 3)), min_size=1, max_size=60))
def test_file_time_order_by_packed_integer_sort_is_that_of_the_float_argsort(rows):
    """``grid._file_time_order`` sorts small grids by one integer sort of keys without their
    last bits (``_packed_sort``): the same (file, time) order as the float argsort of larger
    grids, and as an exact lexsort, with negative times (collars) and times closer than
    the keys' precision."""
    import numpy as np

    from teer.engine import grid

    f = np.array([file for file, _, _, _ in rows], np.int32)
    # near-equal times: a base time, signed, nudged by a few ulps
    t = np.array([np.nextafter(sign * base, np.inf) if ulps % 2 else sign * base + ulps * 1e-15
                  for _, base, sign, ulps in rows])
    exact = np.lexsort((t, f))
    packed = grid._file_time_order(f, t)
    old_bits = grid.PACKED_INDEX_BITS
    grid.PACKED_INDEX_BITS = 0  # the float argsort
    try:
        by_argsort = grid._file_time_order(f, t)
    finally:
        grid.PACKED_INDEX_BITS = old_bits
    for order in (packed, by_argsort):
        assert f[order].tolist() == f[exact].tolist() and t[order].tolist() == t[exact].tolist()
