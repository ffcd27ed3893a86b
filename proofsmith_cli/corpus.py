"""`proofsmith corpus --packages all --out DIR`: every Coq library package Debian ships, installed if
missing, traced package by package (resumable after a kill), merged into one dataset with the
`random`, `novel_premises` and `novel_packages` splits and a dataset card (see docs/corpus.md)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from proofsmith.cli.errors import UsageError, output_dir, positive
from proofsmith.cli.trace import add_trace_options
from proofsmith.dataset.card import NOT_SELECTED, ExcludedPackage
from proofsmith.dataset.loading import split_files_text
from proofsmith.dataset.packages import (
    DEFAULT_PACKAGE_LIST,
    PackageListError,
    install_line,
    install_packages,
    load_package_list,
    missing_packages,
    select_packages,
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--packages",
        default="all",
        metavar="all|PKG,PKG",
        help="which packages of the list: all included ones (default), or names (the libcoq- prefix is optional)",
    )
    p.add_argument("--out", type=Path, help="output directory (reused: finished packages and files are skipped)")
    p.add_argument(
        "--package-list",
        type=Path,
        default=DEFAULT_PACKAGE_LIST,
        help="the TOML list of packages, in or out and why (default: the one in the repository)",
    )
    p.add_argument("--list", action="store_true", help="print the package list and exit")
    add_trace_options(p, "theorems in val and test of random/novel_premises")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    # Everything is checked (and installed) before anything is written.
    positive(args.sentence_timeout, "--sentence-timeout")
    positive(args.workers, "--workers")
    positive(args.num_eval, "--num-eval")
    try:
        entries = load_package_list(args.package_list)
        if args.list:
            for e in entries:
                state = "in " if e.include else "out"
                flags = f"coq_flags: {' '.join(e.coq_flags)}" if e.coq_flags else ""
                print(f"{state} {e.name:36} {e.version:24} {e.reason or flags}".rstrip())
            return 0
        if args.out is None:
            raise UsageError("--out is required (where the corpus is written)")
        output_dir(args.out, "--out")
        chosen = select_packages(entries, args.packages)
    except PackageListError as e:
        raise UsageError(str(e)) from None
    missing = missing_packages(chosen)
    if missing:
        if os.geteuid() != 0:
            raise UsageError(f"missing Debian packages {' '.join(missing)}; install them with: {install_line(missing)}")
        try:
            install_packages(missing)
        except RuntimeError as e:
            print(f"error: {e}")
            return 1
    from proofsmith.envs.coq.corpus import CorpusOptions, build_corpus, discover_package

    try:
        sources = [discover_package(e) for e in chosen]
    except PackageListError as e:
        raise UsageError(str(e)) from None
    names = {e.name for e in chosen}
    excluded = [ExcludedPackage(e.name, e.version, e.reason) for e in entries if not e.include]
    excluded += [ExcludedPackage(e.name, e.version, NOT_SELECTED) for e in entries if e.include and e.name not in names]
    opts = CorpusOptions(
        progress=not args.quiet,
        call_timeout=args.sentence_timeout,
        seed=args.seed,
        num_eval=args.num_eval,
        excluded=excluded,
    )
    if args.workers:
        opts.workers = args.workers
    stats = build_corpus(sources, args.out, opts)
    print(json.dumps({k: v for k, v in stats.items() if k not in ("splits", "per_package")}, indent=1))
    print(
        f"wrote {args.out}/corpus.jsonl, {split_files_text(args.out)}, "
        f"{args.out}/DATASET.md, {args.out}/dataset_card.json, {args.out}/trace_stats.json"
    )
    return 0 if stats["files_failed"] == 0 else 1
