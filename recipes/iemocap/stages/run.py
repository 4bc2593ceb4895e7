"""``run``: prepare -> align -> train -> evaluate -> score from one config.

    python -m recipes.iemocap run --config recipes/iemocap/conf/default.yaml --set prepare.corpus=DIR --out DIR
    python -m recipes.iemocap run --smoke --out DIR

Layout of OUT: ``data/`` (prepare and align outputs), ``pretrained/`` (tiny
models, smoke only), ``fold{k}/`` (checkpoints, metrics, hypotheses),
``results.json`` and ``report.md``. ``--smoke`` generates a synthetic corpus
(``synthetic:``) in ``OUT/corpus`` (unless ``prepare.corpus`` is set) and uses ``conf/smoke.yaml``
(tiny random encoders built from configs, nothing downloaded), on CPU unless
told otherwise. ``--resume`` continues an interrupted training. Under
``torchrun`` every rank trains; rank 0 alone prepares, evaluates and scores.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from ..config import DEFAULT_CONFIG, SMOKE_CONFIG, add_config_arguments, load_config, override
from ..lib.io_utils import RecipeError, report_error


def run(config: str | Path | None, out: str | Path, *, smoke: bool = False, resume: bool = False,
        quiet: bool = False, overrides: Sequence[str] = ()) -> dict | None:
    """The whole chain; with ``run.seeds``, train, evaluate and score once per seed (``train.seed``)
    in ``OUT/seed{s}/`` on the same data (and feature cache, ``OUT/features``), and write
    ``OUT/results.json`` with each run's pooled figures and their mean and std over seeds."""
    from .align import align
    from .evaluate import evaluate
    from .prepare import prepare
    from .score import score
    from ..lib.runtime import setup_runtime
    from .train import train

    cfg = load_config(config or (SMOKE_CONFIG if smoke else DEFAULT_CONFIG), overrides)
    seeds = cfg.run.seeds
    out = Path(out)
    data = out / "data"
    rt = setup_runtime(cfg.train)
    timings = {}

    def stage(name):
        if rt.is_main and not quiet:
            print(f"== {name}", file=sys.stderr, flush=True)
        timings[name] = time.time()

    if rt.is_main:
        corpus = cfg.prepare.corpus
        if corpus is None and smoke:
            from ..tools.synthetic import CORPUS_DIR, make_corpus
            corpus = out / "corpus"
            if not (corpus / CORPUS_DIR).is_dir():
                stage("synthetic corpus")
                make_corpus(corpus, cfg.synthetic)
        if corpus is None:
            raise RecipeError(cfg.path, None, "no corpus: set prepare.corpus (--set prepare.corpus=DIR)")
        stage("prepare")
        prepare(corpus, data, cfg, verbose=not quiet)
        stage("align")
        align(data, data, cfg, verbose=not quiet)
    rt.barrier()
    runs = [(cfg, out)] if not seeds else \
        [(override(cfg, {"train.seed": s}), out / f"seed{s}") for s in seeds]
    results = []
    for run_cfg, exp in runs:
        stage(f"train{'' if exp == out else ' ' + exp.name}")
        train(run_cfg, data, exp, resume=resume, quiet=quiet, features=out / "features")
        if not rt.is_main:
            continue
        stage("evaluate")
        evaluate(run_cfg, data, exp, quiet=quiet)
        stage("score")
        results.append(score(run_cfg, data, exp, quiet=quiet))
    if not rt.is_main:
        return None
    if not seeds:
        return results[0]
    from ..lib.io_utils import atomic_write_json
    from ..lib.statistics import over_seeds

    combined = {"config": cfg.path, "labels": cfg.labels.names, "seeds": list(seeds),
                "runs": {str(s): {"dir": f"seed{s}", "pooled": r["pooled"]} for s, r in zip(seeds, results)},
                "summary": over_seeds(results)}
    atomic_write_json(out / "results.json", combined)
    if not quiet:
        s = combined["summary"]
        print(f"{len(seeds)} seeds: UA {s['UA']['mean']:.4f} ± {s['UA']['std']:.4f}, "
              f"WA {s['WA']['mean']:.4f} ± {s['WA']['std']:.4f}; wrote {out / 'results.json'}")
    return combined


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, f"YAML config laid over the defaults (default: {DEFAULT_CONFIG}; "
                                 f"with --smoke: {SMOKE_CONFIG})", default=None)
    parser.add_argument("--out", type=Path, required=True, help="experiment directory")
    parser.add_argument("--smoke", action="store_true",
                        help="a synthetic corpus in OUT/corpus and tiny random models, on CPU: checks that "
                             "the whole chain runs (nothing is downloaded)")
    parser.add_argument("--resume", action="store_true", help="continue training from OUT/fold*/last.pt")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary output; errors are still printed")


def main(args: argparse.Namespace) -> int:
    from ..lib.runtime import finish_distributed
    from .common import quiet_libraries

    if args.quiet:
        quiet_libraries()
    import teer

    try:
        run(args.config, args.out, smoke=args.smoke, resume=args.resume, quiet=args.quiet,
            overrides=args.overrides)
    except (RecipeError, teer.InputError) as err:
        return report_error(err)
    finally:
        finish_distributed()
    return 0
