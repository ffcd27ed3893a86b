"""`proofsmith prove BENCH --out results.jsonl`: distributed best-first search with a report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from proofsmith.cli.errors import (
    UsageError,
    existing_file,
    generator_spec,
    output_dir,
    positive,
    results_config,
    source_dir,
)
from proofsmith.cli.options import (
    add_premises,
    add_search_limits,
    add_whole_proof,
    openai_servers_answer,
    premises_corpus,
    search_config,
    whole_proof_options,
)
from proofsmith.cli.progress import JobProgress
from proofsmith.prover.benchmark import BenchTheorem, load_benchmark
from proofsmith.prover.built import FALLBACK_GENERATOR, load_built
from proofsmith.prover.distributed import TERMINATED, JobConfig, Terminated, run_job
from proofsmith.prover.report import summarize, write_report
from proofsmith.prover.results import ResultsLockedError, read_results, write_job_config

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("bench", type=Path, help="a directory of .v files (one theorem each) or a .v file")
    p.add_argument("--backend", default="coq", choices=["coq"], help="proof assistant (only Coq runs here)")
    p.add_argument(
        "--generator",
        default=None,
        help="auto | actions | knn:INDEX | hf:PATH | openai:MODEL@URL | ensemble:A+B "
        "(default: the prover `make prover` built, else auto)",
    )
    p.add_argument("--workers", type=int, default=2)
    add_search_limits(p)
    p.add_argument("--num-tactics", type=int, default=64, help="candidates per expansion")
    add_premises(p)
    add_whole_proof(p)
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


def benchmark(path: Path, what: str = "BENCH") -> list[BenchTheorem]:
    """The theorems of a benchmark directory or .v file; bad input raises `UsageError`."""
    if not path.exists():
        raise UsageError(f"{what} {path}: no such file or directory")
    if path.is_dir():
        source_dir(path, what, "*.v", recursive=False)
    else:
        existing_file(path, what, (".v",))
    try:
        theorems = load_benchmark(path)
    except ValueError as e:
        raise UsageError(f"{what}: {e}") from None
    if not theorems:
        raise UsageError(f"{what} {path}: no Theorem/Lemma/... in it")
    return theorems


def default_prover(generator: str | None, premises: Path | None) -> tuple[str, Path | None, str | None, str]:
    """The generator, premise corpus and search frontier to use: as given, else the built prover's, else
    `auto`; and a one-line note saying which default was taken (empty when --generator was given).
    The frontier is None unless the built prover names one (then `--frontier` still wins)."""
    if generator is not None:
        return generator, premises, None, ""
    built = load_built()
    if built is None:
        return (
            FALLBACK_GENERATOR,
            premises,
            None,
            f"note: no prover built (run `make prover`); using {FALLBACK_GENERATOR}",
        )
    if premises is None and built.premises:
        premises = Path(built.premises)
    note = f"note: using the prover built in {built.source.parent}: {built.generator} ({built.frontier} frontier)"
    return built.generator, premises, built.frontier, note


def run(args: argparse.Namespace) -> int:
    # Everything is checked before Ray starts and before anything is written.
    positive(args.workers, "--workers")
    positive(args.model_gpus, "--model-gpus", allow_zero=True)
    spec, premises_path, built_frontier, note = default_prover(args.generator, args.premises)
    search = search_config(
        args,
        num_sampled_tactics=args.num_tactics,
        max_expansions=args.max_expansions,
        frontier=args.frontier or built_frontier,
    )
    premises = premises_corpus(premises_path)
    spec = generator_spec(spec)
    mode, num_proofs, repair_rounds = whole_proof_options(args, spec)
    cfg = JobConfig(
        generator=spec,
        mode=mode,
        num_proofs=num_proofs,
        repair_rounds=repair_rounds,
        premises=premises,
        workers=args.workers,
        backend=args.backend,
        address=args.address,
        shared_generator=args.shared_model,
        generator_gpus=args.model_gpus,
        search=search,
    )
    if args.report_dir is not None:
        output_dir(args.report_dir, "--report-dir")
    results_config(args.out, cfg.results_config())
    theorems = benchmark(args.bench)
    openai_servers_answer(cfg.generator)
    for t in theorems:
        log.info("found %s in %s (%s)", t.ref.name, t.ref.file_path and t.ref.file_path.name, t.note)

    if note:
        print(note)
    before = {r.get("key") for r in read_results(args.out)}
    todo = sum(t.key not in before for t in theorems)
    progress = JobProgress(todo, show_each=True)

    try:
        write_job_config(args.out, cfg.results_config())  # the job starts: its configuration goes beside --out
        written = run_job(theorems, args.out, cfg, on_result=progress)
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
    unavailable = [r for r in written if r.get("generator_unavailable")]
    if unavailable:
        left = sum(t.key not in {r.get("key") for r in read_results(args.out)} for t in theorems)
        print(
            f"stopped: the generator is unavailable ({str(unavailable[0].get('message', ''))[:200]}); "
            f"{len(unavailable)} theorem(s) recorded as errors, {left} not started; "
            f"{args.out} holds every finished theorem; rerun the same command to resume"
        )
        return 5
    keys = {t.key for t in theorems}
    rows = [r for r in read_results(args.out) if r.get("key") in keys]
    report = write_report(rows, args.report_dir or args.out.parent / (args.out.stem + "_report"))
    s = summarize(rows)
    print(
        f"proved {s.proved}/{s.valid} ({100 * s.pass_rate:.1f}%), {len(s.invalid)} invalid statements; report: {report}"
    )
    return 0
