"""Learned portfolio policy benchmark: collect attempt logs with `auto` on half A, fit a
`PortfolioPolicy` on them, then compare `auto` with `rerank:POLICY:auto` on half B at the same budget.

    python scripts/bench_policy.py --bench examples/minif2f-rocq-valid --limit 40 \
        --theorem-timeout 10 --workers 2                      # the default, small run
    python scripts/bench_policy.py --bench examples/minif2f-rocq-valid --limit 0 \
        --theorem-timeout 20 --workers 2                      # every theorem of both halves

Halves are `prover.benchmark.benchmark_half` (a fixed hash of the theorem name): the policy never sees
a half-B theorem. (a) Collection: a normal resumable prove job with `auto` and
`SearchConfig(keep_tree=True)` on half A (runs/policy/collect_A_auto_t<T>.jsonl). (b) Fit:
runs/policy/model (policy.json + tfidf.json + arrays.npz). (c) Evaluation: both generators on half B,
trees kept (runs/policy/eval_B_*.jsonl; the reranked file is named after the policy's fingerprint, so
a refit policy does not resume another policy's results). Reported per generator: proved, seconds
spent in attempts that timed out, seconds in failed attempts, env calls; on the theorems both prove,
the mean time to proof and the time saved. Writes bench_results/bench_policy.{json,md,png}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from proofsmith.envs.limits import TACTIC_TIMEOUT
from proofsmith.prover.benchmark import BenchTheorem, benchmark_half, load_benchmark
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.generators.factory import check_spec
from proofsmith.prover.policy import PolicyConfig, PortfolioPolicy, read_attempts
from proofsmith.prover.report import summarize
from proofsmith.prover.results import read_results, write_job_config
from proofsmith.prover.search import SearchConfig
from proofsmith.prover.status import AttemptOutcome, is_timeout


def half(theorems: list[BenchTheorem], which: str, limit: int) -> list[BenchTheorem]:
    out = [t for t in theorems if benchmark_half(t.ref.name) == which]
    return out[:limit] if limit > 0 else out


def job(theorems: list[BenchTheorem], spec: str, out: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    cfg = JobConfig(
        generator=check_spec(spec),
        workers=args.workers,
        search=SearchConfig(
            num_sampled_tactics=args.num_tactics,
            theorem_timeout=args.theorem_timeout,
            tactic_timeout=min(TACTIC_TIMEOUT, args.theorem_timeout),
            keep_tree=True,
        ),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_job_config(out, cfg.results_config())
    t0 = time.monotonic()
    run_job(
        theorems, out, cfg, on_result=lambda r: print(f"  {r['theorem']}: {r['status']} {r.get('seconds', 0):.1f}s")
    )
    print(f"{spec}: {len(theorems)} theorems, {time.monotonic() - t0:.0f}s this run")
    keys = {t.key for t in theorems}
    return [r for r in read_results(out) if r.get("key") in keys]


def fingerprint(policy: PortfolioPolicy) -> str:
    h = hashlib.sha256(json.dumps([policy.tactics, policy.config.__dict__], sort_keys=True).encode())
    for k in sorted(policy.counts):
        h.update(np.ascontiguousarray(policy.counts[k]).tobytes())
    h.update(np.ascontiguousarray(policy.vectors).tobytes())
    return h.hexdigest()[:10]


def figures(rows: list[dict[str, Any]]) -> dict[str, Any]:
    s = summarize(rows)
    timeout_s = failed_s = 0.0
    timeouts = 0
    for r in rows:
        for a in (r.get("tree") or {}).get("attempts", []):
            secs = float(a.get("seconds") or 0.0)
            if a.get("outcome") not in (AttemptOutcome.PROOF, AttemptOutcome.STATE):
                failed_s += secs
            if is_timeout(a.get("outcome", ""), a.get("message", "")):
                timeout_s += secs
                timeouts += 1
    return {
        "proved": s.proved,
        "valid": s.valid,
        "pass_rate": round(s.pass_rate, 4),
        "timed_out_attempts": timeouts,
        "timed_out_seconds": round(timeout_s, 1),
        "failed_attempt_seconds": round(failed_s, 1),
        "env_calls": sum(int(r.get("env_calls") or 0) for r in rows),
        "theorem_seconds_total": round(sum(float(r.get("seconds") or 0.0) for r in rows), 1),
    }


def compare(auto: list[dict[str, Any]], reranked: list[dict[str, Any]]) -> dict[str, Any]:
    a = {r["key"]: r for r in auto if r.get("status") == "proved"}
    b = {r["key"]: r for r in reranked if r.get("status") == "proved"}
    both = sorted(set(a) & set(b))
    ta = [float(a[k]["seconds"]) for k in both]
    tb = [float(b[k]["seconds"]) for k in both]
    # tactic time to the proof (env_seconds): without loading the theorem and re-checking the proof,
    # which are the same work for both generators but vary with the machine's load
    ea = [float(a[k].get("env_seconds") or 0.0) for k in both]
    eb = [float(b[k].get("env_seconds") or 0.0) for k in both]
    return {
        "both_proved": len(both),
        "only_auto": sorted(a[k]["theorem"] for k in set(a) - set(b)),
        "only_reranked": sorted(b[k]["theorem"] for k in set(b) - set(a)),
        "mean_seconds_to_proof_auto": round(float(np.mean(ta)), 2) if both else None,
        "mean_seconds_to_proof_reranked": round(float(np.mean(tb)), 2) if both else None,
        "mean_seconds_saved": round(float(np.mean(ta) - np.mean(tb)), 2) if both else None,
        "mean_tactic_seconds_to_proof_auto": round(float(np.mean(ea)), 3) if both else None,
        "mean_tactic_seconds_to_proof_reranked": round(float(np.mean(eb)), 3) if both else None,
        "mean_env_calls_to_proof_auto": round(float(np.mean([a[k]["env_calls"] for k in both])), 1) if both else None,
        "mean_env_calls_to_proof_reranked": round(float(np.mean([b[k]["env_calls"] for k in both])), 1)
        if both
        else None,
        "per_theorem": [
            {
                "theorem": a[k]["theorem"],
                "auto": round(x, 2),
                "reranked": round(y, 2),
                "auto_tactic_seconds": round(ex, 3),
                "reranked_tactic_seconds": round(ey, 3),
                "auto_env_calls": a[k]["env_calls"],
                "reranked_env_calls": b[k]["env_calls"],
            }
            for k, x, y, ex, ey in zip(both, ta, tb, ea, eb)
        ],
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    names = ["auto", "reranked"]
    rows = [result["auto"], result["reranked"]]
    axes[0].bar(names, [r["proved"] for r in rows], color=["#888", "#2a7"])
    axes[0].set_title(f"proved / {rows[0]['valid']} valid (half {result['eval_half']})")
    x = np.arange(2)
    axes[1].bar(x - 0.2, [r["timed_out_seconds"] for r in rows], 0.4, label="timed-out attempts")
    axes[1].bar(x + 0.2, [r["failed_attempt_seconds"] for r in rows], 0.4, label="all failed attempts")
    axes[1].set_xticks(x, names)
    axes[1].set_ylabel("seconds")
    axes[1].set_title("time spent in failed tactics")
    axes[1].legend()
    per = result["comparison"]["per_theorem"]
    if per:
        axes[2].scatter([p["auto"] for p in per], [p["reranked"] for p in per])
        top = max(max(p["auto"], p["reranked"]) for p in per) * 1.1
        axes[2].plot([0, top], [0, top], "k--", lw=0.8)
    axes[2].set_xlabel("auto: seconds to proof")
    axes[2].set_ylabel("reranked: seconds to proof")
    axes[2].set_title("theorems both prove")
    fig.suptitle(
        f"Learned portfolio policy, {result['theorem_timeout']:.0f} s per theorem, {result['workers']} workers"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def markdown(result: dict[str, Any]) -> str:
    c = result["comparison"]
    lines = [
        "# Learned portfolio policy",
        "",
        f"Fit on {result['fit']['attempts']} attempts at {result['fit']['states']} states from "
        f"{result['collect']['theorems']} half-{result['collect_half']} theorems (`auto`, "
        f"{result['theorem_timeout']:.0f} s each); evaluated on {result['eval_theorems']} half-"
        f"{result['eval_half']} theorems at {result['theorem_timeout']:.0f} s, {result['workers']} workers.",
        "",
        "| generator | proved | timed-out attempts | s in timed-out attempts | s in failed attempts | env calls |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("auto", "reranked"):
        r = result[name]
        lines.append(
            f"| {name} | {r['proved']}/{r['valid']} | {r['timed_out_attempts']} | {r['timed_out_seconds']} | "
            f"{r['failed_attempt_seconds']} | {r['env_calls']} |"
        )
    lines += [
        "",
        f"Proved by both: {c['both_proved']}; mean seconds to proof auto {c['mean_seconds_to_proof_auto']}, "
        f"reranked {c['mean_seconds_to_proof_reranked']} (saved {c['mean_seconds_saved']} s; wall time, with loading "
        f"and re-checking); in tactics {c['mean_tactic_seconds_to_proof_auto']} vs "
        f"{c['mean_tactic_seconds_to_proof_reranked']} s, env calls {c['mean_env_calls_to_proof_auto']} vs "
        f"{c['mean_env_calls_to_proof_reranked']}. "
        f"Only auto: {', '.join(c['only_auto']) or '-'}. Only reranked: {', '.join(c['only_reranked']) or '-'}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", type=Path, default=Path("examples/minif2f-rocq-valid"))
    ap.add_argument("--limit", type=int, default=40, help="first N theorems of each half (0: all)")
    ap.add_argument("--theorem-timeout", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--num-tactics", type=int, default=64)
    ap.add_argument("--collect-half", choices=["A", "B"], default="A")
    ap.add_argument("--drop-below", type=float, default=None, help="override PolicyConfig.drop_below")
    ap.add_argument("--time-weight", type=float, default=None, help="override PolicyConfig.time_weight (λ)")
    ap.add_argument("--runs", type=Path, default=Path("runs/policy"))
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_policy.json"))
    args = ap.parse_args()

    eval_half = "B" if args.collect_half == "A" else "A"
    theorems = load_benchmark(args.bench)
    collect_set = half(theorems, args.collect_half, args.limit)
    eval_set = half(theorems, eval_half, args.limit)
    t = int(args.theorem_timeout)

    print(f"(a) collecting attempt logs: auto on {len(collect_set)} half-{args.collect_half} theorems")
    collect_file = args.runs / f"collect_{args.collect_half}_auto_t{t}.jsonl"
    collect_rows = job(collect_set, "auto", collect_file, args)

    print("(b) fitting the policy")
    overrides = {k: v for k, v in (("drop_below", args.drop_below), ("time_weight", args.time_weight)) if v is not None}
    records = read_attempts([collect_file])
    policy = PortfolioPolicy.fit(records, PolicyConfig(**overrides))
    model = policy.save(args.runs / "model")
    fp = fingerprint(policy)
    print(f"  {len(records)} attempts at {len(policy.vectors)} states, {len(policy.tactics)} tactics -> {model} ({fp})")

    print(f"(c) evaluating on {len(eval_set)} half-{eval_half} theorems")
    auto_rows = job(eval_set, "auto", args.runs / f"eval_{eval_half}_auto_t{t}.jsonl", args)
    rerank_rows = job(eval_set, f"rerank:{model}:auto", args.runs / f"eval_{eval_half}_rerank_{fp}_t{t}.jsonl", args)

    result = {
        "bench": str(args.bench),
        "collect_half": args.collect_half,
        "eval_half": eval_half,
        "limit": args.limit,
        "theorem_timeout": args.theorem_timeout,
        "workers": args.workers,
        "collect": {"theorems": len(collect_set), **figures(collect_rows)},
        "fit": {
            "attempts": len(records),
            "states": int(len(policy.vectors)),
            "tactics": len(policy.tactics),
            "config": policy.config.__dict__,
            "fingerprint": fp,
            "tactic_table": policy.tactic_table(),
        },
        "eval_theorems": len(eval_set),
        "auto": figures(auto_rows),
        "reranked": figures(rerank_rows),
        "comparison": compare(auto_rows, rerank_rows),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(result))
    plot(result, args.out.with_suffix(".png"))
    print(markdown(result))
    print(f"wrote {args.out}, {args.out.with_suffix('.md')}, {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
