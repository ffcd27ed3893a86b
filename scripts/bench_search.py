"""Proof-search benchmark: proved count per generator at equal per-theorem budget, where the time
goes, and scaling with 1 vs 2 workers.

    python scripts/bench_search.py --bench examples/minif2f-rocq-valid \
        --generators auto knn:runs/knn ensemble:auto+knn:runs/knn --theorem-timeout 20 --workers 2

Each generator's run is a normal resumable prove job (runs/bench_search/<name>.jsonl), so an
interrupted benchmark continues where it stopped. Writes bench_results/bench_search.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from proofsmith.envs.limits import TACTIC_TIMEOUT
from proofsmith.prover.benchmark import load_benchmark
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.report import summarize
from proofsmith.prover.results import read_results
from proofsmith.prover.search import SearchConfig


def slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", spec).strip("_")


def run_one(theorems, spec: str, out: Path, workers: int, timeout: float, num: int) -> dict:
    cfg = JobConfig(
        generator=spec,
        workers=workers,
        search=SearchConfig(
            num_sampled_tactics=num, theorem_timeout=timeout, tactic_timeout=min(TACTIC_TIMEOUT, timeout)
        ),
    )
    t0 = time.monotonic()
    run_job(theorems, out, cfg)
    wall_now = time.monotonic() - t0
    keys = {t.key for t in theorems}
    rows = [r for r in read_results(out) if r.get("key") in keys]
    s = summarize(rows)
    spent = {
        k: round(sum(float(r.get(k, 0.0)) for r in rows), 1)
        for k in ("generate_seconds", "env_seconds", "verify_seconds", "seconds")
    }
    return {
        "generator": spec,
        "proved": s.proved,
        "valid": s.valid,
        "invalid": len(s.invalid),
        "errors": s.errors,
        "pass_rate": round(s.pass_rate, 4),
        "theorem_seconds_total": spent["seconds"],
        "generate_seconds": spent["generate_seconds"],
        "env_seconds": spent["env_seconds"],
        "verify_seconds": spent["verify_seconds"],
        "wall_seconds_this_run": round(wall_now, 1),
        "results": str(out),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, required=True)
    ap.add_argument("--generators", nargs="+", default=["auto"])
    ap.add_argument(
        "--theorem-timeout",
        "--timeout",
        dest="theorem_timeout",
        type=float,
        default=20.0,
        help="per-theorem budget (s)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--num-tactics", type=int, default=64)
    ap.add_argument("--limit", type=int, default=None, help="only the first N theorems")
    ap.add_argument("--scaling", type=int, default=0, help="also time 1 vs 2 workers on the first N theorems")
    ap.add_argument("--runs", type=Path, default=Path("runs/bench_search"))
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_search.json"))
    args = ap.parse_args()

    theorems = load_benchmark(args.bench)[: args.limit]
    rows = []
    for spec in args.generators:
        row = run_one(
            theorems,
            spec,
            args.runs / f"{slug(spec)}_t{int(args.theorem_timeout)}.jsonl",
            args.workers,
            args.theorem_timeout,
            args.num_tactics,
        )
        rows.append(row)
        print(json.dumps(row))
    scaling = []
    if args.scaling:
        subset = theorems[: args.scaling]
        for w in (1, 2):
            out = args.runs / f"scaling_w{w}_{int(time.time())}.jsonl"
            t0 = time.monotonic()
            run_job(
                subset,
                out,
                JobConfig(
                    generator=args.generators[0],
                    workers=w,
                    search=SearchConfig(num_sampled_tactics=args.num_tactics, theorem_timeout=args.theorem_timeout),
                ),
            )
            wall = time.monotonic() - t0
            scaling.append(
                {
                    "workers": w,
                    "theorems": len(subset),
                    "wall_seconds": round(wall, 1),
                    "theorems_per_hour": round(3600 * len(subset) / wall, 1),
                }
            )
        scaling[1]["efficiency"] = round(scaling[1]["theorems_per_hour"] / (2 * scaling[0]["theorems_per_hour"]), 3)
    result = {
        "bench": str(args.bench),
        "theorems": len(theorems),
        "timeout_per_theorem": args.theorem_timeout,
        "workers": args.workers,
        "rows": rows,
        "scaling": scaling,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    lines = [
        "| generator | proved / valid | invalid | time in theorems (s) | generate / env / verify (s) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['generator']} | {r['proved']}/{r['valid']} ({100 * r['pass_rate']:.1f}%) | {r['invalid']} | "
            f"{r['theorem_seconds_total']} | {r['generate_seconds']} / {r['env_seconds']} / {r['verify_seconds']} |"
        )
    for s in scaling:
        lines.append(
            f"\n{s['workers']} worker(s): {s['theorems']} theorems in {s['wall_seconds']}s = "
            f"{s['theorems_per_hour']} theorems/hour" + (f", efficiency {s['efficiency']}" if "efficiency" in s else "")
        )
    table = "\n".join(lines)
    args.out.with_suffix(".md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
