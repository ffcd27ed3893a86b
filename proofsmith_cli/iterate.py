"""`proofsmith iterate POOL --out DIR`: expert iteration (prove, harvest, rebuild k-NN, [train], [mutate])."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from proofsmith.cli.errors import (
    UsageError,
    dataset_with_strategies,
    existing_dir,
    generator_spec,
    output_dir,
    positive,
    traced_dataset,
)
from proofsmith.cli.options import add_search_limits, search_config
from proofsmith.cli.progress import JobProgress
from proofsmith.dataset.splits import ALL_SPLIT_STRATEGIES, NOVEL_PACKAGES, SPLIT_NAMES
from proofsmith.envs.limits import ITERATE_THEOREM_TIMEOUT
from proofsmith.prover.distributed import TERMINATED, Terminated
from proofsmith.prover.results import ResultsLockedError

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("pool", type=Path, help="a benchmark directory of .v files (the training pool)")
    p.add_argument("--out", type=Path, required=True, help="output directory (reused: a rerun resumes)")
    p.add_argument("--rounds", type=int, default=2, help="expert-iteration rounds (default %(default)s)")
    p.add_argument("--generator", default="auto", help="round-0 generator: auto | knn:DIR | hf:DIR | ensemble:A+B")
    p.add_argument(
        "--base-data",
        type=Path,
        default=None,
        help="a traced dataset whose train split (of the --library-split strategy, else random) seeds the k-NN",
    )
    p.add_argument(
        "--library-split",
        default=None,
        metavar="STRATEGY/PART",
        help=f"also prove this split of --base-data: {'|'.join(ALL_SPLIT_STRATEGIES)} ({NOVEL_PACKAGES}: a "
        f"`proofsmith corpus` dataset) / {'|'.join(SPLIT_NAMES)}, e.g. random/train",
    )
    p.add_argument("--max-library", type=int, default=None, help="at most N library theorems")
    p.add_argument("--workers", type=int, default=2)
    add_search_limits(p, theorem_timeout=ITERATE_THEOREM_TIMEOUT)
    p.add_argument("--num-tactics", type=int, default=64, help="candidates per expansion")
    p.add_argument("--half", default="A", choices=["A", "B", "all"], help="which half of the pool (default A)")
    p.add_argument("--train-model", action="store_true", help="continue LoRA training on the harvest each round")
    p.add_argument("--train-steps", type=int, default=200, help="LoRA steps per round (default %(default)s)")
    p.add_argument("--mutate", action="store_true", help="verified mutants of the proofs found join the pool")
    p.add_argument("--mutate-max-targets", type=int, default=50, help="proofs mutated per round")
    p.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS or a local Ray)")


class _RoundProgress:
    """One progress bar per round's search; a line per stage."""

    def __init__(self) -> None:
        self.bar: JobProgress | None = None

    def stage(self, r: int, name: str, pool: int) -> None:
        self.close()
        if name == "search":
            print(f"round {r}: proving {pool} theorem(s)", flush=True)
            self.bar = JobProgress(pool)
        else:
            print(f"round {r}: {name}", flush=True)

    def result(self, row: dict[str, Any]) -> None:
        if self.bar is not None:
            self.bar(row)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def table(stats: list[dict[str, Any]]) -> str:
    cols = ("round", "pool", "proved", "new", "total", ">=2 steps", "steps", "mutants", "seconds")
    lines = ["  ".join(f"{c:>9}" for c in cols)]
    for s in stats:
        vals = (
            s["round"],
            s["pool"],
            s["proved"],
            s["new_proofs"],
            f"{s['proved_total']}/{s['base_pool']}",
            s["multi_step_proofs"],
            s["harvested_steps"],
            s["mutants_verified"],
            round(sum(s["seconds"].values()), 1),
        )
        lines.append("  ".join(f"{v!s:>9}" for v in vals))
    return "\n".join(lines)


def library_split_strategy(split: str) -> str:
    """The strategy of `--library-split STRATEGY/PART`, both parts named as `dataset/splits.py` names them."""
    strategy, _, part = split.partition("/")
    if strategy not in ALL_SPLIT_STRATEGIES or part not in SPLIT_NAMES:
        raise UsageError(
            f"--library-split {split}: expected STRATEGY/PART with STRATEGY one of {', '.join(ALL_SPLIT_STRATEGIES)} "
            f"and PART one of {', '.join(SPLIT_NAMES)} (e.g. random/train)"
        )
    return strategy


def run(args: argparse.Namespace) -> int:
    from proofsmith.cli.prove import benchmark
    from proofsmith.prover.iterate import IterateConfig, run_iterate

    # Everything is checked before Ray starts and before anything is written.
    for value, what in (
        (args.rounds, "--rounds"),
        (args.workers, "--workers"),
        (args.train_steps, "--train-steps"),
        (args.max_library, "--max-library"),
        (args.mutate_max_targets, "--mutate-max-targets"),
    ):
        positive(value, what)
    search = search_config(args, num_sampled_tactics=args.num_tactics)
    spec = generator_spec(args.generator)
    if args.library_split is not None:
        if args.base_data is None:
            raise UsageError("--library-split needs --base-data")
        strategy = library_split_strategy(args.library_split)
        # a strategy the dataset lacks (`novel_packages` of a `proofsmith trace` dataset): one line, exit 2
        dataset_with_strategies(
            args.base_data,
            "--base-data",
            [strategy],
            "--library-split",
            need=(f"{strategy}/train.json", f"{args.library_split}.json"),
        )
    elif args.base_data is not None:
        traced_dataset(args.base_data, "--base-data", need=("random/train.json",))
    existing_dir(args.pool, "POOL_DIR")
    output_dir(args.out, "--out")
    theorems = benchmark(args.pool, "POOL_DIR")
    if args.half != "all":
        from proofsmith.prover.benchmark import benchmark_half

        if not any(benchmark_half(t.ref.name) == args.half for t in theorems):
            raise UsageError(f"POOL_DIR {args.pool}: no theorem in half {args.half}")
    cfg = IterateConfig(
        pool=args.pool.resolve(),
        base_data=args.base_data.resolve() if args.base_data else None,
        generator=spec,
        rounds=args.rounds,
        search=search,
        workers=args.workers,
        half=args.half,
        library_split=args.library_split,
        max_library=args.max_library,
        train_model=args.train_model,
        train_steps=args.train_steps,
        mutate=args.mutate,
        mutate_max_targets=args.mutate_max_targets,
        address=args.address,
    )
    progress = _RoundProgress()
    try:
        stats = run_iterate(cfg, args.out, on_result=progress.result, on_stage=progress.stage)
    except ResultsLockedError as e:
        print(f"error: {e}")
        return 3
    except KeyboardInterrupt as e:
        print(f"\ninterrupted: {args.out} keeps every finished stage; rerun the same command to resume")
        return 143 if isinstance(e, Terminated) or TERMINATED.is_set() else 130
    finally:
        progress.close()
    print(table(stats))
    print(f"wrote {args.out}/rounds.json and {args.out}/proved_vs_round.png")
    return 0
