"""Benchmark: trace Coq's stdlib + MathComp ssreflect end to end; wall time, sentences/s, peak RSS.

    .venv/bin/python scripts/bench_trace.py --out bench_results/bench_trace.json [--data DIR] [--filter REGEX]

Writes the figures to a JSON file and prints them. `--filter` measures a subset (say so when reporting).
`--corpus all` (or `PKG,PKG`) measures `proofsmith corpus --packages ...` instead: the Debian packages of the
package list, traced package by package and merged, from nothing into --data (`make bench-trace-corpus`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import threading
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from proofsmith.dataset.loading import load_dataset_dict
from proofsmith.dataset.packages import (
    DEFAULT_PACKAGE_LIST,
    PackageListError,
    install_line,
    load_package_list,
    missing_packages,
    select_packages,
)
from proofsmith.envs.coq.build import SourceTree, discover
from proofsmith.envs.coq.corpus import CorpusOptions, PackageSources, build_corpus, discover_package
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.trace import TraceOptions, trace_sources


class TreeRss:
    """Samples the summed RSS of this process and all its descendants (workers + coqidetops), and
    the machine's load (other jobs on the machine slow the wall time down; say so when reporting)."""

    def __init__(self, every: float = 0.5):
        self.every, self.peak, self._stop = every, 0, threading.Event()
        self.loads: list[float] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for p in [me] + me.children(recursive=True):
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self.loads.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.thread.join()


def corpus_sources(packages: str) -> list[PackageSources]:
    """The installed packages `proofsmith corpus --packages` would trace (none is installed here)."""
    try:
        chosen = select_packages(load_package_list(DEFAULT_PACKAGE_LIST), packages)
    except PackageListError as e:
        raise SystemExit(f"error: {e}") from None
    missing = missing_packages(chosen)
    if missing:
        raise SystemExit(f"error: missing Debian packages {' '.join(missing)}: {install_line(missing)}")
    return [discover_package(e) for e in chosen]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_trace.json"))
    ap.add_argument("--data", type=Path, default=Path("bench_results/trace_data"), help="dataset output directory")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--filter", default=None, help="only libraries matching this regex (a subset)")
    ap.add_argument("--keep", action="store_true", help="resume into an existing --data instead of starting fresh")
    ap.add_argument("--corpus", default=None, metavar="all|PKG,PKG", help="measure `proofsmith corpus --packages`")
    args = ap.parse_args()
    sources = corpus_sources(args.corpus) if args.corpus else None  # a bad package name fails before any work
    if args.data.exists() and not args.keep:
        shutil.rmtree(args.data)
    t0 = time.monotonic()
    with TreeRss() as rss:
        if sources is not None:
            copts = CorpusOptions(progress=sys.stderr.isatty(), workers=args.workers)
            stats = build_corpus(sources, args.data, copts)
        else:
            trees: list[SourceTree] = [
                discover(Path(coqlib()) / "theories", "Coq"),
                discover(Path(coqlib()) / "user-contrib" / "mathcomp" / "ssreflect", "mathcomp.ssreflect"),
            ]
            opts = TraceOptions(workers=args.workers, progress=sys.stderr.isatty(), file_filter=args.filter)
            stats = trace_sources(trees, args.data, opts)
    wall = time.monotonic() - t0
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime  # workers and their coqidetops (all waited for by now)
    t1 = time.monotonic()
    dd = load_dataset_dict(args.data, "novel_packages" if sources is not None else "random")
    load_s = time.monotonic() - t1
    figures = {
        "machine": {
            "cpus": os.cpu_count(),
            "workers": args.workers,
            "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        },
        "subset": args.filter,
        "corpus_packages": args.corpus,
        "wall_seconds": round(wall, 1),
        "sentences_per_second": round(stats["sentences"] / wall, 1),
        "proof_sentences_per_second": round(stats["proof_sentences"] / wall, 1),
        "cpu_seconds": round(cpu, 1),
        "cpu_bound_wall_estimate_seconds": round(cpu / args.workers, 1),
        "mean_load_average": round(sum(rss.loads) / max(1, len(rss.loads)), 2),
        "peak_rss_tree_mb": round(rss.peak / 1024**2),
        "peak_rss_largest_process_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "datasets_load_seconds": round(load_s, 2),
        "datasets_rows": {k: len(v) for k, v in dd.items()},
        "stats": stats,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(figures, indent=1))
    print(json.dumps({k: v for k, v in figures.items() if k != "stats"}, indent=1))
    s = stats
    print(
        f"files {s['files']} ({s['files_failed']} failed), theorems {s['theorems']}, traced {s['traced_theorems']}, "
        f"tactics {s['traced_tactics']}, sentences {s['sentences']}, failures {s['failures_by_reason']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
