"""Random corpora for property and differential tests."""
from __future__ import annotations

import numpy as np

EMOTIONS = ("neu", "hap", "ang", "sad")


def speaker_turns(rng: np.random.Generator, file: str, speakers: list[str], duration: float,
                  emotions=EMOTIONS, step: float = 0.01, self_overlap: bool = False) -> list[dict]:
    """Segments on a ``step`` grid (so that boundaries coincide often).

    Without ``self_overlap``, a speaker's segments never overlap each other.
    """
    rows = []
    for spk in speakers:
        t = float(rng.uniform(0, 3))
        while t < duration:
            length = float(rng.uniform(0.05, 4))
            start, end = round(t / step) * step, round((t + length) / step) * step
            if end > start:
                rows.append(dict(file=file, start=start, end=end, speaker=spk,
                                 emotion=str(rng.choice(emotions))))
            # without self-overlap, a gap of at least two steps: touching segments get md-eval collars
            gap = float(rng.uniform(-1.5 if self_overlap else 2 * step, 5))
            t = t + length + gap if not self_overlap else t + max(length + gap, 0.05)
    return rows


def corpus(seed: int, n_files: int = 3, self_overlap: bool = False) -> tuple[list[dict], list[dict]]:
    """A reference and a noisy system output over ``n_files`` files."""
    rng = np.random.default_rng(seed)
    ref, hyp = [], []
    for k in range(n_files):
        f = f"file{k}"
        n_ref = int(rng.integers(1, 5))
        n_hyp = int(rng.integers(1, 6))
        dur = float(rng.uniform(10, 60))
        ref += speaker_turns(rng, f, [f"R{i}" for i in range(n_ref)], dur, self_overlap=self_overlap)
        hyp += speaker_turns(rng, f, [f"H{i}" for i in range(n_hyp)], dur, self_overlap=self_overlap)
    return ref, hyp


def to_annotation(rows: list[dict], file: str, label):
    from pyannote.core import Annotation, Segment

    ann = Annotation(uri=file)
    for k, r in enumerate(rows):
        if r["file"] == file:
            ann[Segment(r["start"], r["end"]), k] = label(r)
    return ann


def table(*rows):
    """A segment table from (file, start, end, speaker, emotion) tuples."""
    from teer.io import from_records

    return from_records(
        [dict(file=f, start=s, end=e, speaker=k, emotion=m) for f, s, e, k, m in rows])


def total(ref, hyp, **kw):
    """The total components of scoring ``hyp`` against ``ref`` (collar 0 unless given)."""
    import teer

    kw.setdefault("collar", 0.0)
    return teer.score(ref, hyp, **kw).total
