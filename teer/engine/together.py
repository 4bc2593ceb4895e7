"""Who is active together: where both sides speak, each side's active speakers and
(speaker, emotion) items, region by region, and the pairs of speakers active together.

All of it is found on the coarser regions that collars split (``sides.Coarse``), where the
same speakers speak, and repeated into the grid's regions (``_refine``). Where every segment
has an emotion, the speakers are read off the items and the agreeing pairs off the
speakers' emotion masks (``_pairs_of_speakers``), a fast path beside the general one
(``_agreeing_of_items``); both list each pair's entries in the same order, which the pair
sums of the mapping need (the summation-order rule, ``teer.engine``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import matcher
from ..intervals import Active, active, listed_before
from .sides import Coarse, Side, agrees


@dataclass(frozen=True)
class Together:
    """Where both sides speak (``regions``): each side's (speaker, emotion) items active
    there, the pairs of speakers active together, and the pairs of those that agree on
    the emotion there (``agrees``).

    All of it is found on a list of units: ``regions`` themselves, or where collars split
    regions, the coarser regions they split (``Coarse``), in which the same speakers speak.
    """

    regions: np.ndarray
    #: per side (reference, hypothesis), its items active in each unit
    items: tuple[Active, Active]
    #: per unit, whether a speaker there has several emotions at once (on either side) ...
    several: np.ndarray
    #: ... and whether a hypothesis speaker does
    hyp_several: np.ndarray
    #: per region of ``regions``, its unit
    unit: np.ndarray
    #: the pairs in each unit (``Pairs.region``: the unit)
    unit_speakers: matcher.Pairs
    unit_agreeing: matcher.Pairs
    #: the same pairs in each of ``regions``, for the pair sums of the mapping (``_refine``)
    speakers: matcher.Pairs
    agreeing: matcher.Pairs

    def items_in(self, side: int, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(item, region) of a side's items active in ``regions`` (sorted, among ``self.regions``)."""
        items = self.items[side]
        at = self.unit[np.searchsorted(self.regions, regions)]
        count = items.count[at]
        k = np.arange(count.sum()) + np.repeat(items.first[at] - (np.cumsum(count) - count), count)
        return items.group[k], np.repeat(regions, count)


def _refine(coarse: Coarse, pairs: matcher.Pairs) -> matcher.Pairs:
    """``pairs`` in ``coarse`` regions (each pair once per region) as the same pairs in each
    grid region of those.

    The pair sums need each pair's entries in region order, those of the regions with
    one pair on each side first: the pairs are repeated pair after pair, each in its
    grid regions. (The summation-order rule: the mapping's pair sums then add the same
    terms in the same order as on the grid's own regions, ``together_of`` without
    ``coarse``.)
    """
    c = pairs.region
    if len(c) == 0:
        return pairs
    n_fine = coarse.size[c]
    at = np.repeat(np.arange(len(c)), n_fine)
    # the k-th entry of a pair is its coarse region's k-th grid region: entry j is
    # grid region j - (the pair's first entry) + (the coarse region's first point)
    first_entry = np.cumsum(n_fine) - n_fine
    fine = np.arange(len(at))
    fine += (coarse.point[c] - first_entry)[at]
    return matcher.Pairs(pairs.ref, pairs.hyp, fine, int(n_fine[:pairs.single].sum()), at)


def together_of(ref: Side, hyp: Side, both: np.ndarray, n_emotions: int, coarse: Coarse | None = None) -> Together:
    """``Together`` in the regions ``both`` (a mask over the grid's regions), found on the
    ``coarse`` regions where collars split the grid's (the same, with less to sort) and
    then repeated in each of their grid regions."""
    regions = np.flatnonzero(both)
    if coarse is not None:
        # who speaks, and so whether both sides do, is the same in a coarse region's grid regions
        on_coarse = together_of(coarse.side(ref), coarse.side(hyp), both[coarse.point], n_emotions)
        unit = np.zeros(len(coarse.point), np.int64)
        unit[on_coarse.regions] = np.arange(len(on_coarse.regions))
        return Together(regions, on_coarse.items, on_coarse.several, on_coarse.hyp_several,
                        unit[coarse.rank[regions]], on_coarse.unit_speakers, on_coarse.unit_agreeing,
                        _refine(coarse, on_coarse.speakers), _refine(coarse, on_coarse.agreeing))
    below = listed_before(both)
    items = tuple(active(side.by_speaker_emotion, below) for side in (ref, hyp))
    (ref_speakers, ref_first_item), (hyp_speakers, hyp_first_item) = (
        _active_speakers(side, regions, below, side_items, n_emotions) for side, side_items in zip((ref, hyp), items))
    n_emotions = max(n_emotions, 1)
    if ref_first_item is None or hyp_first_item is None or n_emotions > 62:
        speakers = matcher.cooccurring(ref_speakers, hyp_speakers)
        agreeing = _agreeing_of_items(items, n_emotions)
    else:
        speakers, agreeing = _pairs_of_speakers((ref_speakers, hyp_speakers), (ref_first_item, hyp_first_item),
                                               items, n_emotions)

    def in_regions(pairs: matcher.Pairs) -> matcher.Pairs:
        return matcher.Pairs(pairs.ref, pairs.hyp, regions[pairs.region], pairs.single)

    ref_several, hyp_several = (
        _several_emotions(side_items, n_emotions) if first_item is None else side_items.count > side_speakers.count
        for side_items, side_speakers, first_item in ((items[0], ref_speakers, ref_first_item),
                                                       (items[1], hyp_speakers, hyp_first_item)))
    several = ref_several | hyp_several
    return Together(regions, items, several, hyp_several, np.arange(len(regions)), speakers, agreeing,
                    in_regions(speakers), in_regions(agreeing))


def _several_emotions(items: Active, n_emotions: int) -> np.ndarray:
    """Per region of ``items`` (a side's active items), whether one of its speakers has
    several emotions at once there (where some speakers have no emotion, the counts of
    items and speakers do not tell)."""
    speaker = items.group // n_emotions
    # a speaker's items in one region are adjacent (sorted by speaker * n_emotions + emotion)
    repeated = (speaker[1:] == speaker[:-1]) & (items.position[1:] == items.position[:-1])
    out = np.zeros(len(items.count), bool)
    out[items.position[1:][repeated]] = True
    return out


def _active_speakers(side: Side, regions: np.ndarray, below: np.ndarray, items: Active, n_emotions: int
                     ) -> tuple[Active, np.ndarray | None]:
    """A side's speakers active in ``regions`` (``intervals.active`` of ``by_speaker``; ``below``:
    ``listed_before`` of them), read off its active ``items`` where every segment has an
    emotion: a region's speakers are then its items' speakers, each once. With them, the
    index of each one's first item (None where not read off the items)."""
    count = side.count[regions]
    if not side.labelled:
        return active(side.by_speaker, below), None
    speakers = items.group // max(n_emotions, 1)
    if np.array_equal(items.count, count):  # nobody has two emotions at once
        return Active(speakers, items.position, count, items.first), np.arange(len(speakers))
    # a speaker's items in one region are adjacent (sorted by speaker * n_emotions +
    # emotion): each but the first repeats the one before
    repeated = np.zeros(len(speakers), bool)
    repeated[1:] = (speakers[1:] == speakers[:-1]) & (items.position[1:] == items.position[:-1])
    first_item = np.flatnonzero(~repeated)
    return Active(speakers[first_item], items.position[first_item], count, np.cumsum(count) - count), first_item


def _agreeing_of_items(items: tuple[Active, Active], n_emotions: int) -> matcher.Pairs:
    """The pairs of speakers active together that agree on the emotion (``agrees``), once per
    region, from the pairs of their items active together (``matcher.cooccurring``): a pair
    agrees where the items with one emotion on both sides are as many as the hypothesis
    speaker's items there."""
    item_pairs = matcher.cooccurring(*items)
    ref_speaker, hyp_speaker = item_pairs.ref // n_emotions, item_pairs.hyp // n_emotions
    same = np.flatnonzero(item_pairs.ref - ref_speaker * n_emotions == item_pairs.hyp - hyp_speaker * n_emotions)
    region, ref_speaker, hyp_speaker = item_pairs.region[same], ref_speaker[same], hyp_speaker[same]
    # per (region, reference speaker, hypothesis speaker) with an emotion in common: how many
    order = np.lexsort((hyp_speaker, ref_speaker, region))
    new = np.r_[True, (np.diff(region[order]) != 0) | (np.diff(ref_speaker[order]) != 0)
                | (np.diff(hyp_speaker[order]) != 0)] if len(order) else np.zeros(0, bool)
    first = order[new]
    shared = np.diff(np.r_[np.flatnonzero(new), len(order)])
    # ... and the hypothesis speaker's number of emotions there (its items are adjacent)
    hyp_items = items[1]
    h_speaker = hyp_items.group // n_emotions
    h_new = np.r_[True, (h_speaker[1:] != h_speaker[:-1]) | (hyp_items.position[1:] != hyp_items.position[:-1])]
    h_first = np.flatnonzero(h_new) if len(h_speaker) else np.zeros(0, np.int64)
    h_count = np.diff(np.r_[h_first, len(h_speaker)])
    h_key = hyp_items.position[h_first].astype(np.int64) * (int(h_speaker.max(initial=0)) + 1) + h_speaker[h_first]
    key = region[first].astype(np.int64) * (int(h_speaker.max(initial=0)) + 1) + hyp_speaker[first]
    own = h_count[np.searchsorted(h_key, key)] if len(key) else np.zeros(0, np.int64)
    # the agreeing pairs in the order of the item pairs (the first regions with one item each)
    keep = np.sort(first[shared == own])
    return matcher.Pairs(ref_speaker[keep], hyp_speaker[keep], region[keep],
                         int(np.count_nonzero(same[keep] < item_pairs.single)))


def _pairs_of_speakers(speakers: tuple[Active, Active], first_item: tuple[np.ndarray, np.ndarray],
                       items: tuple[Active, Active], n_emotions: int) -> tuple[matcher.Pairs, matcher.Pairs]:
    """The pairs of speakers active together, and ``_agreeing_of_items`` from them without the
    items' own cross products, where both sides' speakers were read off their items.

    A speaker's emotions in a region are the bits of a mask (``agrees``). The pair sums
    need each pair's entries in the order of the item pairs: first the regions with one
    item on each side, then region by region.
    """
    masks = []
    for side_items, first in zip(items, first_item):
        speaker = side_items.group // n_emotions
        bit = np.left_shift(np.int64(1), side_items.group - speaker * n_emotions)
        masks.append(bit if len(first) == len(bit) else np.bitwise_or.reduceat(bit, first))
    # the cross products of the speakers' entries (their indices as the groups)
    entry = matcher.cooccurring(*(Active(np.arange(len(s.group)), s.position, s.count, s.first) for s in speakers))
    ref_speaker, hyp_speaker = speakers[0].group[entry.ref], speakers[1].group[entry.hyp]
    pairs = matcher.Pairs(ref_speaker, hyp_speaker, entry.region, entry.single)
    agree = agrees(masks[0][entry.ref], masks[1][entry.hyp])
    one_item_each = ((items[0].count == 1) & (items[1].count == 1))[entry.region]
    # regions with one item on each side have one speaker on each side: they come first
    # among the speaker pairs too, in region order
    first = np.flatnonzero(one_item_each & agree)
    then = np.flatnonzero(~one_item_each & agree)
    then = then[np.argsort(entry.region[then], kind="stable")]
    order = np.concatenate([first, then])
    return pairs, matcher.Pairs(ref_speaker[order], hyp_speaker[order], entry.region[order], len(first))
