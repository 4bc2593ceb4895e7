"""teer.matcher: the speaker mapping, for tiny segments, many speakers and both assignment paths."""
from __future__ import annotations

import pytest

import teer
from teer import matcher
from teer.io import from_records

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
    ref_t, hyp_t = from_records(ref), from_records(hyp)
    dense = [teer.score(ref_t, hyp_t, collar=c).to_dict() for c in (0.0, 0.25)]
    tied_ref = table(("a", 0, 10, "A", "hap"), ("a", 0, 10, "B", "sad"))
    tied_hyp = table(("a", 0, 10, "X", "sad"), ("a", 0, 10, "Y", "hap"))
    # force the path taken when n_files * k_ref * k_hyp exceeds matcher.DENSE_KEYS
    monkeypatch.setattr(matcher, "DENSE_KEYS", 0)
    assert [teer.score(ref_t, hyp_t, collar=c).to_dict() for c in (0.0, 0.25)] == dense
    assert total(tied_ref, tied_hyp).CONF_emo_spk == 0  # the tie is decided by emotion agreement


# --------------------------------------------------------------------------
# the lexicographic rule: md-eval's overlap, then scored overlap, then scored agreement


def _mapped(ref, hyp, **kw):
    """{hyp speaker: ref speaker} of the optimal mapping of one file."""
    from teer import engine

    sw = engine.sweep(ref, hyp, **kw)
    return {hyp.speakers[sw.hyp.speaker_name[h]]: ref.speakers[sw.ref.speaker_name[s]]
            for h, s in enumerate(sw.mapping.tolist()) if s >= 0}


def _renamed(rows, names):
    return [(f, s, e, names.get(k, k), m) for f, s, e, k, m in rows]


def test_a_tie_of_overlap_before_collars_goes_to_the_most_scored_overlap():
    # X and Y each speak 2 s with A; the collar around A's start takes 0.25 s of X's.
    # X agrees with A on the emotion, Y does not: before, that decided the tie (X), and DER
    # was worse than under md-eval's other, equally good mapping (Y)
    ref = [("a", 0, 10, "A", "hap")]
    hyp = [("a", 0, 2, "X", "hap"), ("a", 4, 6, "Y", "sad")]
    for names in ({}, {"X": "Y", "Y": "X"}):
        for rows in (hyp, hyp[::-1]):
            ours = _renamed(rows, names)
            assert _mapped(table(*ref), table(*ours), collar=0.25) == {names.get("Y", "Y"): "A"}
            c = total(table(*ref), table(*ours), collar=0.25)
            # scored: 9.5 s of A; missed 5.75; X's 1.75 s unmapped: confusion
            assert (c.TOTAL, c.MS, c.CONF_spk) == (9.5, 5.75, 1.75)
    worse = total(table(*ref), table(*hyp), collar=0.25, speaker_map={("a", "X"): "A"})
    assert worse.CONF_spk == 2 and worse.DER > c.DER


def test_a_tie_of_both_overlaps_goes_to_the_most_scored_agreement():
    # {X: A, Y: C} and {Y: A, X: B} overlap 2.5 s before collars and 1 s on scored time
    # (B's and C's whole speech is in their collars). Before collars X agrees with A for
    # 1.25 s and Y for 1 s; on scored time X for 0.25 s and Y for 1 s: Y is mapped to A
    ref = [("a", 0, 10, "A", "hap"), ("a", 3, 3.5, "B", "neu"), ("a", 7, 7.5, "C", "neu")]
    hyp = [("a", 2, 2.5, "X", "sad"), ("a", 2.5, 3.75, "X", "hap"), ("a", 3.75, 4, "X", "sad"),
           ("a", 6, 6.75, "Y", "hap"), ("a", 6.75, 7.75, "Y", "sad"), ("a", 7.75, 8, "Y", "hap")]
    ours = total(table(*ref), table(*hyp), collar=0.25)
    for names in ({}, {"X": "Y", "Y": "X"}, {"A": "Z"}):
        for rows in (hyp, hyp[::-1]):
            renamed = _renamed(rows, names)
            mapped = _mapped(table(*_renamed(ref, names)), table(*renamed), collar=0.25)
            assert mapped[names.get("Y", "Y")] == names.get("A", "A")
            assert total(table(*_renamed(ref, names)), table(*renamed), collar=0.25) == ours
    other = total(table(*ref), table(*hyp), collar=0.25, speaker_map={("a", "X"): "A", ("a", "Y"): "C"})
    assert other.DER == ours.DER and other.CONF_emo_spk - ours.CONF_emo_spk == 0.75
    assert ours.sTEER < other.sTEER


def test_a_tie_decided_by_a_nanosecond_of_agreement_in_an_hour():
    # X and Y each speak an hour with A; X says sad in its last nanosecond. Overlaps of
    # 2**41.7 ticks: a tie term in a double (the old rule) lost that tick of agreement
    hour = 3600.0
    ref = [("a", 0, 2 * hour, "A", "hap")]
    hyp = [("a", 0, hour - 1e-9, "X", "hap"), ("a", hour - 1e-9, hour, "X", "sad"), ("a", hour, 2 * hour, "Y", "hap")]
    for rows in (hyp, hyp[::-1], _renamed(hyp, {"X": "Y", "Y": "X"})):
        assert total(table(*ref), table(*rows), collar=0).CONF_emo_spk == hour


@pytest.mark.parametrize("path", ["key by key", "python integers", "sparse"])
@pytest.mark.parametrize("seed", range(40))
def test_the_assignment_is_the_lexicographic_optimum(seed, path, monkeypatch):
    # brute force over every one-to-one matching of small problems full of ties, with keys
    # far beyond a double's 53 bits when added up as one number; by scipy's solver key by
    # key (sums exact in doubles), and over Python integers (sums too large for doubles).
    # The sparse path (huge files) breaks ties by a tie term in doubles: exact on small keys
    import itertools

    import numpy as np

    if path == "python integers":
        monkeypatch.setattr(matcher, "EXACT_IN_DOUBLE", 0.0)
    if path == "sparse":
        if seed % 2:
            return
        monkeypatch.setattr(matcher, "DENSE_CELLS", 0)
    rng = np.random.default_rng(seed)
    n_rows, n_cols = (int(x) for x in rng.integers(1, 5, size=2))
    scale = [1, 2 ** 40][seed % 2]
    cells = [(i, j) for i in range(n_rows) for j in range(n_cols) if rng.random() < 0.8]
    if not cells:
        return
    r, c = (np.asarray([x[k] for x in cells], np.int64) for k in (0, 1))
    overlap = rng.integers(1, 4, len(cells)) * scale
    scored = np.minimum(overlap, rng.integers(0, 3, len(cells)) * scale + rng.integers(0, 2, len(cells)))
    agreement = np.minimum(scored, rng.integers(0, 3, len(cells)))
    key = {cell: (int(p), int(s), int(a)) for cell, p, s, a in zip(cells, overlap, scored, agreement)}

    def value(matching):
        return tuple(sum(key[m][k] for m in matching) for k in range(3))

    best = max(value([(i, j) for i, j in zip(rows, perm) if j is not None and (i, j) in key])
               for rows in [range(n_rows)]
               for perm in itertools.permutations(list(range(n_cols)) + [None] * n_rows, n_rows))
    ri, ci = matcher.max_key_matching(r, c, n_rows, n_cols, overlap, scored, agreement)
    assert len(set(ri.tolist())) == len(ri) and len(set(ci.tolist())) == len(ci)
    assert value(list(zip(ri.tolist(), ci.tolist()))) == best


@pytest.mark.parametrize("seed", range(4))
def test_key_by_key_and_python_integers_agree_on_larger_tied_problems(seed):
    # 40 x 30 speakers, overlaps of 1-3 units: many matchings of equal overlap
    import numpy as np

    rng = np.random.default_rng(seed)
    n_rows, n_cols = 40, 30
    cells = np.flatnonzero(rng.random(n_rows * n_cols) < 0.3)
    r, c = cells // n_cols, cells % n_cols
    overlap = rng.integers(1, 4, len(cells)) * 2 ** 30
    scored = np.minimum(overlap, rng.integers(0, 4, len(cells)) * 2 ** 29)
    agreement = np.minimum(scored, rng.integers(0, 5, len(cells)))
    key = {(i, j): (p, s, a) for i, j, p, s, a in zip(r.tolist(), c.tolist(), overlap.tolist(), scored.tolist(),
                                                      agreement.tolist())}

    def value(ri, ci):
        assert len(set(ri.tolist())) == len(ri) and len(set(ci.tolist())) == len(ci)
        return tuple(sum(key[m][k] for m in zip(ri.tolist(), ci.tolist())) for k in range(3))

    staged = value(*matcher._staged_matching(r, c, n_rows, n_cols, (overlap, scored, agreement)))
    shift = 64
    matrix = [[0] * n_rows for _ in range(n_cols)]  # (transposed: no more rows than columns)
    for (i, j), (p, s, a) in key.items():
        matrix[j][i] = (p << 2 * shift) | (s << shift) | a
    col_of_row = matcher.exact_assignment(matrix)
    chosen = [(i, j) for j, i in enumerate(col_of_row) if matrix[j][i] > 0]
    python = value(np.asarray([x[0] for x in chosen]), np.asarray([x[1] for x in chosen]))
    assert staged == python


def _tied_files(data):
    """Several files of 1-4 x 1-4 speakers, overlaps of 1-3 units (many ties, and many files
    whose row or column maxima are unique), pair keys as ``matcher.overlaps`` makes them."""
    import numpy as np
    from hypothesis import strategies as st

    k_ref, k_hyp = 4, 4
    n_files = data.draw(st.integers(1, 6))
    pair, ref_file, hyp_file = [], [], []
    for f in range(n_files):
        rows, cols = data.draw(st.integers(1, k_ref)), data.draw(st.integers(1, k_hyp))
        ref_file += [f] * rows
        hyp_file += [f] * cols
        cells = data.draw(st.sets(st.tuples(st.integers(0, rows - 1), st.integers(0, cols - 1)), min_size=1))
        pair += [(f * k_ref + i) * k_hyp + j for i, j in cells]
    pair = np.sort(np.asarray(pair, np.int64))
    n = len(pair)

    def key(low, high):
        return np.asarray(data.draw(st.lists(st.integers(low, high), min_size=n, max_size=n)), np.int64)

    overlap = key(1, 3) * 7
    scored = np.minimum(overlap, key(0, 3) * 5)
    agreement = np.minimum(scored, key(0, 3))
    return (matcher.PairOverlaps(pair, overlap, scored, agreement, k_ref, k_hyp),
            np.asarray(ref_file, np.int64), np.asarray(hyp_file, np.int64))


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_files_solved_without_the_solver_get_the_general_paths_mapping(layout, monkeypatch):
    # ``greedy_unique`` maps most files (each row's, or each column's, unique maximum)
    # without scipy: on random problems full of ties, the mapping must be the general
    # path's (scipy, uniqueness check, keys 2-3), file for file; and the files it takes
    # must have one optimum of key 1 (brute force)
    import itertools

    import numpy as np
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    if layout == "sparse":
        monkeypatch.setattr(matcher, "DENSE_CELLS", 0)

    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def check(data):
        pairs, ref_file, hyp_file = _tied_files(data)
        fast = np.full(len(hyp_file), -1, np.int64)
        matcher.assign(fast, pairs, ref_file, hyp_file)
        general = np.full(len(hyp_file), -1, np.int64)
        with monkeypatch.context() as m:
            m.setattr(matcher, "greedy_unique", lambda row, col, overlap, of_file, n_files: (
                np.zeros(n_files, bool), np.zeros(0, np.int64)))
            matcher.assign(general, pairs, ref_file, hyp_file)
        assert fast.tolist() == general.tolist()
        # the files taken without the solver: their optimum of key 1 is unique
        file, local = np.divmod(pairs.pair, pairs.k_ref * pairs.k_hyp)
        row, col = np.divmod(local, pairs.k_hyp)
        files = np.unique(file)
        solved = [files, None]
        for swap in (False, True):
            first, second = (col, row) if swap else (row, col)
            order = np.lexsort((second, first, file))
            ok, _ = matcher.greedy_unique((file * 4 + first)[order], (file * 4 + second)[order],
                                          pairs.overlap[order], np.searchsorted(files, file[order]), len(files))
            solved[swap] = ok
        for f in files[solved[0] | solved[1]]:
            at = np.flatnonzero(file == f)
            weight = {(int(i), int(j)): int(w) for i, j, w in zip(row[at], col[at], pairs.overlap[at])}
            perms = list(itertools.permutations(list(range(4)) + [None] * 4, 4))
            values = [sum(weight.get((i, j), 0) for i, j in enumerate(perm) if j is not None) for perm in perms]
            top = max(values)
            matchings = {frozenset((i, j) for i, j in enumerate(perm) if (i, j) in weight)
                         for perm, v in zip(perms, values) if v == top}
            assert len(matchings) == 1

    check()


def test_prices_and_a_second_solve_agree_whether_the_sparse_optimum_is_unique():
    # ``_unique_by_prices`` (a shortest-path certificate from the first solve) against
    # ``_unique_optimum`` (a second solve), on random problems full of ties: equal
    # overlaps, rows and columns of several pairs, unmatched rows and columns
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    seen = set()

    @settings(max_examples=400, deadline=None)
    @given(st.data())
    def check(data):
        n_rows, n_cols = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
        cells = sorted(data.draw(st.sets(st.tuples(st.integers(0, n_rows - 1), st.integers(0, n_cols - 1)),
                                         min_size=1)))
        r, c = (np.asarray([x[k] for x in cells], np.int64) for k in (0, 1))
        overlap = np.asarray(data.draw(st.lists(st.integers(1, 3), min_size=len(cells), max_size=len(cells))),
                             np.int64)
        if data.draw(st.booleans()):  # the same pairs in another order
            order = np.asarray(data.draw(st.permutations(range(len(cells)))), np.int64)
            r, c, overlap = r[order], c[order], overlap[order]
        ri, ci = matcher._sparse_matching(r, c, n_rows, n_cols, overlap.astype(np.float64))
        by_prices = matcher._unique_by_prices(r, c, n_rows, n_cols, overlap, ri, ci)
        assert by_prices is not None  # (a few rounds settle so small a graph)
        assert by_prices == matcher._unique_optimum(r, c, n_rows, n_cols, overlap, ri, ci,
                                                    matcher._sparse_matching)
        seen.add(by_prices)

    check()
    assert seen == {True, False}


def test_prices_that_do_not_settle_leave_the_question_to_a_second_solve(monkeypatch):
    # a chain of pairs whose prices take a round per link (row i gains 1 by column i + 1);
    # capped, the sparse path still finds the same one optimum: rows 0-37 one column on,
    # row 38 unmatched, row 39 on its own column
    import numpy as np

    n = 40
    r = np.r_[np.arange(n), np.arange(n - 1)]
    c = np.r_[np.arange(n), np.arange(1, n)]
    overlap = np.r_[np.full(n - 1, 5), n + 5, np.full(n - 1, 6)].astype(np.int64)
    ri, ci = matcher._sparse_matching(r, c, n, n, overlap.astype(np.float64))
    assert matcher._unique_by_prices(r, c, n, n, overlap, ri, ci) is True
    monkeypatch.setattr(matcher, "PRICE_ROUNDS", 2)
    assert matcher._unique_by_prices(r, c, n, n, overlap, ri, ci) is None
    monkeypatch.setattr(matcher, "DENSE_CELLS", 0)
    ri, ci = matcher.max_key_matching(r, c, n, n, overlap, overlap, overlap)
    assert ri.tolist() == [*range(n - 2), n - 1] and ci.tolist() == [*range(1, n - 1), n - 1]
