#!/usr/bin/env python
"""Where ``teer score`` spends its time: cProfile of one whole run, grouped by stage.

    python benchmarks/profile_teer.py REF.rttm HYP.rttm [--collar 0] [--top 12] [--stages]

``--stages`` instead times the stages of one run without a profiler (a clock around each
stage's function): cProfile inflates Python-level work, so these are the real shares.

Stages: importing, reading each side (teer.io; a large RTTM file: its first pass and
its batches read back, ``teer.stream``), the engine's ``build`` broken
down by its direct callees (grid, mapping, matching...), the components and the
rendering. Names come from the profile, so the breakdown follows the engine as
it changes.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time

# this checkout's teer, as benchmarks/run.py uses (teer is not installed in the environment)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("reference")
    p.add_argument("hypothesis")
    p.add_argument("--collar", default="0")
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--stages", action="store_true", help="wall time per stage, no profiler")
    args = p.parse_args(argv)
    if args.stages:
        return stages(args)
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    import teer.cli  # noqa: F401 -- importing is part of the cost
    t_import = time.perf_counter() - t0
    try:
        _score_quietly(args)
    finally:
        prof.disable()
    total = time.perf_counter() - t0
    stats = pstats.Stats(prof)
    entries = stats.stats  # (file, line, name) -> (cc, nc, tt, ct, callers)

    def cum(name: str, where: str) -> float:
        return sum(v[3] for k, v in entries.items() if k[2] == name and where in k[0])

    def callees(name: str, where: str):
        keys = [k for k in entries if k[2] == name and where in k[0]]
        out = []
        for k, v in entries.items():
            for caller, cv in v[4].items():
                if caller in keys:
                    out.append((cv[3], f"{os.path.basename(k[0])}:{k[2]}"))
        return sorted(out, reverse=True)

    rows = [("import teer (numpy, scipy...)", t_import),
            ("read reference (teer.io)", cum("load_reference", "io")),
            ("read hypothesis (teer.io)", cum("load_hypothesis", "io")),
            # files over teer.stream.STREAM_BYTES: a first pass each, then a batch of files at a time
            ("large RTTM, first pass (rttm_batches.index)", cum("index", "rttm_batches")),
            ("large RTTM, batches read back (GroupedRttm.table)", cum("table", "rttm_batches")),
            ("engine._sweep (the sweeps, total)", cum("_sweep", "engine")),
            ]
    rows += [(f"  _sweep -> {name}", t) for t, name in callees("_sweep", "engine")[:args.top]]
    rows += [("components (per-file sums)", cum("components", "engine")),
             ("render", cum("render", "render"))]
    print(f"profile of `teer score {args.reference} {args.hypothesis} --collar {args.collar} "
          f"--uem-default union` (cProfile; total {total:.2f} s)\n")
    print("| stage | s | share |\n|---|---:|---:|")
    for name, t in rows:
        print(f"| {name} | {t:.2f} | {t / total:.0%} |")
    return 0


def _score_quietly(args) -> None:
    """``teer score`` on the two files, its output thrown away."""
    import teer.cli

    stdout = sys.stdout
    sys.stdout = io.StringIO()
    try:
        teer.cli.main(["score", args.reference, args.hypothesis, "--collar", args.collar,
                       "--uem-default", "union", "--format", "json"])
    finally:
        sys.stdout = stdout


def stages(args) -> int:
    """The wall time of each stage of one run, a clock around each stage's function."""
    import functools

    t0 = time.perf_counter()
    import teer.cli
    from teer import engine, pipeline, render, stream

    spent = {"import teer (numpy...)": time.perf_counter() - t0}

    def clocked(module, name: str, label: str) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def timed(*a, **k):
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent[label] = spent.get(label, 0.0) + time.perf_counter() - start

        setattr(module, name, timed)

    clocked(stream, "read_sides", "read both sides (teer.io)")
    clocked(pipeline, "input_warnings_of", "input checks and warnings")
    clocked(engine, "score", "engine.score (sweeps and per-file sums)")
    clocked(render, "render", "render")
    _score_quietly(args)
    total = time.perf_counter() - t0
    print(f"stages of `teer score {args.reference} {args.hypothesis} --collar {args.collar} "
          f"--uem-default union --format json` (wall clock, no profiler; total {total:.2f} s)\n")
    print("| stage | s | share |\n|---|---:|---:|")
    for name, t in list(spent.items()) + [("other", total - sum(spent.values()))]:
        print(f"| {name} | {t:.3f} | {t / total:.0%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
