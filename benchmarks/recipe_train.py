"""One training epoch of the IEMOCAP recipe at real model size: samples/s, audio-seconds/s,
peak memory, GPU utilisation, for the fine-tuned model in fp32 and bf16, (with two GPUs)
torchrun with 2 processes, and the frozen protocol (weighted layers) without and with the
feature cache.

    python benchmarks/recipe_train.py --out bench_out/recipe_train            # on a GPU machine
    python benchmarks/recipe_train.py --tiny --modes fp32 --out /tmp/rt      # CPU smoke run (tests)

The encoders have the shapes of ``roberta-base`` and ``facebook/wav2vec2-base``
(``RobertaConfig()`` / ``Wav2Vec2Config()`` defaults, i.e. their published configs),
randomly initialised and written to OUT/models: nothing is downloaded. The corpus is
the recipe's synthetic IEMOCAP (``--dialogs-per-session`` x ``--utterances-per-dialog``
x 5 sessions, emotion cues in both streams), prepared and aligned by the recipe. Each
mode trains fold 1 for one epoch through the recipe's own ``train_fold`` (no
validation split, so the epoch is training only); the time is the epoch's, as
``metrics.jsonl`` records it. GPU utilisation is ``nvidia-smi`` sampled every 0.2 s
during the run (mean over samples and GPUs in use); peak memory is
``torch.cuda.max_memory_allocated`` per process (the largest rank's).
``--tiny`` uses the recipe's tiny smoke-test shapes instead (for CPU). ``frozen`` and
``frozen-cache`` freeze both encoders and read a weighted sum of their layers; with the
cache, ``setup (s)`` includes filling it (the encoders' one pass), and the epoch reads it.
On CPU, peak memory is the largest process's peak resident set size.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = ("fp32", "bf16", "ddp2", "frozen", "frozen-cache")


def make_data(out: Path, dialogs: int, utterances: int) -> Path:
    from recipes.iemocap.stages.align import align
    from recipes.iemocap.config import SMOKE_CONFIG, load_config, override
    from recipes.iemocap.stages.prepare import prepare
    from recipes.iemocap.tools.synthetic import make_corpus

    data = out / "data"
    if (data / "hyp_turns.json").is_file():
        return data
    make_corpus(out / "corpus", seed=0, dialogs_per_session=dialogs, utterances_per_dialog=utterances,
                cue="both", cue_strength=0.5)
    cfg = override(load_config(SMOKE_CONFIG), {"folds.valid_fraction": 0.0})
    prepare(out / "corpus", data, cfg, verbose=False)
    align(data, data, cfg, verbose=False)
    return data


def make_models(out: Path, data: Path, tiny: bool) -> dict:
    """Random encoders (real or tiny shapes) and a tokenizer, saved under ``out/models``."""
    from transformers import RobertaConfig, RobertaModel, Wav2Vec2Config, Wav2Vec2Model

    from recipes.iemocap.config import SMOKE_CONFIG, load_config
    from recipes.iemocap.lib.model import tiny_audio_config, tiny_text_config, write_tiny_tokenizer
    from recipes.iemocap.stages.prepare import load_utterances

    base = out / "models" / ("tiny" if tiny else "base")
    paths = {"tokenizer": str(base / "tokenizer"), "text": str(base / "text"), "audio": str(base / "audio")}
    if (base / "done").is_file():
        return paths
    import torch
    torch.manual_seed(0)
    smoke = load_config(SMOKE_CONFIG).model
    write_tiny_tokenizer([r.get("text") or "" for r in load_utterances(data)], base / "tokenizer",
                         smoke.text.tiny.vocab_size)
    text_cfg = tiny_text_config(smoke.text) if tiny else RobertaConfig(max_position_embeddings=514,
                                                                     type_vocab_size=1)
    RobertaModel(text_cfg, add_pooling_layer=False).save_pretrained(paths["text"])
    audio_cfg = tiny_audio_config(smoke.audio) if tiny else Wav2Vec2Config()
    Wav2Vec2Model(audio_cfg).save_pretrained(paths["audio"])
    (base / "done").write_text("ok\n")
    return paths


def config(paths: dict, precision: str, batch_size: int, tiny: bool, workers: int, device: str | None,
           mode: str = "fp32"):
    from recipes.iemocap.config import DEFAULT_CONFIG, SMOKE_CONFIG, load_config, override

    frozen = {"model.text.freeze": True, "model.audio.freeze": True, "model.text.layers": "weighted",
              "model.audio.layers": "weighted", "train.cache_features": mode == "frozen-cache"} \
        if mode.startswith("frozen") else {}
    return override(load_config(SMOKE_CONFIG if tiny else DEFAULT_CONFIG), {**frozen,
        "model.tokenizer": paths["tokenizer"], "model.text.pretrained": paths["text"],
        "model.audio.pretrained": paths["audio"], "train.folds": [1], "train.epochs": 1,
        "train.batch_size": batch_size, "train.grad_accum": 1, "train.precision": precision,
        "train.device": device or "auto", "train.num_workers": workers,
        "train.early_stopping.metric": "UA", "train.early_stopping.patience": 10})


def worker(args: argparse.Namespace) -> int:
    """One process's epoch (torchrun starts two of these for ddp2)."""
    import torch

    from recipes.iemocap.config import load_config
    from recipes.iemocap.lib.runtime import finish_distributed, setup_runtime
    from recipes.iemocap.stages.common import load_data
    from recipes.iemocap.stages.train import train_fold

    job = json.loads(Path(args.worker).read_text())
    cfg = load_config(job["config"])
    rt = setup_runtime(cfg.train)
    records, folds = load_data(job["data"])
    if rt.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(rt.device)
    t0 = time.time()
    train_fold(folds[0], records, cfg, job["run"], rt=rt, model_cfg=cfg.model, quiet=True)
    wall = time.time() - t0
    import resource

    peak = torch.cuda.max_memory_allocated(rt.device) / 2**30 if rt.device.type == "cuda" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    cut = cfg.model.audio.max_seconds or float("inf")
    by_id = {r["id"]: r for r in records}
    audio_s = sum(min(by_id[i]["end"] - by_id[i]["start"], cut) for i in folds[0]["train"])
    Path(job["run"], f"rank{rt.rank}.json").write_text(json.dumps(
        {"rank": rt.rank, "world": rt.world_size, "device": str(rt.device), "peak_gib": peak,
         "wall_s": wall, "n_train": len(folds[0]["train"]), "audio_s": audio_s}))
    finish_distributed()
    return 0


class GpuSampler:
    """``nvidia-smi`` utilisation of every GPU every ``period`` s, in a thread."""

    def __init__(self, period: float = 0.2):
        self.period, self.samples, self._stop = period, [], threading.Event()
        self.available = shutil.which("nvidia-smi") is not None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            try:
                res = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits"],
                                     capture_output=True, text=True, timeout=5)
                self.samples.append([float(x) for x in res.stdout.split()])
            except (OSError, ValueError, subprocess.SubprocessError):
                pass
            self._stop.wait(self.period)

    def __enter__(self):
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.available:
            self._thread.join()

    def mean(self, gpus: int) -> float | None:
        rows = [s[:gpus] for s in self.samples if len(s) >= gpus]
        return sum(map(sum, rows)) / (len(rows) * gpus) if rows else None


def run_mode(mode: str, args: argparse.Namespace, data: Path, paths: dict) -> dict:
    import torch

    precision = "bf16" if mode == "bf16" else "fp32"   # frozen modes: fp32 on CPU, as fp32
    procs = 2 if mode == "ddp2" else 1
    run = Path(args.out) / "runs" / mode
    shutil.rmtree(run, ignore_errors=True)
    run.mkdir(parents=True)
    import yaml

    from recipes.iemocap.config import as_dict

    cfg = config(paths, precision, args.batch_size, args.tiny, args.workers, args.device, mode)
    (run / "config.yaml").write_text(yaml.safe_dump(as_dict(cfg), sort_keys=False))
    (run / "job.json").write_text(json.dumps({"config": str(run / "config.yaml"), "data": str(data),
                                              "run": str(run)}))
    me = [sys.executable, str(Path(__file__).resolve()), "--worker", str(run / "job.json")]
    cmd = me if procs == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                 f"--nproc_per_node={procs}", *me[1:]]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with GpuSampler() as gpu:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{mode}: training failed (exit {res.returncode}):\n{res.stderr[-3000:]}")
    ranks = [json.loads(p.read_text()) for p in sorted(run.glob("rank*.json"))]
    epoch = json.loads((run / "fold1" / "metrics.jsonl").read_text().splitlines()[0])
    n = ranks[0]["n_train"]
    peaks = [r["peak_gib"] for r in ranks if r["peak_gib"] is not None]
    return {"mode": mode, "device": ranks[0]["device"] if procs == 1 else f"{procs} x {ranks[0]['device']}",
            "processes": procs, "precision": precision, "batch_size": args.batch_size,
            "utterances": n, "epoch_s": epoch["seconds"], "samples_per_s": n / epoch["seconds"],
            "audio_s_per_s": ranks[0]["audio_s"] / epoch["seconds"],
            "setup_s": max(r["wall_s"] for r in ranks) - epoch["seconds"],
            "peak_gpu_gib": max(peaks) if peaks and ranks[0]["device"].startswith("cuda") else None,
            "peak_rss_gib": max(peaks) if peaks and not ranks[0]["device"].startswith("cuda") else None,
            "gpu_util_pct": gpu.mean(procs) if torch.cuda.is_available() else None,
            "train_loss": epoch["train_loss"]}


def _f(x, fmt):
    return "–" if x is None else format(x, fmt)


def table(rows: list[dict], shapes: str) -> str:
    lines = [f"Model: {shapes}.", "",
             "| mode | device | precision | utterances | setup (s) | epoch (s) | samples/s | audio-s/s "
             "| peak GPU memory (GiB) | peak RSS (GiB) | GPU utilisation (%) |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['device']} | {r['precision']} | {r['utterances']} | "
                     f"{r['setup_s']:.1f} | {r['epoch_s']:.1f} | {r['samples_per_s']:.2f} | "
                     f"{r['audio_s_per_s']:.2f} | {_f(r['peak_gpu_gib'], '.2f')} | {_f(r['peak_rss_gib'], '.2f')} | "
                     f"{_f(r['gpu_util_pct'], '.0f')} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "recipe_train")
    parser.add_argument("--modes", nargs="+", choices=MODES,
                        help="default: fp32 bf16 frozen frozen-cache, and ddp2 with 2+ GPUs")
    parser.add_argument("--tiny", action="store_true", help="the smoke test's tiny shapes (CPU check)")
    parser.add_argument("--dialogs-per-session", type=int, default=8)
    parser.add_argument("--utterances-per-dialog", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="dataloader workers")
    parser.add_argument("--device", help="override train.device (default auto)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    import torch

    gpus = torch.cuda.device_count()
    modes = args.modes or [m for m in MODES if m != "ddp2" or gpus >= 2]
    if "ddp2" in modes and gpus < 2 and (args.device or "").startswith("cuda"):
        raise SystemExit("ddp2 on GPUs needs two of them")
    args.out.mkdir(parents=True, exist_ok=True)
    data = make_data(args.out, args.dialogs_per_session, args.utterances_per_dialog)
    paths = make_models(args.out, data, args.tiny)
    shapes = "tiny smoke-test shapes" if args.tiny else "roberta-base + wav2vec2-base shapes, random weights"
    rows = []
    for mode in modes:
        rows.append(run_mode(mode, args, data, paths))
        print(f"{mode}: {rows[-1]['samples_per_s']:.2f} samples/s", file=sys.stderr, flush=True)
    text = table(rows, shapes)
    print(text)
    (args.out / "results.json").write_text(json.dumps({"shapes": shapes, "torch": torch.__version__,
                                                       "gpus": [torch.cuda.get_device_name(i) for i in range(gpus)],
                                                       "rows": rows}, indent=1))
    (args.out / "results.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
