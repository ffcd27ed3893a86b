"""`proofsmith demo` (what `make demo` runs): the main job on the embedded default, Coq.

1. trace a bounded slice of Coq's standard library (cached under --cache; a rerun reuses it),
2. build the k-NN tactic index from its training split (cached),
3. use a trained model too when one is there (`--model`, or `<cache>/model` from `proofsmith train`),
4. distributed best-first search (Ray) over the bundled held-out benchmark `examples/bench`,
   every proof re-verified by coqc + axiom audit,
5. print the report's path and the pass rate.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from proofsmith.cli.errors import UsageError, generator_spec, output_dir, positive
from proofsmith.cli.options import add_search_limits, search_config
from proofsmith.cli.progress import JobProgress

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SLICE = ("Arith", "Lists", "Bool")
# The demo's budget per theorem: a short look at the job, not the full `THEOREM_TIMEOUT` of a benchmark run.
DEMO_THEOREM_TIMEOUT = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--bench", type=Path, default=REPO / "examples" / "bench", help="benchmark directory")
    p.add_argument("--cache", type=Path, default=Path("runs/demo"), help="traced data, index and results")
    p.add_argument("--slice", nargs="+", default=list(DEFAULT_SLICE), help="stdlib libraries to trace")
    p.add_argument(
        "--model", type=Path, default=None, help="a trained tactic model (default: <cache>/model if present)"
    )
    p.add_argument("--workers", type=int, default=2)
    add_search_limits(p, theorem_timeout=DEMO_THEOREM_TIMEOUT)


def trace_slice(libs: list[str], out: Path) -> Path:
    from proofsmith.envs.coq.build import discover
    from proofsmith.envs.coq.libraries import coqlib
    from proofsmith.envs.coq.trace import TraceOptions, trace_sources

    if (out / "random" / "train.json").is_file() and (out / "trace_stats.json").is_file():
        print(f"[1/4] traced slice cached at {out}")
        return out
    theories = Path(coqlib()) / "theories"
    trees = [discover(theories / lib, f"Coq.{lib}") for lib in libs]
    print(f"[1/4] tracing Coq.{{{','.join(libs)}}} into {out} (once; later runs reuse it)")
    stats = trace_sources(trees, out, TraceOptions())
    print(
        f"      {stats.get('theorems', '?')} theorems, {stats.get('traced_tactics', stats.get('tactics', '?'))} tactics"
    )
    return out


def knn_index(data: Path, out: Path) -> Path:
    from proofsmith.dataset.loading import read_split, tactic_pairs
    from proofsmith.prover.generators.knn import KNNTacticGenerator

    if (out / "knn.json").is_file():
        print(f"[2/4] k-NN index cached at {out}")
        return out
    t0 = time.monotonic()
    KNNTacticGenerator.from_pairs(tactic_pairs(read_split(data / "random" / "train.json"))).save(out)
    print(f"[2/4] k-NN index built in {time.monotonic() - t0:.1f}s at {out}")
    return out


def run(args: argparse.Namespace) -> int:
    from proofsmith.cli.prove import benchmark
    from proofsmith.prover.distributed import JobConfig, run_job
    from proofsmith.prover.report import summarize, write_report
    from proofsmith.prover.results import write_job_config

    # Everything is checked before the (long) tracing starts.
    positive(args.workers, "--workers")
    search = search_config(args, num_sampled_tactics=64)
    theorems = benchmark(args.bench, "--bench")
    cache: Path = output_dir(args.cache, "--cache")
    if not args.slice:
        raise UsageError("--slice: give at least one library of the standard library, e.g. Arith")
    model: str | None = None
    if args.model is not None:
        model = generator_spec(f"hf:{args.model}", "--model").removeprefix("hf:")
    elif (cache / "model").is_dir():
        model = str(cache / "model")

    t0 = time.monotonic()
    data = trace_slice(args.slice, cache / "data")
    index = knn_index(data, cache / "knn")
    generator = f"ensemble:auto+knn:{index}"
    if model is not None:
        generator += f"+hf:{model}"
        print(f"[3/4] using the trained model at {model}")
    else:
        print("[3/4] no trained model (train one with `proofsmith train`); generators: automation + k-NN")
    out = cache / f"results-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    print(
        f"[4/4] proving {len(theorems)} held-out theorems from {args.bench} with {args.workers} Ray workers, "
        f"{args.theorem_timeout:.0f}s each, generator {generator}"
    )
    progress = JobProgress(len(theorems))
    cfg = JobConfig(generator=generator, workers=args.workers, search=search)
    write_job_config(out, cfg.results_config())
    rows = run_job(theorems, out, cfg, on_result=progress)
    progress.close()
    report = write_report(rows, out.with_suffix(""), title="proofsmith demo")
    s = summarize(rows)
    print(
        f"proved {s.proved}/{s.valid} ({100 * s.pass_rate:.1f}%), every proof re-verified by coqc; "
        f"{time.monotonic() - t0:.0f}s in all"
    )
    print(f"results: {out}\nreport:  {report}")
    return 0
