"""`proofsmith prove BENCH --out results.jsonl`: distributed best-first search with a report."""

from __future__ import annotations

import argparse
from pathlib import Path

from proofsmith.cli.progress import JobProgress
from proofsmith.prover.benchmark import load_benchmark
from proofsmith.prover.distributed import TERMINATED, JobConfig, Terminated, run_job
from proofsmith.prover.report import summarize, write_report
from proofsmith.prover.results import ResultsLockedError, read_results
from proofsmith.prover.search import SearchConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bench", type=Path, help="a directory of .v files (one theorem each) or a .v file")
    p.add_argument("--backend", default="coq", choices=["coq"], help="proof assistant (only Coq runs here)")
    p.add_argument("--generator", default="auto", help="auto | knn:INDEX | hf:PATH | ensemble:A+B")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=600.0, help="wall-clock budget per theorem (s)")
    p.add_argument("--tactic-timeout", type=float, default=5.0)
    p.add_argument("--num-tactics", type=int, default=64, help="candidates per expansion")
    p.add_argument("--max-expansions", type=int, default=None)
    p.add_argument("--out", type=Path, required=True, help="results JSONL (appended; a rerun resumes)")
    p.add_argument(
        "--report-dir", type=Path, default=None, help="where report.md and the plot go (default: beside --out)"
    )
    p.add_argument(
        "--shared-model",
        action="store_true",
        help="one generator actor batching requests from all workers (GPU), instead of one per worker",
    )
    p.add_argument("--model-gpus", type=float, default=0.0, help="GPUs for the shared generator actor")
    p.add_argument("--address", default=None, help="Ray cluster address (default: $RAY_ADDRESS or a local Ray)")


def run(args: argparse.Namespace) -> int:
    theorems = load_benchmark(args.bench)
    if not theorems:
        print(f"error: no theorems found in {args.bench}")
        return 2
    for t in theorems:
        print(f"found {t.ref.name} in {t.ref.file_path.name} ({t.note})")
    cfg = JobConfig(
        generator=args.generator,
        workers=args.workers,
        backend=args.backend,
        address=args.address,
        shared_generator=args.shared_model,
        generator_gpus=args.model_gpus,
        search=SearchConfig(
            num_sampled_tactics=args.num_tactics,
            timeout=args.timeout,
            max_expansions=args.max_expansions,
            tactic_timeout=args.tactic_timeout,
        ),
    )
    before = {r.get("key") for r in read_results(args.out)}
    todo = sum(t.key not in before for t in theorems)
    progress = JobProgress(todo, show_each=True)

    try:
        run_job(theorems, args.out, cfg, on_result=progress)
    except ResultsLockedError as e:
        print(f"error: {e}")
        return 3
    except KeyboardInterrupt as e:
        print(f"\ninterrupted: {args.out} holds every finished theorem; rerun the same command to resume")
        return 143 if isinstance(e, Terminated) or TERMINATED.is_set() else 130
    except OSError as e:  # output directory read-only, disk full: whole lines only were written
        print(f"error: cannot write results to {args.out}: {e}")
        return 4
    finally:
        progress.close()
    keys = {t.key for t in theorems}
    rows = [r for r in read_results(args.out) if r.get("key") in keys]
    report = write_report(rows, args.report_dir or args.out.parent / (args.out.stem + "_report"))
    s = summarize(rows)
    print(
        f"proved {s.proved}/{s.valid} ({100 * s.pass_rate:.1f}%), {len(s.invalid)} invalid statements; report: {report}"
    )
    return 0
