#!/usr/bin/env python
"""teer against the scorers a researcher could use instead, side by side.

Generates deterministic corpora (``benchmarks/corpus.py``) at several sizes, plus
the real VoxConverse references with a simulated system output, and times, each
as a whole process on the same RTTM files, interleaved and repeated:

* ``teer``        -- ``teer score REF HYP`` (all five rates: TEER, sTEER, EERa, sEERa, DER);
* ``spyder``      -- spy-der's ``spyder REF HYP`` (DER only; C++ core, Python reader);
* ``pyannote-wu`` -- pyannote.metrics: TEER, sTEER and DER as Wu et al. computed them;
* ``pyannote-seralign`` -- pyannote.metrics: three DERs, as the SER-Align paper.

All score the same time, the same way: collar ``--collar`` (default 0, spyder's
default; seconds on each side of every reference boundary), scored time per file
= extent of reference and hypothesis together (spyder's UEM; ``teer
--uem-default union``). Reported: median wall time, peak RSS (``os.wait4`` rusage
of the child), the ratios teer / other, and the rates each scorer printed (they
must agree where they compute the same thing). Writes ``results.md``,
``results.json`` and ``time_vs_size.png`` under ``--out``.

    python benchmarks/run.py                                  # the default sizes
    python benchmarks/run.py --sizes 10k,100k --repeats 5
    python benchmarks/run.py --quick --out /tmp/bench          # smoke run, seconds

No timing is asserted anywhere: this script measures and reports.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import multiprocessing
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import corpus  # noqa: E402

SCORERS = ("teer", "spyder", "pyannote-wu", "pyannote-seralign")
VOXCONVERSE = os.path.join(ROOT, "..", "shared", "data", "voxconverse")


# ---------------------------------------------------------------- sizes and corpora

def parse_size(text: str) -> int:
    """'10k' -> 10000, '1.7M' -> 1700000, 'vox' -> 0 (the VoxConverse corpus)."""
    t = text.strip().lower()
    if t in ("vox", "voxconverse"):
        return 0
    mult = {"k": 1_000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t[:-1] if mult > 1 else t) * mult)


def make_corpus(size: int, work: str, seed: int, per_file: int) -> dict:
    """Write (or reuse) the corpus of ``size`` segments per side; returns its description."""
    if size == 0:
        name = "voxconverse"
        directory = os.path.join(work, name)
        meta = os.path.join(directory, "meta.json")
        if not os.path.exists(meta):
            ref, hyp, n_ref, n_hyp = _in_child(corpus.voxconverse, VOXCONVERSE, directory, seed)
            _save(meta, dict(name=name, ref=ref, hyp=hyp, n_ref=n_ref, n_hyp=n_hyp, files=448))
        return _load(meta)
    n_files = max(1, round(size / per_file))
    name = f"synthetic-{n_files}x{per_file}-seed{seed}"
    directory = os.path.join(work, name)
    meta = os.path.join(directory, "meta.json")
    if not os.path.exists(meta):
        t0 = time.perf_counter()
        ref, hyp, n_ref, n_hyp = _in_child(corpus.write_corpus, directory, n_files, seed, per_file)
        _save(meta, dict(name=name, ref=ref, hyp=hyp, n_ref=n_ref, n_hyp=n_hyp, files=n_files,
                         generated_s=round(time.perf_counter() - t0, 2)))
    return _load(meta)


def _in_child(function, *args):
    """``function(*args)`` in a child process. A process started later inherits this
    one's peak RSS as its own starting peak (Linux keeps the peak across fork and exec),
    so a corpus built here would inflate every scorer's measured memory (teer's 179 MB
    at 1.7 M lines read as 297 MB in a run that built its corpus)."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(1) as pool:
        return pool.apply(function, args)


def _save(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def _load(path):
    with open(path) as f:
        return json.load(f)


# ---------------------------------------------------------------- scorers as processes

def command(scorer: str, ref: str, hyp: str, collar: float, jobs: int = 1) -> list[str]:
    py = sys.executable
    c = repr(float(collar))
    if scorer == "teer":
        return [py, "-m", "teer.cli", "score", ref, hyp, "--collar", c,
                "--uem-default", "union", "--format", "json"] + (["--jobs", str(jobs)] if jobs != 1 else [])
    if scorer == "spyder":
        # exactly what spy-der's `spyder` console script runs (without a pyenv/venv shim)
        return [py, "-c", "import sys; from spyder.der import compute_der_from_rttm; "
                "sys.argv[0] = 'spyder'; sys.exit(compute_der_from_rttm())", ref, hyp, "--collar", c]
    method = scorer.split("-", 1)[1]
    return [py, os.path.join(HERE, "pyannote_scorers.py"), method, ref, hyp, "--collar", c]


def measure(cmd: list[str], env: dict, timeout: float | None, cwd: str | None = None) -> dict:
    """Run ``cmd``; wall time, peak RSS of that process (MB), exit status, stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        # not in the checkout: `python -m` puts the working directory first on sys.path
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        timer = threading.Timer(timeout, p.kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return dict(wall_s=wall, rss_mb=usage.ru_maxrss / 1024,  # ru_maxrss is in KB on Linux
                    user_s=usage.ru_utime, sys_s=usage.ru_stime, rc=p.returncode,
                    stdout=out.read().decode("utf-8", "replace"),
                    stderr=err.read().decode("utf-8", "replace")[-2000:])


def rates(scorer: str, stdout: str) -> dict:
    """The rates each scorer printed (fractions), for the agreement columns."""
    try:
        if scorer == "teer":
            total = json.loads(stdout)["total"]
            return {k: total[k] for k in ("TEER", "sTEER", "EERa", "sEERa", "DER")}
        if scorer == "spyder":
            m = re.search(r"Overall\W+([\d.]+)\W+([\d.]+)%\W+([\d.]+)%\W+([\d.]+)%\W+([\d.]+)%", stdout)
            return {"DER": float(m.group(5)) / 100} if m else {}
        d = json.loads(stdout)
        return {k: v for k, v in d.items() if k != "components"}
    except (ValueError, KeyError, TypeError):
        return {}


# ---------------------------------------------------------------- the run

def run(args) -> dict:
    env = dict(os.environ)
    teer_path = args.teer_path or ROOT
    env["PYTHONPATH"] = os.pathsep.join([teer_path] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    scorers = [s for s in args.scorers.split(",") if s]
    results = []
    last_pyannote: dict[str, tuple[int, float]] = {}  # scorer -> (segments, seconds), to skip big sizes
    for r in sorted(args.previous, key=lambda r: r["n_ref"]):
        if r["scorer"].startswith("pyannote") and "wall_s" in r and not r["corpus"].startswith("vox"):
            last_pyannote[r["scorer"]] = (r["n_ref"], r["wall_s"])
    for size in sorted(sizes, key=lambda s: s or 27_747):
        if size == 0 and not os.path.isdir(VOXCONVERSE):
            print(f"skipping VoxConverse: {VOXCONVERSE} not found", file=sys.stderr)
            continue
        c = make_corpus(size, args.work, args.seed, args.per_file)
        n = c["n_ref"]
        print(f"== {c['name']}: {c['n_ref']} ref / {c['n_hyp']} hyp segments, {c['files']} files",
              file=sys.stderr, flush=True)
        runs: dict[str, list[dict]] = {s: [] for s in scorers}
        notes: dict[str, str] = {}
        for rep in range(args.repeats):
            # rotate the order each repetition: no scorer always runs first (cold caches) or last
            order = scorers[rep % len(scorers):] + scorers[:rep % len(scorers)]
            for s in order:
                if s in notes:
                    continue
                if s.startswith("pyannote"):
                    if s in last_pyannote:
                        n0, t0 = last_pyannote[s]
                        estimate = t0 * n / n0
                        if estimate > args.pyannote_limit:
                            notes[s] = (f"skipped: estimated {estimate / 60:.0f} min "
                                        f"(> {args.pyannote_limit / 60:.0f} min limit)")
                            continue
                    if rep > 0 and runs[s] and runs[s][0]["wall_s"] > args.pyannote_once:
                        notes[s] = f"run once (> {args.pyannote_once:.0f} s)"
                        continue
                cmd = command(s, c["ref"], c["hyp"], args.collar, args.jobs)
                m = measure(cmd, env, args.timeout, cwd=os.path.dirname(c["ref"]))
                m["rates"] = rates(s, m.pop("stdout"))
                if m["rc"] != 0:
                    print(f"   {s}: exit status {m['rc']}: {m['stderr'][-500:]}", file=sys.stderr)
                print(f"   {s:18s} rep {rep}: {m['wall_s']:8.2f} s {m['rss_mb']:8.0f} MB  {_fmt_rates(m['rates'])}",
                      file=sys.stderr, flush=True)
                runs[s].append(m)
                if s.startswith("pyannote") and m["rc"] == 0:
                    last_pyannote[s] = (n, m["wall_s"])
        for s in scorers:
            ok = [m for m in runs[s] if m["rc"] == 0]
            entry = dict(corpus=c["name"], files=c["files"], n_ref=c["n_ref"], n_hyp=c["n_hyp"],
                         scorer=s, command=" ".join(shlex.quote(x) for x in command(s, "REF", "HYP", args.collar, args.jobs)),
                         runs=[{k: v for k, v in m.items() if k != "stderr"} for m in runs[s]],
                         note=notes.get(s, ""))
            if ok:
                entry.update(wall_s=statistics.median(m["wall_s"] for m in ok),
                             rss_mb=statistics.median(m["rss_mb"] for m in ok),
                             rates=ok[0]["rates"], repeats=len(ok))
            elif runs[s]:
                entry["note"] = (entry["note"] + "; " if entry["note"] else "") + \
                    f"failed (exit status {runs[s][-1]['rc']})"
            results.append(entry)
    if args.previous:
        done = {(r["corpus"], r["scorer"]) for r in results}
        kept = [r for r in args.previous if (r["corpus"], r["scorer"]) not in done]
        results = sorted(kept + results, key=lambda r: (r["n_ref"], SCORERS.index(r["scorer"])
                                                        if r["scorer"] in SCORERS else 99))
    return dict(
        date=_dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        command="python " + " ".join(shlex.quote(a) for a in ["benchmarks/run.py"] + sys.argv[1:]),
        machine=_machine(), collar=args.collar, uem="extent of reference and hypothesis (per file)",
        teer_commit=_git_commit(teer_path) or f"{_git_commit(ROOT)} (snapshot at {teer_path})",
        results=results,
        previous_commands=getattr(args, "previous_commands", []))


def _fmt_rates(r: dict) -> str:
    return " ".join(f"{k}={v * 100:.2f}%" for k, v in r.items() if isinstance(v, float))


def _machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for mod in ("numpy", "scipy", "pyannote.metrics", "spyder"):
        try:
            from importlib.metadata import version
            versions[mod] = version({"spyder": "spy-der"}.get(mod, mod))
        except Exception:  # noqa: BLE001 -- a missing package is reported as such
            versions[mod] = None
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(), **versions)


def _git_commit(path: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


# ---------------------------------------------------------------- reports

def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# teer benchmark",
        "",
        f"- command: `{report['command']}`"
        + "".join(f"; rows not re-measured by it come from `{c}`" for c in report.get("previous_commands", [])[:1]),
        f"- date: {report['date']}; teer commit {report['teer_commit']}",
        f"- machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, numpy {m['numpy']}, "
        f"scipy {m['scipy']}, pyannote.metrics {m['pyannote.metrics']}, spy-der {m['spyder']}",
        f"- every scorer is a whole process on the same RTTM files; collar {report['collar']} s, "
        f"scored time = {report['uem']}; wall time and peak RSS are medians over the repeats, "
        "scorers interleaved",
        "- teer computes TEER, sTEER, EERa, sEERa and DER; spyder DER only; pyannote-wu TEER, "
        "sTEER, DER (Wu et al.); pyannote-seralign three DERs (speech, emotion, emotion_speaker)",
        "- the rates agree where they are the same quantity: teer's DER = spyder's on every corpus; "
        "pyannote's differ slightly because where one speaker overlaps itself pyannote counts each "
        "segment and teer / md-eval / spyder count the speaker once (the corpora have such overlaps "
        "on both sides); SER-Align's emotion DERs map labels optimally, so they are other quantities",
        "",
        "Summary (median wall time and peak RSS of the whole process):",
        "",
        summary(report),
        "All runs:",
        "",
        "| corpus | files | segments ref / hyp | RTTM lines | scorer | wall s | peak RSS MB "
        "| teer / other (time) | teer / other (RSS) | rates printed |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    by_corpus: dict[str, list] = {}
    for r in report["results"]:
        by_corpus.setdefault(r["corpus"], []).append(r)
    for name, rows in by_corpus.items():
        teer_row = next((r for r in rows if r["scorer"] == "teer" and "wall_s" in r), None)
        for r in rows:
            if "wall_s" in r:
                wall, rss = f"{r['wall_s']:.2f}", f"{r['rss_mb']:.0f}"
                if teer_row is not None and r is not teer_row:
                    rt = f"{teer_row['wall_s'] / r['wall_s']:.3f}"
                    rm = f"{teer_row['rss_mb'] / r['rss_mb']:.2f}"
                else:
                    rt = rm = ""
                shown = ", ".join(f"{k} {v * 100:.2f}%" for k, v in r["rates"].items()
                                  if isinstance(v, float))
                if r.get("note"):
                    shown += f" ({r['note']})"
            else:
                wall = rss = rt = rm = "—"
                shown = r.get("note", "")
            lines.append(f"| {name} | {r['files']} | {r['n_ref']:,} / {r['n_hyp']:,} | "
                         f"{r['n_ref'] + r['n_hyp']:,} | {r['scorer']} | {wall} | {rss} | {rt} | {rm} | {shown} |")
    return "\n".join(lines) + "\n"


def summary(report: dict) -> str:
    """One row per corpus: the table for the README."""
    by_corpus: dict[str, dict] = {}
    for r in report["results"]:
        by_corpus.setdefault(r["corpus"], {})[r["scorer"]] = r
    lines = ["| corpus | RTTM lines (ref + hyp) | teer: all 5 rates | spyder: DER | teer / spyder "
             "| pyannote, Wu et al. (TEER, sTEER, DER) | pyannote, SER-Align (3 DERs) "
             "| pyannote / teer |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]

    def cell(r):
        if r is None:
            return "—"
        if "wall_s" not in r:
            return r.get("note", "—") or "—"
        return f"{r['wall_s']:.2f} s, {r['rss_mb']:.0f} MB"

    for name, rows in by_corpus.items():
        any_row = next(iter(rows.values()))
        t, s = rows.get("teer"), rows.get("spyder")
        ratio = (f"{t['wall_s'] / s['wall_s']:.2f}× time, {t['rss_mb'] / s['rss_mb']:.2f}× RSS"
                 if t and s and "wall_s" in t and "wall_s" in s else "—")
        slow = [rows[k]["wall_s"] / t["wall_s"] for k in ("pyannote-wu", "pyannote-seralign")
                if t and "wall_s" in t and k in rows and "wall_s" in rows[k]]
        speedup = f"{min(slow):.0f}–{max(slow):.0f}×" if slow else "—"
        label = "VoxConverse refs (448 files)" if name.startswith("vox") else \
            f"{any_row['files']:,} files × ~{round(any_row['n_ref'] / any_row['files'])}"
        lines.append(f"| {label} | {any_row['n_ref'] + any_row['n_hyp']:,} | {cell(t)} | {cell(s)} | "
                     f"{ratio} | {cell(rows.get('pyannote-wu'))} | {cell(rows.get('pyannote-seralign'))} "
                     f"| {speedup} |")
    return "\n".join(lines) + "\n"


def plot(report: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7, 5))
    styles = {"teer": ("C0", "o"), "spyder": ("C1", "s"), "pyannote-wu": ("C2", "^"),
              "pyannote-seralign": ("C3", "v")}
    for scorer, (color, marker) in styles.items():
        pts = sorted((r["n_ref"], r["wall_s"]) for r in report["results"]
                     if r["scorer"] == scorer and "wall_s" in r and not r["corpus"].startswith("vox"))
        if pts:
            x, y = zip(*pts)
            ax.plot(x, y, marker=marker, color=color, label=scorer)
        vox = [(r["n_ref"], r["wall_s"]) for r in report["results"]
               if r["scorer"] == scorer and "wall_s" in r and r["corpus"].startswith("vox")]
        for x, y in vox:
            ax.plot([x], [y], marker=marker, color=color, markerfacecolor="none", markersize=10,
                    linestyle="none")
    teer_pts = sorted((r["n_ref"], r["wall_s"]) for r in report["results"]
                      if r["scorer"] == "teer" and "wall_s" in r and not r["corpus"].startswith("vox"))
    if teer_pts:
        n1, t1 = teer_pts[-1]
        xs = np.logspace(np.log10(teer_pts[0][0]), np.log10(n1), 50)
        ax.plot(xs, t1 * xs * np.log(xs) / (n1 * np.log(n1)), ":", color="grey",
                label="n log n (through teer's largest)")
    ax.plot([], [], marker="o", color="k", markerfacecolor="none", linestyle="none",
            label="VoxConverse (real refs)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("segments per side")
    ax.set_ylabel("wall time, whole process (s)")
    ax.set_title(f"scoring time vs size ({report['machine']['cores']} cores, collar {report['collar']})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="vox,10k,100k,850k,10M",
                   help="segments per side, comma-separated (k, M suffixes; 'vox' = VoxConverse); "
                        "850k = 1,000 files x 850 segments (1.7 M RTTM lines)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scorers", default=",".join(SCORERS))
    p.add_argument("--collar", type=float, default=0.0)
    p.add_argument("--out", default=os.path.join(HERE, "results"))
    p.add_argument("--work", default=os.path.join(ROOT, "bench_out"),
                   help="where corpora are written (git-ignored; reused between runs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--per-file", type=int, default=corpus.SEGMENTS_PER_FILE,
                   help="reference segments per file (default 850)")
    p.add_argument("--pyannote-limit", type=float, default=600,
                   help="skip pyannote at sizes where it is estimated to take longer (s)")
    p.add_argument("--pyannote-once", type=float, default=60,
                   help="run pyannote only once where one run takes longer (s)")
    p.add_argument("--timeout", type=float, default=1800, help="kill any run after this (s)")
    p.add_argument("--jobs", type=int, default=1, help="teer's --jobs (default 1: one process)")
    p.add_argument("--teer-path", help="import teer from this directory (default: this checkout)")
    p.add_argument("--merge", action="store_true",
                   help="keep the rows of OUT/results.json that this run does not measure "
                        "(e.g. slow pyannote rows measured earlier)")
    p.add_argument("--render-only", action="store_true",
                   help="only redraw OUT/results.md and the plot from OUT/results.json")
    p.add_argument("--quick", action="store_true", help="tiny smoke run (seconds)")
    args = p.parse_args(argv)
    args.work = os.path.abspath(args.work)
    if args.teer_path:
        args.teer_path = os.path.abspath(args.teer_path)
    args.previous = []
    previous_path = os.path.join(args.out, "results.json")
    if args.merge and os.path.exists(previous_path):
        with open(previous_path) as f:
            old = json.load(f)
        args.previous = old["results"]
        args.previous_commands = [old["command"]] + old.get("previous_commands", [])
    if args.quick:
        args.sizes, args.repeats, args.per_file = "200,600", 1, 100
    os.makedirs(args.out, exist_ok=True)
    if args.render_only:
        with open(previous_path) as f:
            report = json.load(f)
    else:
        report = run(args)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(report, f, indent=1)
    md = markdown(report)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md)
    plot(report, os.path.join(args.out, "time_vs_size.png"))
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
