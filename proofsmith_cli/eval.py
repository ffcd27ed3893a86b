"""`proofsmith eval --data DIR --split random/test`: prove a dataset split, print Pass@1 (ReProver's table)."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.errors import (
    UsageError,
    dataset_with_strategies,
    existing_dir,
    generator_spec,
    positive,
    results_config,
    traced_dataset,
)
from proofsmith.cli.options import add_premises, add_search_limits, premises_corpus, search_config
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES
from proofsmith.prover.benchmark import load_split, sample_theorems
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.generators.factory import split_leak
from proofsmith.prover.report import summarize, write_report
from proofsmith.prover.results import read_results, write_job_config


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, required=True, help="a traced dataset directory (proofsmith trace --out)")
    p.add_argument(
        "--split",
        default="random/test",
        help="STRATEGY/SPLIT, e.g. novel_premises/test, or novel_packages/test of a `proofsmith corpus` dataset",
    )
    p.add_argument("--root", type=Path, default=None, help="source root when the dataset's url is not a local path")
    p.add_argument("--load-path", action="append", default=[], metavar="DIR=NAME", help="Coq -R mapping; repeatable")
    p.add_argument("--generator", default="auto")
    p.add_argument("--workers", type=int, default=2)
    add_search_limits(p)
    p.add_argument("--num-tactics", type=int, default=64)
    add_premises(p)
    p.add_argument("--limit", type=int, default=None, help="only the first N theorems of the split")
    p.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="a fixed random sample of N theorems of the split (by a hash of each theorem and --seed), not the first N",
    )
    p.add_argument("--seed", type=int, default=0, help="the seed of --sample (default 0)")
    p.add_argument("--out", type=Path, required=True, help="results JSONL (resumable)")


def run(args: argparse.Namespace) -> int:
    # Everything is checked before Ray starts and before anything is written.
    positive(args.workers, "--workers")
    positive(args.limit, "--limit")
    positive(args.sample, "--sample")
    if args.sample is not None and args.limit is not None:
        raise UsageError("--sample and --limit: give one of them")
    strategy = args.split.partition("/")[0]
    if strategy in ALL_SPLIT_STRATEGIES:
        dataset_with_strategies(args.data, "--data", [strategy], "--split", need=(f"{args.split}.json",))
    else:
        traced_dataset(args.data, "--data", need=(f"{args.split}.json",))
    if args.root is not None:
        existing_dir(args.root, "--root")
    load_paths = []
    for x in args.load_path:
        d, sep, name = x.partition("=")
        if not sep or not name:
            raise UsageError(f"--load-path {x!r}: expected DIR=NAME")
        load_paths.append((d, name))
    generator = generator_spec(args.generator)
    if leak := split_leak(generator, args.split):
        raise UsageError(f"--generator {leak}")
    premises = premises_corpus(args.premises)
    cfg = JobConfig(
        generator=generator,
        premises=premises,
        workers=args.workers,
        search=search_config(args, num_sampled_tactics=args.num_tactics),
    )
    results_config(args.out, cfg.results_config())
    try:
        theorems = load_split(args.data, args.split, args.root, tuple(load_paths))[: args.limit]
        if args.sample is not None:
            theorems = sample_theorems(theorems, args.sample, args.seed)
    except ValueError as e:
        raise UsageError(f"--data {args.data}: {e}") from None
    if not theorems:
        raise UsageError(f"--data {args.data}: the {args.split} split holds no theorems")
    write_job_config(args.out, cfg.results_config())
    run_job(theorems, args.out, cfg)
    keys = {t.key for t in theorems}
    rows = [r for r in read_results(args.out) if r.get("key") in keys]
    s = summarize(rows)
    report = write_report(rows, args.out.parent / (args.out.stem + "_report"), title=f"eval {args.split}")
    print(
        f"| method | {args.split} Pass@1 |\n|---|---|\n| {args.generator} | {100 * s.pass_rate:.1f}% ({s.proved}/{s.valid}) |"
    )
    print(f"report: {report}")
    return 0
