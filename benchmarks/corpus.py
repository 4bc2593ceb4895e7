"""Deterministic benchmark corpora: conversations with emotions and a simulated system output.

Everything is vectorised over the whole corpus (no Python loop per segment), so
that 10 M segments per side take seconds, and RTTM text is formatted by numpy.

Reference, per file (a conversation):
  * 3-5 speakers (4 on average) taking turns; the next turn is always by another
    speaker; turn lengths are log-normal (median ~2.4 s);
  * gaps between turns are mostly positive (exponential); ~15 % of turns start
    before the previous one ends (cross-speaker overlap, up to 40 % of the
    previous turn, never two overlaps in a row);
  * ~6 % extra short backchannels by another speaker inside a turn (overlap);
  * ~1 % of turns are followed by a second segment of the same speaker that
    overlaps it (same-speaker overlap, as left by annotation tools);
  * 5 emotions, mostly neutral, with a per-speaker bias.

System output, simulated from the reference:
  * ~8 % of reference segments missed (backchannels more often);
  * boundaries jittered (normal, 150 ms), ~5 % of segments split in two;
  * ~5 % false-alarm segments at random times;
  * speaker labels permuted, in ~25 % of files two reference speakers merged
    into one, and ~4 % of segments given to a spurious extra speaker (split);
  * the emotion right ~60 % of the time.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

EMOTIONS = np.array(["neu", "hap", "ang", "sad", "fru"])
_EMO_P = np.array([0.40, 0.18, 0.14, 0.14, 0.14])
SEGMENTS_PER_FILE = 850


@dataclass
class Side:
    file: np.ndarray  # int, file index
    start: np.ndarray
    end: np.ndarray
    speaker: np.ndarray  # int, speaker index within the file
    emotion: np.ndarray  # int, index into EMOTIONS


def _group_cumsum(x: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each new group (groups are contiguous)."""
    c = np.cumsum(x)
    first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    offset = np.repeat(c[first] - x[first], np.diff(np.r_[first, len(x)]))
    return c - offset


def reference(n_files: int, per_file: int = SEGMENTS_PER_FILE, seed: int = 0) -> Side:
    rng = np.random.default_rng(seed)
    # Turns: ~91.5 % of the segments; backchannels and same-speaker overlaps make up the rest.
    n_turns_file = rng.integers(int(per_file * 0.88), int(per_file * 1.01) + 1, n_files)
    n_spk = rng.integers(3, 6, n_files)  # 3..5
    file = np.repeat(np.arange(n_files), n_turns_file)
    n = len(file)
    dur = np.clip(rng.lognormal(np.log(2.4), 0.8, n), 0.2, 30.0)
    gap = rng.exponential(0.6, n)
    overlap = rng.random(n) < 0.15
    overlap[1:] &= ~overlap[:-1]  # never two overlaps in a row: no same-speaker overlap from turns
    prev_dur = np.r_[0.0, dur[:-1]]
    gap = np.where(overlap, -rng.uniform(0.05, 0.4, n) * prev_dur, gap)
    first = np.r_[True, file[1:] != file[:-1]]
    gap[first] = rng.uniform(0.0, 2.0, first.sum())
    # start_k = sum_{j<=k} gap_j + sum_{j<k} dur_j, restarting per file
    start = _group_cumsum(gap + prev_dur * ~first, file)
    end = start + dur
    spk_n = n_spk[file]
    step = rng.integers(1, 1 << 30, n) % (spk_n - 1) + 1  # 1..n_spk-1: never the same speaker twice
    speaker = np.cumsum(step) % spk_n
    # emotion: per-speaker bias towards one emotion, else the corpus prior
    bias = rng.choice(len(EMOTIONS), size=(n_files, 5), p=_EMO_P)
    emotion = np.where(rng.random(n) < 0.35, bias[file, speaker],
                       rng.choice(len(EMOTIONS), size=n, p=_EMO_P))

    # backchannels: a short segment by another speaker inside a long-enough turn
    bc = np.flatnonzero((rng.random(n) < 0.065) & (dur > 1.5))
    bc_dur = rng.uniform(0.3, 1.0, len(bc))
    bc_start = start[bc] + rng.uniform(0.1, 0.6, len(bc)) * (dur[bc] - bc_dur).clip(0)
    bc_spk = (speaker[bc] + rng.integers(1, 1 << 30, len(bc)) % (spk_n[bc] - 1) + 1) % spk_n[bc]
    bc_emo = rng.choice(len(EMOTIONS), size=len(bc), p=_EMO_P)
    # same-speaker overlap: a second segment of the turn's speaker overlapping its end
    so = np.flatnonzero(rng.random(n) < 0.01)
    so_start = end[so] - rng.uniform(0.1, 0.5, len(so)) * dur[so]
    so_end = end[so] + rng.uniform(0.2, 1.5, len(so))
    side = Side(np.r_[file, file[bc], file[so]],
                np.r_[start, bc_start, so_start],
                np.r_[end, bc_start + bc_dur, so_end],
                np.r_[speaker, bc_spk, speaker[so]],
                np.r_[emotion, bc_emo, emotion[so]])
    return _sorted(side)


def _sorted(side: Side) -> Side:
    order = np.lexsort((side.start, side.file))
    return Side(*(getattr(side, k)[order] for k in ("file", "start", "end", "speaker", "emotion")))


def hypothesis(ref: Side, seed: int = 1) -> Side:
    rng = np.random.default_rng(seed)
    n = len(ref.start)
    dur = ref.end - ref.start
    n_files = int(ref.file.max()) + 1 if n else 0
    keep = rng.random(n) >= np.where(dur < 1.0, 0.25, 0.06)  # misses
    file, start, end = ref.file[keep], ref.start[keep], ref.end[keep]
    speaker, emotion = ref.speaker[keep], ref.emotion[keep]
    start = start + rng.normal(0, 0.15, len(start))
    end = end + rng.normal(0, 0.15, len(end))
    start = np.maximum(start, 0.0)
    end = np.maximum(end, start + 0.05)
    # splits: cut ~5 % of segments in two, with a short pause
    split = np.flatnonzero((rng.random(len(start)) < 0.05) & (end - start > 1.0))
    cut = start[split] + rng.uniform(0.3, 0.7, len(split)) * (end[split] - start[split])
    second = cut + rng.uniform(0.0, 0.3, len(split))
    tail = np.maximum(end[split], second + 0.05)
    end = end.copy()
    end[split] = cut
    file = np.r_[file, file[split]]
    speaker = np.r_[speaker, speaker[split]]
    emotion = np.r_[emotion, emotion[split]]
    start = np.r_[start, second]
    end = np.r_[end, tail]
    # false alarms at random times in each file's span
    n_fa = int(0.05 * n)
    fa_file = rng.integers(0, n_files, n_fa)
    span = np.zeros(n_files)
    np.maximum.at(span, ref.file, ref.end)
    fa_start = rng.uniform(0, 1, n_fa) * span[fa_file]
    fa_end = fa_start + rng.uniform(0.2, 2.0, n_fa)
    fa_spk = rng.integers(0, 5, n_fa)
    file = np.r_[file, fa_file]
    start = np.r_[start, fa_start]
    end = np.r_[end, fa_end]
    speaker = np.r_[speaker, fa_spk]
    emotion = np.r_[emotion, rng.choice(len(EMOTIONS), size=n_fa, p=_EMO_P)]
    # speaker confusions: merge two speakers in some files, split off a spurious one
    merged = rng.random(n_files) < 0.25
    speaker = np.where(merged[file] & (speaker == 1), 0, speaker)
    speaker = np.where(rng.random(len(speaker)) < 0.04, 5, speaker)
    # labels permuted per file (hypothesis labels 0-4 and the spurious 5, or more
    # where a reference file has more speakers)
    width = max(6, int(speaker.max()) + 1 if len(speaker) else 6)
    perm = np.argsort(rng.random((n_files, width)), axis=1)
    speaker = perm[file, speaker]
    # emotion right ~60 % of the time, else another emotion
    wrong = rng.random(len(emotion)) >= 0.6
    other = (emotion + rng.integers(1, len(EMOTIONS), len(emotion))) % len(EMOTIONS)
    emotion = np.where(wrong, other, emotion)
    return _sorted(Side(file, start, end, speaker, emotion))


def _fmt(x: np.ndarray) -> np.ndarray:
    """Times as text with 3 decimals, by integer arithmetic (numpy, no per-line Python)."""
    ms = np.rint(x * 1000).astype(np.int64)
    return np.char.add(np.char.add((ms // 1000).astype("S"), b"."),
                       np.char.zfill((ms % 1000).astype("S"), 3))


def rttm_bytes(side: Side, file_prefix: str, speaker_prefix: str,
               file_names: np.ndarray | None = None) -> bytes:
    """The side as RTTM text, emotion in field 6 (file ids from ``file_names`` if given)."""
    if len(side.start) == 0:
        return b""
    ms_start = np.rint(side.start * 1000).astype(np.int64)
    ms_dur = np.maximum(np.rint(side.end * 1000).astype(np.int64) - ms_start, 1)
    if file_names is not None:
        files = np.asarray(file_names, dtype="S")[side.file]
    else:
        files = np.char.add(file_prefix.encode(), np.char.zfill(side.file.astype("S"), 6))
    spk = np.char.add(speaker_prefix.encode(), side.speaker.astype("S"))
    emo = EMOTIONS.astype("S")[side.emotion]
    cols = [b"SPEAKER ", files, b" 1 ", _fmt(ms_start / 1000), b" ", _fmt(ms_dur / 1000), b" ",
            emo, b" <NA> ", spk, b" <NA> <NA>\n"]
    line = cols[0]
    for c in cols[1:]:
        line = np.char.add(line, c)
    return b"".join(line.tolist())


def write_corpus(directory: str, n_files: int, seed: int = 0,
                 per_file: int = SEGMENTS_PER_FILE, chunk_files: int = 500) -> tuple[str, str, int, int]:
    """Write ref.rttm and hyp.rttm under ``directory``; returns paths and segment counts.

    Generated in chunks of files (each chunk with its own derived seed) to bound memory.
    """
    os.makedirs(directory, exist_ok=True)
    ref_path = os.path.join(directory, "ref.rttm")
    hyp_path = os.path.join(directory, "hyp.rttm")
    n_ref = n_hyp = 0
    with open(ref_path + ".tmp", "wb") as fr, open(hyp_path + ".tmp", "wb") as fh:
        for k, first in enumerate(range(0, n_files, chunk_files)):
            count = min(chunk_files, n_files - first)
            r = reference(count, per_file, seed=[seed, k, 0])
            h = hypothesis(r, seed=[seed, k, 1])
            r.file += first
            h.file += first
            fr.write(rttm_bytes(r, "conv", "spk"))
            fh.write(rttm_bytes(h, "conv", "sys"))
            n_ref += len(r.start)
            n_hyp += len(h.start)
    os.replace(ref_path + ".tmp", ref_path)
    os.replace(hyp_path + ".tmp", hyp_path)
    return ref_path, hyp_path, n_ref, n_hyp


def voxconverse(source: str, directory: str, seed: int = 0) -> tuple[str, str, int, int]:
    """The real VoxConverse references (dev + test) with emotions added and a simulated output."""
    import glob

    paths = sorted(glob.glob(os.path.join(source, "*", "*.rttm")))
    files, starts, durs, spks = [], [], [], []
    names: list[str] = []
    for i, path in enumerate(paths):
        local: dict[str, int] = {}
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) < 9 or p[0] != "SPEAKER":
                    continue
                files.append(i)
                starts.append(float(p[3]))
                durs.append(float(p[4]))
                spks.append(local.setdefault(p[7], len(local)))
        names.append(os.path.splitext(os.path.basename(path))[0])
    rng = np.random.default_rng(seed)
    file = np.array(files)
    start = np.array(starts)
    speaker = np.array(spks)
    ref = Side(file, start, start + np.array(durs), speaker,
               rng.choice(len(EMOTIONS), size=len(file), p=_EMO_P))
    ref = _sorted(ref)
    hyp = hypothesis(ref, seed=seed + 1)
    os.makedirs(directory, exist_ok=True)
    out = []
    for side, name, prefix in ((ref, "ref.rttm", "spk"), (hyp, "hyp.rttm", "sys")):
        path = os.path.join(directory, name)
        with open(path, "wb") as f:
            f.write(rttm_bytes(side, "", prefix, file_names=np.array(names)))
        out.append(path)
    return out[0], out[1], len(ref.start), len(hyp.start)
