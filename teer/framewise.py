"""Frame-wise system output as segments, by SpeechBrain's rules for EDER.

A system that labels fixed windows (frame ``i`` covers ``[i·stride, i·stride +
window]``) is turned into segments as ``speechbrain.utils.EDER`` does before it
scores them:

1. **merge**: consecutive frames with the same label join while each frame
   starts no later than the previous one ends (with ``stride > window`` frames
   do not touch, so nothing merges and the gaps between frames are silence);
2. **split**: where two consecutive merged segments overlap, the overlap is
   divided half and half: the earlier one ends, and the later one starts, in
   its middle.

Times are computed with the same floating-point operations as SpeechBrain, so
the boundaries agree to the last bit, except where SpeechBrain's two halves of
a split disagree by a rounding step and would overlap: there the later segment
starts where the earlier one ends, so that a speaker never overlaps itself.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .segments import encode


def check_frame_step(window: object, stride: object) -> tuple[float, float]:
    """``window`` and ``stride`` as floats; ``ValueError`` unless both are finite and positive."""
    values = []
    for name, value in (("window", window), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{name} must be a number of seconds, not {value!r}")
        value = float(value)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number of seconds, not {value!r}")
        values.append(value)
    return values[0], values[1]


def frame_segments(codes: np.ndarray, window: float, stride: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start, end and label code of the segments of frames labelled ``codes``.

    ``codes`` are integer labels (equal codes, equal labels); ``window`` and
    ``stride`` are checked positive floats.
    """
    codes = np.asarray(codes)
    n = len(codes)
    if n == 0:
        return np.zeros(0), np.zeros(0), codes[:0]
    # float(stride) * i, as SpeechBrain computes it (i < 2**53 converts exactly)
    start = stride * np.arange(n, dtype=np.float64)
    end = start + window
    opens = np.ones(n, dtype=bool)
    opens[1:] = (codes[1:] != codes[:-1]) | (start[1:] > end[:-1])
    first = np.flatnonzero(opens)
    last = np.append(first[1:] - 1, n - 1)
    seg_start, seg_end, label = start[first], end[last], codes[first]
    # each split involves the end of one segment and the start of the next only,
    # so all splits are independent of one another
    overlap_at = np.flatnonzero(seg_start[1:] <= seg_end[:-1])
    if len(overlap_at):
        e, s = seg_end[overlap_at], seg_start[overlap_at + 1]
        half = (e - s) / 2.0
        new_end = e - half
        new_start = s + half
        seg_end[overlap_at] = new_end
        seg_start[overlap_at + 1] = np.maximum(new_start, new_end)
    return seg_start, seg_end, label


def frames_to_segments(labels: Sequence[str], window: float, stride: float, *, file: str = "utterance",
                       speaker: str | None = None) -> list[dict]:
    """Frame labels as segments (dicts with keys ``file, start, end, speaker, emotion``).

    Frame ``i`` of ``labels`` covers ``[i·stride, i·stride + window]`` seconds.
    Adjacent frames with the same label are merged and the overlap of two
    differently labelled segments is split half and half, exactly as
    SpeechBrain's ``EDER`` does. The speaker is ``speaker`` or, by default, the
    file id (one speaker per utterance). The result is what ``teer.score``
    takes as a hypothesis; lists for several files can be concatenated.

    >>> frames_to_segments(["n", "n", "a"], 0.2, 0.2, file="u1")[-1]["start"]
    0.4
    """
    window, stride = check_frame_step(window, stride)
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise ValueError(f"frame {i}: a label must be a string, not {label!r}")
    vocab, codes = encode(labels)
    start, end, code = frame_segments(codes, window, stride)
    who = file if speaker is None else speaker
    return [{"file": file, "start": s, "end": e, "speaker": who, "emotion": vocab[c]}
            for s, e, c in zip(start.tolist(), end.tolist(), code.tolist())]
