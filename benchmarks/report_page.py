#!/usr/bin/env python
"""``teer report``: how long it takes to write the page and how large it is, and (where
Chromium is installed) how long a headless browser takes to load it and draw every timeline.

Corpora from ``corpus.py`` (conversations of 3-5 speakers, ~850 segments per file and side,
a simulated system output), written under ``bench_out/``; each size is written as a whole
``teer report REF HYP --collar 0.25 -o OUT`` process, repeated (median wall time, peak RSS of
the child). The browser columns are one ``chromium --headless --dump-dom`` of the page as opened (it
draws the first file) and with ``#all`` (every file's timeline drawn at once up to 40 files,
the worst case; beyond, only those near the screen until it is scrolled): wall time, start-up of the browser and serialising the DOM included, and the time
the page's script took to draw (``body[data-draw-ms]``); each checks that the page reported
no script error.

    python benchmarks/report_page.py                      # 20 and 200 files, 3 repeats
    python benchmarks/report_page.py --files 20 --repeats 5

Prints a table; nothing is asserted on time.
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from corpus import write_corpus  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--virtual-time-budget=60000",
                  "--dump-dom"]


# runs the command as its child and prints the child's wall time and peak RSS (KB)
_WRAPPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
            "rc = subprocess.run(sys.argv[1:]).returncode; "
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(rc)")


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one whole process."""
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ROOT})
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {out.stderr[-500:]}")
    wall, rss = out.stdout.split()[-2:]
    return float(wall), float(rss) / 1024


def browser_load(page: str, fragment: str = "#all") -> str:
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if chromium is None:
        return "no chromium"
    with tempfile.TemporaryDirectory() as profile:
        start = time.perf_counter()
        out = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                              "file://" + os.path.abspath(page) + fragment], capture_output=True, text=True)
        wall = time.perf_counter() - start
    body = re.search(r"<body([^>]*)>", out.stdout)
    attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1))) if body else {}
    if attrs.get("data-errors") != "0" or attrs.get("data-ready") != "1":
        return f"failed ({attrs})"
    return f"{wall:.2f} s, of which drawing {int(attrs['data-draw-ms']) / 1000:.2f} s ({attrs['data-timelines']} timelines)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, nargs="+", default=[20, 200])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench_out"))
    args = parser.parse_args()
    rows = []
    os.makedirs(args.out, exist_ok=True)
    examples = os.path.join(args.out, "report-examples.html")
    wall, rss = timed([sys.executable, "-m", "teer.cli", "report", os.path.join(ROOT, "examples", "ref.rttm"),
                          os.path.join(ROOT, "examples", "hyp.json"), "-o", examples])
    rows.append(("examples/ (2 files)", 9, wall, rss, os.path.getsize(examples), browser_load(examples, ""),
                 browser_load(examples)))
    for n_files in args.files:
        directory = os.path.join(args.out, f"synthetic-{n_files}x850-seed0")
        if not os.path.exists(os.path.join(directory, "hyp.rttm")):
            write_corpus(directory, n_files)
        ref, hyp = os.path.join(directory, "ref.rttm"), os.path.join(directory, "hyp.rttm")
        with open(ref, "rb") as f:
            n_ref = sum(1 for _ in f)
        page = os.path.join(args.out, f"report-{n_files}.html")
        command = [sys.executable, "-m", "teer.cli", "report", ref, hyp, "--collar", "0.25", "-o", page]
        runs = sorted(timed(command) for _ in range(args.repeats))
        wall, rss = runs[len(runs) // 2]
        rows.append((f"{n_files} files x ~850 segments", n_ref, wall, rss, os.path.getsize(page),
                     browser_load(page, ""), browser_load(page)))
    print("| corpus | reference segments | write (median) | peak RSS | page size | Chromium, page as opened "
          "| Chromium, every timeline (#all) |")
    print("|---|---:|---:|---:|---:|---|---|")
    for name, n, wall, rss, size, opened, every in rows:
        print(f"| {name} | {n:,} | {wall:.2f} s | {rss:.0f} MB | {size / 1e6:.2f} MB | {opened} | {every} |")


if __name__ == "__main__":
    main()
