"""Benchmark of `proofsmith mutate` on a fixed slice of the Coq standard library.

Slice: the theorems of `Coq.Arith.*` and `Coq.Lists.*` (traced with `proofsmith trace`), in the
dataset's order (by file, then position), capped at `--max-targets` so that a run fits a small
machine. Reports amplification (verified mutants per target) and CPU seconds per verified mutant
beside Alchemy's published figures.

    .venv/bin/python scripts/bench_mutation.py --work bench_results/mutation --max-targets 120 --workers 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proofsmith.envs.coq.build import discover
from proofsmith.envs.coq.libraries import coqlib
from proofsmith.envs.coq.trace import TraceOptions, trace_sources
from proofsmith.mutation.pipeline import ALCHEMY, PipelineOptions, run_mutate

SLICE = r"^Coq\.(Arith|Lists)\."


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("bench_results/mutation"))
    ap.add_argument("--dataset", type=Path, default=None, help="an existing trace of the slice (else traced here)")
    ap.add_argument("--max-targets", type=int, default=120)
    ap.add_argument("--max-candidates", type=int, default=400)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_mutation.json"))
    args = ap.parse_args()
    dataset = args.dataset or args.work / "stdlib_slice"
    if args.dataset is None:
        tree = discover(Path(coqlib()) / "theories", "Coq")
        trace_sources([tree], dataset, TraceOptions(workers=args.workers, file_filter=SLICE, progress=False))
    out = args.work / "mutants"
    t0 = time.monotonic()
    stats = run_mutate(
        dataset,
        out,
        PipelineOptions(
            workers=args.workers, max_targets=args.max_targets, max_candidates=args.max_candidates, progress=False
        ),
    )
    alchemy_amp = {k: round(v["verified"] / v["targets"], 1) for k, v in ALCHEMY.items() if isinstance(v, dict)}
    report = {
        "slice": f"{SLICE} (Coq {subprocess.check_output(['coqc', '--print-version'], text=True).split()[0]}), "
        f"first {args.max_targets} traced theorems in dataset order",
        "command": " ".join(sys.argv),
        "ours": {
            k: stats[k]
            for k in (
                "targets",
                "candidates_proposed",
                "invocable",
                "mutants",
                "duplicates",
                "verified",
                "cpu_seconds",
                "cpu_seconds_per_verified",
                "amplification",
                "invocable_rate",
                "verified_per_candidate",
                "by_kind",
                "by_rule",
            )
        },
        "alchemy": {
            "amplification": alchemy_amp,
            "candidate_success": {"rewrite": 0.56, "apply": 0.37},
            "core_seconds_per_verified": ALCHEMY["core_seconds_per_verified"],
        },
        "goals": {
            "amplification >= 20": stats["amplification"] >= 20,
            "cpu_seconds_per_verified <= 1": (stats["cpu_seconds_per_verified"] or 1e9) <= 1,
        },
        "wall_seconds": round(time.monotonic() - t0, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
