"""Matching: per region, how many active reference speakers can be paired one-to-one with
a hypothesis speaker that agrees on the emotion (``sides.agrees``: H ⊆ R), with the mapped
speaker, or with both.

``matched_pairs`` (``same_speaker_overlap="once"``) counts pairs of speakers active together
(``together.Together``); ``matched_of_profiles`` (any rule) reads the same counts off
whole-grid overlap profiles. Both are upper bounds where a speaker has several emotions at
once, and ``_exact`` matches those regions exactly (bit masks of each speaker's emotions; by
Hall's condition where one side has one or two speakers, by augmenting paths elsewhere).
The counts are integers, so the fast path and the general one give the same counts, and
the sums over regions (``scoring.Sweep.components``) the same sums.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..intervals import Intervals, coverage, expand, min_profile
from .sides import Side, agrees, several_emotions_spans
from .together import Together


@dataclass(frozen=True)
class Matched:
    """Per region, the size of the best one-to-one match of active reference and
    hypothesis speakers that agree on the emotion, the (mapped) speaker, or both."""

    emo: np.ndarray
    spk: np.ndarray
    emo_spk: np.ndarray


def matched_of_profiles(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int,
                        n: int) -> Matched:
    """The three matched counts of every region, from the speakers' and items' profiles
    (any ``same_speaker_overlap``; ``matched_pairs`` is the faster way under "once")."""
    n_emotions = max(n_emotions, 1)

    mapped = mapping[hyp.by_speaker.group]
    keep = mapped >= 0
    hyp_as_ref = Intervals(mapped[keep], hyp.by_speaker.i0[keep], hyp.by_speaker.i1[keep])
    spk = min_profile(ref.by_speaker, hyp_as_ref, n)

    r_se, h_se = ref.by_speaker_emotion, hyp.by_speaker_emotion
    r_emo = Intervals(r_se.group % n_emotions, r_se.i0, r_se.i1)
    h_emo = Intervals(h_se.group % n_emotions, h_se.i0, h_se.i1)
    emo = min_profile(r_emo, h_emo, n)

    h_spk = h_se.group // n_emotions
    h_map = mapping[h_spk] if len(h_spk) else h_spk
    keep = h_map >= 0
    h_joint = Intervals(h_map[keep] * n_emotions + h_se.group[keep] % n_emotions,
                        h_se.i0[keep], h_se.i1[keep])
    emo_spk = min_profile(r_se, h_joint, n)

    return _exact(ref, hyp, mapping, scored, n_emotions, emo, spk, emo_spk)


def matched_pairs(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int, n: int,
                   together: Together) -> Matched:
    """``matched_of_profiles`` in the scored regions under ``same_speaker_overlap="once"``, from the
    speakers and items active together (``Together``) instead of whole-grid profiles.

    Once merged, a speaker, and a (speaker, emotion) item, is active at most once per
    region on each side, and the mapping is one-to-one: the profile sums of ``matched_of_profiles``
    are then counts of pairs. A mapped speaker pair counts for ``spk``, and where the two
    agree on the emotion (``agrees``) for ``emo_spk``; ``emo`` is the sum over emotions of
    the smaller side's count of items with it (exact where nobody has several emotions
    at once; ``_exact`` matches the other regions). Regions outside ``scored`` count 0.
    """
    n_emotions = max(n_emotions, 1)
    # each count is found per unit (``Together``) and holds in each of its regions
    n_units = len(together.items[0].count)
    # (indices, not the mask: numpy's boolean indexing is several times slower where
    # about half the entries are kept)
    in_scored = np.flatnonzero(scored[together.regions])
    regions, units = together.regions[in_scored], together.unit[in_scored]

    def in_scored_regions(per_unit: np.ndarray) -> np.ndarray:
        out = np.zeros(n, np.int32)
        out[regions] = per_unit[units]
        return out

    spk, emo_spk = (in_scored_regions(np.bincount(pairs.region[np.flatnonzero(mapping[pairs.hyp] == pairs.ref)],
                                                  minlength=n_units))
                    for pairs in (together.unit_speakers, together.unit_agreeing))
    # per (emotion, unit), each side's number of items
    per_emotion = []
    for items in together.items:
        emotion = items.group - items.group // n_emotions * n_emotions
        per_emotion.append(np.bincount(emotion * n_units + items.position,
                                       minlength=n_emotions * n_units).reshape(n_emotions, n_units))
    emo = in_scored_regions(np.minimum(*per_emotion).sum(axis=0))
    return _exact(ref, hyp, mapping, scored, n_emotions, emo, spk, emo_spk, together)


def _exact(ref: Side, hyp: Side, mapping: np.ndarray, scored: np.ndarray, n_emotions: int,
           emo: np.ndarray, spk: np.ndarray, emo_spk: np.ndarray, together: Together | None = None) -> Matched:
    """The matched counts, made exact where one speaker has several emotions at once."""
    # Where one speaker has several emotions at once (its own segments overlap), the
    # counts of ``emo`` are upper bounds. Where only reference speakers have several,
    # capped at min(n_ref, n_hyp) they are exact when either side has a single speaker
    # (it agrees with a speaker of the other side if they share its one emotion or one of
    # its emotions); those regions and those where a hypothesis speaker has several
    # emotions (it agrees only where all of them are right, ``agrees``) are matched exactly.
    agree = np.minimum(ref.count, hyp.count)
    np.minimum(emo, agree, out=emo)
    np.minimum(emo_spk, agree, out=emo_spk)
    multi = np.zeros(len(agree), bool)
    hyp_multi = np.zeros(len(agree), bool)
    if together is not None:  # (the regions where both sides speak are those that matter)
        multi[together.regions] = together.several[together.unit]
        hyp_multi[together.regions] = together.hyp_several[together.unit]
    else:
        for side, flags in ((ref, multi), (hyp, hyp_multi)):
            flags |= coverage(*several_emotions_spans(side, n_emotions, len(agree)), len(agree)) > 0
        multi |= hyp_multi
    hard = np.flatnonzero(((multi & (agree >= 2)) | (hyp_multi & (agree >= 1))) & scored)
    if len(hard):
        # each side's active (item, region) there: from ``together`` (the hard regions are
        # among its regions: both sides speak), else by expanding the items
        if together is not None:
            active_items = [together.items_in(side, hard) for side in (0, 1)]
        else:
            active_items = []
            for iv in (ref.by_speaker_emotion, hyp.by_speaker_emotion):
                which, region = expand(iv, hard)
                active_items.append((iv.group[which], region))
        _match_exactly(active_items, mapping, hard, n_emotions, emo, emo_spk)
    return Matched(emo, spk, emo_spk)


def _match_exactly(active_items: Sequence[tuple[np.ndarray, np.ndarray]], mapping: np.ndarray,
                   regions: np.ndarray, n_emotions: int, emo: np.ndarray, emo_spk: np.ndarray) -> None:
    """Set ``emo`` and ``emo_spk`` of ``regions`` (sorted) by matching their active speakers
    exactly (``active_items``: per side, the (item, region) of its items active there).

    A speaker's emotions in a region are the bits of a mask; two speakers can match where
    they agree (``agrees``). ``emo_spk`` counts the mapped pairs that can. ``emo``, the size
    of a largest matching, is read off where one side has one speaker (it has a partner)
    or two (by Hall's condition: each has a partner, and the two have two partners
    between them) and found by augmenting paths in the other regions.
    """
    m = len(regions)
    if n_emotions > 62:  # masks as Python ints
        _match_one_by_one(active_items, mapping, regions, np.arange(m), n_emotions, emo, emo_spk)
        return
    (ref_at, ref_speaker, ref_mask), (hyp_at, hyp_speaker, hyp_mask) = (
        _speaker_masks(items, np.searchsorted(regions, item_region), n_emotions) for items, item_region in active_items)
    # emo_spk: each hypothesis speaker's mapped speaker, looked up among the reference's in its region
    span = int(max(ref_speaker.max(initial=0), mapping.max(initial=0))) + 1
    ref_key = ref_at * span + ref_speaker
    target = mapping[hyp_speaker]
    key = hyp_at * span + target
    at = np.minimum(np.searchsorted(ref_key, key), max(len(ref_key) - 1, 0))
    if len(ref_key):
        meet = (target >= 0) & (ref_key[at] == key) & agrees(ref_mask[at], hyp_mask)
    else:
        meet = np.zeros(len(key), bool)
    emo_spk[regions] = np.bincount(hyp_at[meet], minlength=m)
    # emo where one side has one or two speakers
    n_ref, n_hyp = np.bincount(ref_at, minlength=m), np.bincount(hyp_at, minlength=m)
    few_ref = (n_ref == 1) | (n_ref == 2)
    few_hyp = ((n_hyp == 1) | (n_hyp == 2)) & ~few_ref
    for few, (few_mask, few_count), (other_at, other_mask), few_is_ref in (
            (few_ref, (ref_mask, n_ref), (hyp_at, hyp_mask), True),
            (few_hyp, (hyp_mask, n_hyp), (ref_at, ref_mask), False)):
        if not few.any():
            continue
        first = (np.cumsum(few_count) - few_count)[other_at]
        use = few[other_at]

        def meets(k: int) -> np.ndarray:  # the other side's speakers that agree with the k-th of the few
            mask = few_mask[np.minimum(first + k, len(few_mask) - 1)]
            return agrees(mask, other_mask) if few_is_ref else agrees(other_mask, mask)

        meets_first = use & meets(0)
        meets_second = use & (few_count[other_at] == 2) & meets(1)
        with_first = np.bincount(other_at[meets_first], minlength=m)
        with_second = np.bincount(other_at[meets_second], minlength=m)
        with_either = np.bincount(other_at[meets_first | meets_second], minlength=m)
        one_only = (with_first == 0) | (with_second == 0) | (with_either == 1)
        size = np.where(with_either == 0, 0, np.where(one_only, 1, 2))
        emo[regions[few]] = size[few]
    rest = np.flatnonzero(~few_ref & ~few_hyp)
    if len(rest):
        _match_one_by_one(active_items, mapping, regions, rest, n_emotions, emo, emo_spk, emo_only=True)


def _speaker_masks(items: np.ndarray, position: np.ndarray, n_emotions: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (position, speaker) of the active ``items`` (at ``position``), in that order:
    position, speaker and its emotions as the bits of a mask."""
    speaker = items // n_emotions
    emotion = items - speaker * n_emotions
    order = np.lexsort((speaker, position))
    position, speaker, emotion = position[order], speaker[order], emotion[order]
    if len(position) == 0:
        return position, speaker, np.zeros(0, np.int64)
    start = np.flatnonzero(np.r_[True, (position[1:] != position[:-1]) | (speaker[1:] != speaker[:-1])])
    mask = np.bitwise_or.reduceat(np.left_shift(np.int64(1), emotion.astype(np.int64)), start)
    return position[start], speaker[start], mask


def _match_one_by_one(active_items: Sequence[tuple[np.ndarray, np.ndarray]], mapping: np.ndarray,
                      regions: np.ndarray, which: np.ndarray, n_emotions: int, emo: np.ndarray,
                      emo_spk: np.ndarray, emo_only: bool = False) -> None:
    """``_match_exactly`` of ``regions[which]``, a region at a time (``emo_only``: leave ``emo_spk``)."""
    wanted = set(regions[which].tolist())
    # per side, region -> speaker -> its emotions as the bits of an int
    by_side = []
    for items, item_region in active_items:
        per_region: dict[int, dict[int, int]] = {}
        for g, r in zip(items.tolist(), item_region.tolist()):
            if r in wanted:
                speakers = per_region.setdefault(r, {})
                speaker, emotion = divmod(g, n_emotions)
                speakers[speaker] = speakers.get(speaker, 0) | 1 << emotion
        by_side.append(per_region)
    mapped = mapping.tolist()
    for r in sorted(wanted):
        ref_items = by_side[0].get(r, {})
        hyp_items = by_side[1].get(r, {}).items()
        edges = {s: [h for h, hyp_emotions in hyp_items if agrees(emotions, hyp_emotions)]
                 for s, emotions in ref_items.items()}
        emo[r] = max_matching(edges)
        if not emo_only:
            emo_spk[r] = sum(1 for s, hyps in edges.items() for h in hyps if mapped[h] == s)


def max_matching(edges: dict[int, list[int]], owner: dict[int, int] | None = None) -> int:
    """Size of a maximum bipartite matching (Kuhn's algorithm; graphs here are tiny) of
    ``edges`` (left node -> its right nodes); ``owner``, where given, receives the matching
    (right node -> its left node)."""
    owner = {} if owner is None else owner

    def augment(s: int, seen: set[int]) -> bool:
        for h in edges[s]:
            if h in seen:
                continue
            seen.add(h)
            if h not in owner or augment(owner[h], seen):
                owner[h] = s
                return True
        return False

    return sum(augment(s, set()) for s in edges)
