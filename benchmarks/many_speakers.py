#!/usr/bin/env python
"""Files with many speakers: the speaker mapping's assignment at scale.

One conversation of N speakers (each speaks 3 turns on average, turns by
changing speakers, ~15 % of turns overlapping the previous one, 5 emotions) and
a simulated system output (boundaries jittered by 150 ms, ~8 % of turns missed,
speaker labels permuted and ~10 % of turns given to a random wrong speaker, so
that the graph of overlapping speaker pairs is one large connected component),
written as RTTM and scored by ``teer score`` as a whole process. Also a batch of
2,000 small files (4 speakers each) alone and beside the largest file, which must
not slow them down.

    python benchmarks/many_speakers.py                       # N = 500, 1000, 2000, 10000
    python benchmarks/many_speakers.py --speakers 10000 --repeats 3

Prints a table (median wall time of whole processes, peak RSS). No timing is
asserted anywhere.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EMOTIONS = np.array(["neu", "hap", "ang", "sad", "fru"])


def conversation(n_speakers: int, file: str, rng: np.random.Generator, turns_per_speaker: float = 3.0):
    """(reference rows, hypothesis rows) of one file, rows as (file, onset, duration, speaker, emotion)."""
    n = max(2, int(n_speakers * turns_per_speaker))
    speaker = rng.integers(0, n_speakers, n)
    same = np.flatnonzero(speaker[1:] == speaker[:-1]) + 1
    speaker[same] = (speaker[same] + 1) % n_speakers  # the next turn is by another speaker
    length = rng.lognormal(np.log(2.4), 0.6, n)
    gap = rng.exponential(0.5, n)
    overlap = rng.random(n) < 0.15
    gap[overlap] = -0.4 * length[np.r_[0, np.arange(n - 1)]][overlap] * rng.random(overlap.sum())
    start = np.maximum(np.cumsum(np.r_[0.0, (length + gap)[:-1]]), 0.0)
    emotion = EMOTIONS[rng.choice(len(EMOTIONS), n, p=[0.4, 0.18, 0.14, 0.14, 0.14])]
    ref = [(file, s, d, f"spk{k}", e) for s, d, k, e in zip(start, length, speaker, emotion)]

    keep = rng.random(n) > 0.08
    permuted = rng.permutation(n_speakers)[speaker]
    wrong = rng.random(n) < 0.10
    permuted[wrong] = rng.integers(0, n_speakers, wrong.sum())
    h_start = np.maximum(start + rng.normal(0, 0.15, n), 0.0)
    h_end = start + length + rng.normal(0, 0.15, n)
    h_emotion = np.where(rng.random(n) < 0.6, emotion, EMOTIONS[rng.integers(0, len(EMOTIONS), n)])
    hyp = [(file, s, e - s, f"sys{k}", m) for s, e, k, m, ok in
           zip(h_start, h_end, permuted, h_emotion, keep) if ok and e > s]
    return ref, hyp


def write_rttm(path: str, rows) -> None:
    with open(path, "w") as f:
        f.writelines(f"SPEAKER {file} 1 {onset:.3f} {dur:.3f} {emo} <NA> {spk} <NA> <NA>\n"
                     for file, onset, dur, spk, emo in rows if round(dur, 3) > 0)


def measure(ref: str, hyp: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one ``teer score`` process."""
    cmd = [sys.executable, "-m", "teer.cli", "score", ref, hyp, "--format", "json"]
    env = {**os.environ, "PYTHONPATH": ROOT}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"teer failed on {ref}: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--speakers", default="500,1000,2000,10000", help="comma-separated speaker counts")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    sizes = [int(x) for x in args.speakers.split(",")]
    rng = np.random.default_rng(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as work:
        cases = []
        for n in sizes:
            ref, hyp = conversation(n, "big", rng)
            paths = (os.path.join(work, f"ref{n}.rttm"), os.path.join(work, f"hyp{n}.rttm"))
            write_rttm(paths[0], ref)
            write_rttm(paths[1], hyp)
            cases.append((f"1 file, {n:,} speakers", len(ref), paths))
        small_ref, small_hyp = [], []
        for k in range(2000):
            r, h = conversation(4, f"f{k}", rng)
            small_ref += r
            small_hyp += h
        paths = (os.path.join(work, "small_ref.rttm"), os.path.join(work, "small_hyp.rttm"))
        write_rttm(paths[0], small_ref)
        write_rttm(paths[1], small_hyp)
        cases.append(("2,000 files x 4 speakers", len(small_ref), paths))
        big_ref, big_hyp = conversation(max(sizes), "big", rng)
        paths = (os.path.join(work, "mixed_ref.rttm"), os.path.join(work, "mixed_hyp.rttm"))
        write_rttm(paths[0], small_ref + big_ref)
        write_rttm(paths[1], small_hyp + big_hyp)
        cases.append((f"the same beside 1 file of {max(sizes):,} speakers", len(small_ref) + len(big_ref), paths))
        for name, lines, (ref, hyp) in cases:
            runs = [measure(ref, hyp) for _ in range(args.repeats)]
            wall = float(np.median([w for w, _ in runs]))
            rss = max(m for _, m in runs)
            rows.append((name, lines, wall, rss))
            print(f"# {name}: {wall:.2f} s", file=sys.stderr)
    print("| corpus | reference lines | teer score | peak RSS |")
    print("|---|---:|---:|---:|")
    for name, lines, wall, rss in rows:
        print(f"| {name} | {lines:,} | {wall:.2f} s | {rss:.0f} MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
