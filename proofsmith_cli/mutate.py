"""`proofsmith mutate --dataset DIR --out DIR`: verified rewrite/apply mutants (see docs/mutation.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proofsmith.cli.errors import UsageError, output_dir, positive, regex, traced_dataset
from proofsmith.dataset.loading import split_files_text
from proofsmith.envs.base import ProverNotInstalledError
from proofsmith.envs.limits import MUTATION_TACTIC_TIMEOUT
from proofsmith.mutation.mutator import KINDS
from proofsmith.mutation.pipeline import PipelineOptions, run_mutate


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset", type=Path, required=True, help="a dataset written by `proofsmith trace` or `proofsmith corpus`"
    )
    p.add_argument("--out", type=Path, required=True, help="output directory (reused: finished chunks are skipped)")
    p.add_argument("--kinds", default=",".join(KINDS), help="mutation kinds, comma-separated: rw,apply")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes")
    p.add_argument("--max-targets", type=int, default=None, help="mutate only the first N traced theorems")
    p.add_argument("--filter", default=None, metavar="REGEX", help="only theorems whose full name matches")
    p.add_argument("--max-candidates", type=int, default=400, help="tactic attempts per theorem")
    p.add_argument("--max-mutants", type=int, default=200, help="mutants built per theorem")
    p.add_argument("--chunk-size", type=int, default=25, help="theorems per unit of work (and of resume)")
    p.add_argument(
        "--tactic-timeout",
        type=float,
        default=MUTATION_TACTIC_TIMEOUT,
        help="time limit of one rewrite/apply attempt, s (default %(default)s)",
    )
    p.add_argument("--no-resume", action="store_true", help="redo chunks that already have a result")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise UsageError(f"--kinds {args.kinds!r}: unknown kinds {bad}; choose from {','.join(KINDS)}")
    traced_dataset(args.dataset, "--dataset")
    output_dir(args.out, "--out")
    regex(args.filter, "--filter")
    for value, what in (
        (args.workers, "--workers"),
        (args.max_targets, "--max-targets"),
        (args.max_candidates, "--max-candidates"),
        (args.max_mutants, "--max-mutants"),
        (args.chunk_size, "--chunk-size"),
        (args.tactic_timeout, "--tactic-timeout"),
    ):
        positive(value, what)
    opts = PipelineOptions(
        kinds=kinds,
        workers=max(1, args.workers),
        chunk_size=max(1, args.chunk_size),
        max_targets=args.max_targets,
        target_filter=args.filter,
        max_candidates=args.max_candidates,
        max_mutants=args.max_mutants,
        tactic_timeout=args.tactic_timeout,
        resume=not args.no_resume,
        progress=not args.quiet,
    )
    try:
        stats = run_mutate(args.dataset, args.out, opts)
    except ProverNotInstalledError as e:
        print(f"error: {e}")
        return 2
    keys = (
        "targets",
        "candidates_proposed",
        "invocable",
        "mutants",
        "duplicates",
        "verified",
        "cpu_seconds",
        "cpu_seconds_per_verified",
        "amplification",
    )
    print(json.dumps({k: stats[k] for k in keys}, indent=1))
    print(
        f"wrote {args.out}/mutate_stats.json, {args.out}/mutants.jsonl, {args.out}/corpus.jsonl, "
        f"{split_files_text(args.out)}"
    )
    return 0 if not stats["chunk_errors"] else 1
