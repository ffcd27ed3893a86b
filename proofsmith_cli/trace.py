"""`proofsmith trace SRC... --out DIR`: Coq sources → LeanDojo-shaped dataset (see docs/tracing.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from proofsmith.cli.errors import output_dir, positive, regex, source_dir
from proofsmith.dataset.loading import split_files_text
from proofsmith.dataset.splits import DEFAULT_SEED
from proofsmith.envs.base import ProverNotInstalledError
from proofsmith.envs.coq.build import discover
from proofsmith.envs.coq.trace import TraceOptions, trace_sources
from proofsmith.envs.limits import SENTENCE_TIMEOUT


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "src",
        nargs="+",
        metavar="SRC[=LOGICAL]",
        help="a directory of .v files; its logical path comes from `=LOGICAL`, --logical, "
        "its _CoqProject, or the directory name",
    )
    p.add_argument("--out", type=Path, required=True, help="output directory (reused: finished files are skipped)")
    p.add_argument(
        "--logical",
        action="append",
        default=[],
        metavar="NAME",
        help="logical path of the SRC at the same position (repeatable)",
    )
    p.add_argument("--no-resume", action="store_true", help="re-trace files that already have an output")
    add_trace_options(p)
    p.add_argument("--filter", default=None, metavar="REGEX", help="only libraries whose name matches")
    p.add_argument("--max-files", type=int, default=None, help="only the N largest files (for quick subsets)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_trace_options(p: argparse.ArgumentParser, num_eval_help: str = "theorems in each of val and test") -> None:
    """What `trace` and `corpus` share: workers, the sentence limit, and how the splits are drawn."""
    p.add_argument("--workers", type=int, default=None, help="parallel coqidetop processes (default: CPU count)")
    p.add_argument(
        "--sentence-timeout",
        "--timeout",
        dest="sentence_timeout",
        type=float,
        default=SENTENCE_TIMEOUT,
        help="time limit of one sentence, s (default %(default)s)",
    )
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="split seed (LeanDojo's by default)")
    p.add_argument("--num-eval", type=int, default=None, help=f"{num_eval_help} (default: min(2000, 10%%))")


def run(args: argparse.Namespace) -> int:
    # Everything is checked before a prover starts and before anything is written.
    positive(args.sentence_timeout, "--sentence-timeout")
    positive(args.workers, "--workers")
    positive(args.num_eval, "--num-eval")
    positive(args.max_files, "--max-files")
    regex(args.filter, "--filter")
    output_dir(args.out, "--out")
    sources = []
    for k, spec in enumerate(args.src):
        path, _, logical = spec.partition("=")
        sources.append((source_dir(path, "SRC"), logical or (args.logical[k] if k < len(args.logical) else None)))
    trees = [discover(path, logical) for path, logical in sources]
    opts = TraceOptions(
        resume=not args.no_resume,
        progress=not args.quiet,
        call_timeout=args.sentence_timeout,
        seed=args.seed,
        num_eval=args.num_eval,
        file_filter=args.filter,
        max_files=args.max_files,
    )
    if args.workers:
        opts.workers = args.workers
    try:
        stats = trace_sources(trees, args.out, opts)
    except ProverNotInstalledError as e:
        print(f"error: {e}")
        return 2
    except RuntimeError as e:  # a project that does not compile
        print(f"error: {e}")
        return 1
    print(json.dumps({k: v for k, v in stats.items() if k != "splits"}, indent=1))
    print(f"wrote {args.out}/corpus.jsonl, {split_files_text(args.out)}, {args.out}/trace_stats.json")
    return 0 if stats["files_failed"] == 0 else 1
