"""Peak memory and time of ``teer analyze`` and ``teer plot`` beside ``teer score``, per corpus size.

The analyses sweep a batch of files at a time as ``score`` does (``teer.api.analyze_batches``),
keeping of each batch only its part of the matrix and its speakers' rows (or, for a timeline,
the sweep of the one batch that holds the file); the target is a peak RSS within twice
``score``'s at any size. Each command is a whole process on the same RTTM files
(``benchmarks/corpus.py``, deterministic), its peak RSS from ``wait4``; ``--teer-path`` runs
another checkout (e.g. main before the change) for a before/after table.

    python benchmarks/analysis_memory.py --files 12,118,1000 [--work DIR] [--teer-path CLONE]

prints a Markdown table (and writes it to ``--out`` if given).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from corpus import write_corpus  # noqa: E402
from run import _in_child, measure  # noqa: E402

COMMANDS = {
    "score": ["score", "{ref}", "{hyp}", "--format", "json", "--per-file", "-o", "{out}/score.json"],
    "analyze": ["analyze", "{ref}", "{hyp}", "--format", "json", "-o", "{out}/analyze.json"],
    "plot (matrix)": ["plot", "{ref}", "{hyp}", "-o", "{out}/matrix.png"],
    "plot --timeline": ["plot", "{ref}", "{hyp}", "--timeline", "conv000000", "-o", "{out}/timeline.png"],
}


def corpus(work: str, n_files: int) -> tuple[str, str, int]:
    directory = os.path.join(work, f"synthetic-{n_files}x850-seed0")
    ref, hyp = os.path.join(directory, "ref.rttm"), os.path.join(directory, "hyp.rttm")
    if not (os.path.exists(ref) and os.path.exists(hyp)):
        # in a child: a process started later would inherit this one's peak RSS as its own
        _in_child(write_corpus, directory, n_files)
    with open(ref, "rb") as r, open(hyp, "rb") as h:
        lines = sum(1 for _ in r) + sum(1 for _ in h)
    return ref, hyp, lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="12,118,1000", help="corpus sizes in files (about 1,700 lines each)")
    parser.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "teer-bench"))
    parser.add_argument("--teer-path", help="a checkout of teer to run instead of this one")
    parser.add_argument("--commands", default=",".join(COMMANDS), help="which of: " + ", ".join(COMMANDS))
    parser.add_argument("--out", help="also write the table here")
    args = parser.parse_args(argv)
    root = args.teer_path or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root, "MPLBACKEND": "Agg"}
    names = args.commands.split(",")
    rows = ["| corpus | RTTM lines | " + " | ".join(f"{n}: time, peak RSS" for n in names)
            + " | peak RSS / score's |",
            "|---|---:|" + "---:|" * len(names) + "---|"]
    with tempfile.TemporaryDirectory(prefix="teer-bench-out-") as out:
        for n_files in (int(x) for x in args.files.split(",")):
            ref, hyp, lines = corpus(args.work, n_files)
            cells, rss = [], {}
            for name in names:
                cmd = [sys.executable, "-m", "teer.cli"] + [w.format(ref=ref, hyp=hyp, out=out) for w in COMMANDS[name]]
                result = measure(cmd, env, timeout=1800, cwd=out)
                if result["rc"] != 0:
                    raise SystemExit(f"{name} failed: {result['stderr']}")
                rss[name] = result["rss_mb"]
                cells.append(f"{result['wall_s']:.2f} s, {result['rss_mb']:.0f} MB")
            ratios = ", ".join(f"{n} {rss[n] / rss['score']:.2f}x" for n in names if n != "score" and "score" in rss)
            rows.append(f"| {n_files} files | {lines:,} | " + " | ".join(cells) + f" | {ratios} |")
            print(rows[-1], flush=True)
    table = "\n".join(rows) + "\n"
    print(table)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
