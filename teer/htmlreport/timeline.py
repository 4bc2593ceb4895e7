"""Each file's timeline as data for the page: lanes of segments, unscored time, error bands.

Everything is read off the one sweep the report was scored with (``teer.api.run``), so
that the page shows the regions that were scored, not a second computation of them:

* lanes: a reference speaker's segments, each followed by the hypothesis speaker
  mapped to it (``Report.speaker_mapping``, the mapping DER and sTEER used), then the
  unmapped hypothesis speakers; speakers by name, segments by time;
* unscored time, by the step that removes it (``Sweep.removed``, the steps of the report's
  scored-time accounting, ``components.ACCOUNTING``): outside the UEM, no-score zones
  (non-target emotions among them), the region filter, collars;
* error bands: in each scored region, the number of missed and false-alarm speakers
  and of emotion and speaker confusions, the per-region terms of ``Sweep.components``,
  so that a band's seconds times counts add up to its component of the file (under
  ser-align, CONF_emo from the run with speaker := emotion, as the report's).

Times are rounded as in ``teer score`` JSON (``render.round_seconds``); consecutive
regions with the same count are one span.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..render import ACCOUNTING_LABELS, SECOND_DECIMALS, round_seconds, rounded_row

#: the error bands, in the order they are drawn: (key, component)
BANDS = (("missed", "MS"), ("false_alarm", "FA"), ("emotion_confusion", "CONF_emo"),
         ("speaker_confusion", "CONF_spk"))
#: kinds of unscored time (``grey`` spans), by their code in the data: the accounting's steps
UNSCORED = tuple(ACCOUNTING_LABELS.values())
REFERENCE, HYPOTHESIS = 0, 1


def timelines(scoring, files: Sequence[str]) -> dict[str, dict]:
    """``{file: data}`` for ``files`` (names of ``scoring.sweep.files``): see the module's doc."""
    sweep = scoring.sweep
    grid_file = sweep.grid_file
    time = _seconds(sweep.grid_time)
    n = len(time)
    region_file = grid_file[:-1] if n else grid_file
    in_file = np.zeros(max(n - 1, 0), bool)
    in_file[:] = grid_file[1:] == grid_file[:-1]
    scored = sweep.scored[:-1] & in_file
    unscored = np.zeros(len(in_file), np.int64)
    removed = np.flatnonzero(in_file & ~scored)
    # 1 + the step: 0 (no code) stays for scored time
    unscored[removed] = 1 + (sweep.removed.step(removed, sweep.evaluated) if sweep.removed is not None else 0)
    n_ref, n_hyp = sweep.n_ref[:-1].astype(np.int64), sweep.n_hyp[:-1].astype(np.int64)
    agree = np.minimum(n_ref, n_hyp)
    # under ser-align, CONF_emo is the CONF_spk of the sweep with speaker := emotion (same grid)
    by_emotion = scoring.sweeps.get("emotion")
    matched_emo = sweep.matched_emo if by_emotion is None else by_emotion.matched_spk
    counts = {"MS": n_ref - agree, "FA": n_hyp - agree, "CONF_emo": agree - matched_emo[:-1],
              "CONF_spk": agree - sweep.matched_spk[:-1]}
    grey = _runs(region_file, in_file, unscored, time)
    bands = {key: _runs(region_file, scored, np.asarray(counts[key], np.int64), time) for _, key in BANDS}
    position = {name: f for f, name in enumerate(sweep.files)}
    wanted = np.asarray([position[name] for name in files], np.int64)
    lanes = _lanes(scoring, wanted)
    # the grid is sorted by file: a file's points are one range
    first, last = np.searchsorted(grid_file, [wanted, wanted + 1]) if len(wanted) else ([], [])

    out = {}
    for k, name in enumerate(files):
        f = int(wanted[k])
        points = time[first[k]:last[k]]
        extent = ([round_seconds(min(points.min(), 0.0)), round_seconds(points.max())] if len(points)
                  else [0.0, 0.0])
        # before the file's first grid point is outside the UEM too
        lead = [0.0, round_seconds(points.min()), 0] if len(points) and points.min() > 0 else []
        c = scoring.report.files.get(name)
        out[name] = {
            "file": name,
            "extent": extent,
            "row": None if c is None else rounded_row(scoring.report.row(c)),
            "lanes": lanes.get(f, []),
            "grey": lead + _flat(grey, f, offset=-1),
            "bands": [_flat(bands[key], f) for _, key in BANDS],
        }
    return out


def _seconds(times: np.ndarray) -> np.ndarray:
    """The grid's times in seconds (the grid holds integer ticks of 1 ns, ``teer.ticks``)."""
    return times / 10 ** 9 if np.issubdtype(times.dtype, np.integer) else times


def _runs(region_file: np.ndarray, valid: np.ndarray, code: np.ndarray, time: np.ndarray):
    """Maximal runs of consecutive valid regions of one file with the same nonzero code:
    (file, start, end, code) arrays, sorted by file and time."""
    at = np.flatnonzero(valid & (code != 0))
    if len(at) == 0:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty, empty.astype(np.int64)
    new = np.ones(len(at), bool)
    new[1:] = (at[1:] != at[:-1] + 1) | (code[at[1:]] != code[at[:-1]]) | (region_file[at[1:]] != region_file[at[:-1]])
    first = at[new]
    last = at[np.append(np.flatnonzero(new)[1:] - 1, len(at) - 1)]
    return region_file[first].astype(np.int64), time[first], time[last + 1], code[first]


def _flat(runs, f: int, offset: int = 0) -> list:
    """The runs of file ``f`` as one flat list ``[start, end, code, start, end, code, ...]``."""
    file, start, end, code = runs
    lo, hi = np.searchsorted(file, [f, f + 1])
    return _triples(start[lo:hi], end[lo:hi], code[lo:hi] + offset)


def _triples(start: np.ndarray, end: np.ndarray, code: np.ndarray) -> list:
    """``[start, end, code, ...]``, times rounded as ``render.round_seconds`` does (by numpy:
    the same but where the 10th decimal is exactly a half), codes as integers."""
    start, end = (np.round(np.asarray(x, float), SECOND_DECIMALS) + 0.0 for x in (start, end))
    return [v for triple in zip(start.tolist(), end.tolist(), np.asarray(code, np.int64).tolist()) for v in triple]


def _lanes(scoring, wanted: np.ndarray) -> dict[int, list]:
    """Per file index in ``wanted``, its lanes ``[side, speaker, mapped reference speaker or None, segments]``,
    segments a flat list ``[start, end, emotion index or -1, ...]`` sorted by time."""
    sweep = scoring.sweep
    time = _seconds(sweep.grid_time)
    names = {REFERENCE: scoring.ref.speakers, HYPOTHESIS: scoring.hyp.speakers}
    segments = {}
    for role, side in ((REFERENCE, sweep.ref), (HYPOTHESIS, sweep.hyp)):
        order = np.lexsort((side.i1, side.i0, side.speaker))
        speaker = side.speaker[order]
        bounds = np.searchsorted(speaker, np.arange(len(side.speaker_file) + 1))
        start, end = time[side.i0[order]], time[side.i1[order]]
        emotion = side.emotion[order]
        segments[role] = (bounds, start, end, emotion)

    def lane(role: int, side, s: int, mapped: str | None) -> list:
        bounds, start, end, emotion = segments[role]
        lo, hi = bounds[s], bounds[s + 1]
        return [role, names[role][side.speaker_name[s]], mapped, _triples(start[lo:hi], end[lo:hi], emotion[lo:hi])]

    by_file: dict[int, list] = {}
    mapping = scoring.report.speaker_mapping
    # speakers are numbered file by file: a file's are one range
    ref_at = np.searchsorted(sweep.ref.speaker_file, [wanted, wanted + 1]) if len(wanted) else None
    hyp_at = np.searchsorted(sweep.hyp.speaker_file, [wanted, wanted + 1]) if len(wanted) else None
    for k, f in enumerate(wanted):
        def by_name(role, side, lo, hi):
            return sorted(((names[role][side.speaker_name[s]], s) for s in range(lo, hi)))

        refs = by_name(REFERENCE, sweep.ref, ref_at[0][k], ref_at[1][k])
        hyps = by_name(HYPOTHESIS, sweep.hyp, hyp_at[0][k], hyp_at[1][k])
        target = mapping.get(sweep.files[f], {})
        lanes, placed = [], set()
        for speaker, s in refs:
            lanes.append(lane(REFERENCE, sweep.ref, s, None))
            for name, h in hyps:
                if target.get(name) == speaker:
                    lanes.append(lane(HYPOTHESIS, sweep.hyp, h, speaker))
                    placed.add(h)
        lanes += [lane(HYPOTHESIS, sweep.hyp, h, None) for _, h in hyps if h not in placed]
        by_file[int(f)] = lanes
    return by_file
