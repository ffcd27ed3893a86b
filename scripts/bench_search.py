"""Proof-search benchmark: proved count per generator at equal per-theorem budgets, proofs of two
or more steps, time per proved theorem, where the time goes, and scaling with 1 vs 2 workers.

    python scripts/bench_search.py --bench examples/minif2f-rocq-valid --half B \
        --generators auto ensemble:auto+actions --theorem-timeout 20 60 --workers 2

`--half B` keeps the half of the benchmark that expert iteration and tuning never see
(`prover.benchmark.benchmark_half`, a fixed hash of the theorem name). Every proof counted was
re-verified (coqc + axiom audit) by the search before it was recorded.

A traced dataset split instead of a benchmark directory (issue 16's table on unseen packages: a fixed
random sample, by a hash of each theorem and --seed, as `proofsmith eval --sample`):

    python scripts/bench_search.py --data runs/data/coq-debian --split novel_packages/test --sample 300 \
        --generators auto knn:runs/knn_np --theorem-timeout 60 --workers 2 --out bench_results/bench_novel_packages.json
 Each (generator, budget) run
is a normal resumable prove job (runs/bench_search/<name>.jsonl), so an interrupted benchmark
continues where it stopped. Writes bench_results/bench_search.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from proofsmith.envs.coq.libraries import library_name
from proofsmith.envs.limits import TACTIC_TIMEOUT
from proofsmith.prover.benchmark import benchmark_half, load_benchmark, load_split, sample_theorems
from proofsmith.prover.distributed import JobConfig, run_job
from proofsmith.prover.generators.factory import split_leak
from proofsmith.prover.report import summarize
from proofsmith.prover.results import read_results
from proofsmith.prover.search import Frontier, SearchConfig


def slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", spec).strip("_")


def is_auto_closer(proof: list[str]) -> bool:
    """A proof that is one of `auto`'s closers alone (`lra.`, `intros; nra.`): what the portfolio
    found before the action space; anything else took a step or a hint `auto` does not propose."""
    from proofsmith.prover.generators.automation import DEFAULT_CLOSERS

    closers = {c for c in DEFAULT_CLOSERS} | {f"intros; {c}" for c in DEFAULT_CLOSERS}
    return len(proof) == 1 and proof[0].strip().rstrip(".").strip() in closers


INTROS = re.compile(r"^intros?(?: [\w' ]*)?\.?$")


def steps_besides_intros(proof: list[str]) -> int:
    """Steps of a proof other than a bare `intros` (`['intros.', 'nra.']` is one step of work)."""
    return sum(not INTROS.match(t.strip()) for t in proof)


def run_one(
    theorems,
    spec: str,
    out: Path,
    workers: int,
    timeout: float,
    num: int,
    premises: str | None = None,
    frontier: Frontier = SearchConfig.frontier,
    timeout_penalty: float = SearchConfig.timeout_penalty,
) -> dict:
    cfg = JobConfig(
        generator=spec,
        workers=workers,
        premises=premises,
        search=SearchConfig(
            num_sampled_tactics=num,
            theorem_timeout=timeout,
            tactic_timeout=min(TACTIC_TIMEOUT, timeout),
            frontier=frontier,
            timeout_penalty=timeout_penalty,
        ),
    )
    t0 = time.monotonic()
    run_job(theorems, out, cfg)
    wall_now = time.monotonic() - t0
    keys = {t.key for t in theorems}
    rows = [r for r in read_results(out) if r.get("key") in keys]
    s = summarize(rows)
    roots = {t.key: library_root(t) for t in theorems}
    by_root: dict[str, list[int]] = {}
    for r in rows:
        counts = by_root.setdefault(roots[r["key"]], [0, 0])
        counts[0] += r.get("status") == "proved"
        counts[1] += 1
    proved = [r for r in rows if r.get("status") == "proved"]
    multi_step = sum(len(r.get("proof") or []) >= 2 for r in proved)
    multi_step_work = sum(steps_besides_intros(r.get("proof") or []) >= 2 for r in proved)
    beyond = sum(not is_auto_closer(r.get("proof") or []) for r in proved)
    spent = {
        k: round(sum(float(r.get(k, 0.0)) for r in rows), 1)
        for k in ("generate_seconds", "env_seconds", "verify_seconds", "seconds")
    }
    return {
        "generator": spec,
        "theorem_timeout": timeout,
        "premises": premises,
        "num_tactics": num,
        "frontier": Frontier(frontier).value,
        "timeout_penalty": timeout_penalty,
        "proved": s.proved,
        "multi_step_proofs": multi_step,
        "multi_step_besides_intros": multi_step_work,
        "beyond_auto_proofs": beyond,
        "seconds_per_proved": round(sum(float(r.get("seconds", 0.0)) for r in proved) / len(proved), 2)
        if proved
        else None,
        "valid": s.valid,
        "invalid": len(s.invalid),
        "errors": s.errors,
        "pass_rate": round(s.pass_rate, 4),
        "theorem_seconds_total": spent["seconds"],
        "generate_seconds": spent["generate_seconds"],
        "env_seconds": spent["env_seconds"],
        "verify_seconds": spent["verify_seconds"],
        "wall_seconds_this_run": round(wall_now, 1),
        "proved_by_library": {k: f"{a}/{b}" for k, (a, b) in sorted(by_root.items())},
        "results": str(out),
    }


def library_root(theorem) -> str:
    """The first part of a theorem's logical library name (`Coqprime`, `RelationAlgebra`, `Coq`), or its
    directory for a file outside Coq's load paths (a benchmark)."""
    name = library_name(theorem.ref.file_path, theorem.ref.load_paths)
    return name.partition(".")[0] if name else Path(theorem.ref.file_path).parent.name


def row_key(row: dict) -> tuple:
    """What identifies a row: rows measured before a setting existed had its default."""
    return (
        row["generator"],
        row["theorem_timeout"],
        row.get("premises"),
        row.get("num_tactics", 64),
        row.get("frontier", Frontier.NODE.value),
        row.get("timeout_penalty", 0.0),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--bench", type=Path, help="a benchmark directory of .v files")
    source.add_argument("--data", type=Path, help="a traced dataset directory (with --split)")
    ap.add_argument("--split", default=None, help="STRATEGY/SPLIT of --data, e.g. novel_packages/test")
    ap.add_argument("--sample", type=int, default=None, help="a fixed random sample of N theorems of --split")
    ap.add_argument("--seed", type=int, default=0, help="the seed of --sample")
    ap.add_argument("--generators", nargs="+", default=["auto"])
    ap.add_argument(
        "--theorem-timeout",
        "--timeout",
        dest="theorem_timeouts",
        type=float,
        nargs="+",
        default=[20.0],
        help="per-theorem budgets (s); each generator runs at each",
    )
    ap.add_argument("--half", choices=["A", "B", "all"], default="all", help="benchmark half (see module doc)")
    ap.add_argument("--premises", default=None, help="premise corpus for retrieval inside search (prove --premises)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--num-tactics", type=int, default=64)
    ap.add_argument("--frontier", choices=[f.value for f in Frontier], default=SearchConfig.frontier.value)
    ap.add_argument(
        "--timeout-penalty",
        type=float,
        default=SearchConfig.timeout_penalty,
        help="log-probability off a tactic that timed out on the state or an ancestor (0: off)",
    )
    ap.add_argument("--limit", type=int, default=None, help="only the first N theorems")
    ap.add_argument("--scaling", type=int, default=0, help="also time 1 vs 2 workers on the first N theorems")
    ap.add_argument("--runs", type=Path, default=Path("runs/bench_search"))
    ap.add_argument("--out", type=Path, default=Path("bench_results/bench_search.json"))
    ap.add_argument(
        "--merge",
        action="store_true",
        help="keep the rows already in --out (same benchmark, half and theorems) that this run does not redo",
    )
    args = ap.parse_args()
    if args.data is not None:
        if not args.split:
            ap.error("--data needs --split")
        if args.half != "all":
            ap.error("--half splits a --bench directory; a dataset has its own splits")
        for spec in args.generators:
            if leak := split_leak(spec, args.split):
                ap.error(leak)
        theorems = load_split(args.data, args.split)
        if args.sample:
            theorems = sample_theorems(theorems, args.sample, args.seed)
        bench = f"{args.data}:{args.split}" + (f" (sample {args.sample}, seed {args.seed})" if args.sample else "")
        prefix = re.sub(r"\W+", "_", args.split) + (f"_s{args.sample}" if args.sample else "") + "_"
    else:
        if args.split or args.sample:
            ap.error("--split and --sample need --data")
        theorems = [
            t for t in load_benchmark(args.bench) if args.half == "all" or benchmark_half(t.ref.name) == args.half
        ]
        bench, prefix = str(args.bench), ""
    theorems = theorems[: args.limit]
    rows = []
    for timeout in args.theorem_timeouts:
        for spec in args.generators:
            name = prefix + f"{slug(spec)}_t{int(timeout)}" + (f"_{args.half}" if args.half != "all" else "")
            if args.premises:
                name += "_prem"
            if args.num_tactics != 64:
                name += f"_k{args.num_tactics}"
            if args.frontier != Frontier.NODE.value:
                name += f"_{args.frontier}"
            if args.timeout_penalty:  # runs before the penalty existed have no suffix: they ran without it
                name += f"_tp{args.timeout_penalty:g}"
            row = run_one(
                theorems,
                spec,
                args.runs / f"{name}.jsonl",
                args.workers,
                timeout,
                args.num_tactics,
                args.premises,
                Frontier(args.frontier),
                args.timeout_penalty,
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
                    search=SearchConfig(num_sampled_tactics=args.num_tactics, theorem_timeout=args.theorem_timeouts[0]),
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
    if args.merge and args.out.is_file():
        old = json.loads(args.out.read_text())
        if (old.get("bench"), old.get("half"), old.get("theorems")) != (bench, args.half, len(theorems)):
            raise SystemExit(f"--merge: {args.out} measured another benchmark, half or theorem count")
        redone = {row_key(r) for r in rows}
        rows = [r for r in old["rows"] if row_key(r) not in redone] + rows
    result = {
        "bench": bench,
        "half": args.half,
        "theorems": len(theorems),
        "theorem_timeouts": sorted({r["theorem_timeout"] for r in rows}),
        "workers": args.workers,
        "rows": rows,
        "scaling": scaling,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    lines = [
        f"{len(theorems)} theorems ({bench}"
        + (f", half {args.half}" if args.data is None else "")
        + f"), {args.workers} workers, every proof re-verified",
        "",
        "| generator | premises | frontier / k / timeout penalty | budget (s) | proved / valid | >= 2 steps (besides intros) | beyond auto "
        "| s per proved | invalid "
        "| time in theorems (s) | generate / env / verify (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['generator']}` | {'yes' if r.get('premises') else 'no'} "
            f"| {r.get('frontier', 'node')} / {r.get('num_tactics', 64)} / {r.get('timeout_penalty', 0.0):g} "
            f"| {r['theorem_timeout']:g} | {r['proved']}/{r['valid']} ({100 * r['pass_rate']:.1f}%) "
            f"| {r['multi_step_proofs']} ({r.get('multi_step_besides_intros', '-')}) | {r.get('beyond_auto_proofs', '-')} | {r['seconds_per_proved']} "
            f"| {r['invalid']} | {r['theorem_seconds_total']} "
            f"| {r['generate_seconds']} / {r['env_seconds']} / {r['verify_seconds']} |"
        )
    if any(len(r.get("proved_by_library", {})) > 1 for r in rows):
        lines += ["", "Proved by library:", ""]
        lines += [
            f"- `{r['generator']}` at {r['theorem_timeout']:g} s: "
            + ", ".join(f"{k} {v}" for k, v in r["proved_by_library"].items())
            for r in rows
            if r.get("proved_by_library")
        ]
    for s in scaling:
        lines.append(
            f"\n{s['workers']} worker(s): {s['theorems']} theorems in {s['wall_seconds']}s = "
            f"{s['theorems_per_hour']} theorems/hour" + (f", efficiency {s['efficiency']}" if "efficiency" in s else "")
        )
    table = "\n".join(lines)
    args.out.with_suffix(".md").write_text(table + "\n")
    plot(rows, args.out.with_suffix(".png"))
    print(table)


def row_label(row: dict) -> str:
    """A short label for a row's configuration: generator (paths cut to their last part), premises,
    frontier and candidates per expansion when not the defaults."""
    gen = re.sub(r"(?:[\w.-]+/)+([\w.-]+)", r"\1", row["generator"])
    extras = [
        "+premises" if row.get("premises") else "",
        f"{row['frontier']} frontier" if row.get("frontier", "node") != "node" else "",
        f"k={row['num_tactics']}" if row.get("num_tactics", 64) != 64 else "",
        f"tp={row['timeout_penalty']:g}" if row.get("timeout_penalty") else "",
    ]
    label = " ".join([gen, *filter(None, extras)])
    return label if len(label) < 48 else label[:45] + "..."


def plot(rows: list[dict], path: Path) -> None:
    """Proved theorems per generator, one bar group per budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = sorted({r["theorem_timeout"] for r in rows})
    specs = list(dict.fromkeys(row_label(r) for r in rows))
    fig, ax = plt.subplots(figsize=(max(5, 1.6 * len(specs) * len(budgets)), 3.5))
    width = 0.8 / max(1, len(budgets))
    for j, b in enumerate(budgets):
        by_spec = {row_label(r): r for r in rows if r["theorem_timeout"] == b}
        xs = [i + j * width for i in range(len(specs))]
        ax.bar(xs, [by_spec[s]["proved"] if s in by_spec else 0 for s in specs], width, label=f"{b:g} s")
        ax.bar(
            xs,
            [by_spec[s]["multi_step_proofs"] if s in by_spec else 0 for s in specs],
            width,
            fill=False,
            hatch="//",
        )
    ax.set_xticks([i + width * (len(budgets) - 1) / 2 for i in range(len(specs))])
    ax.set_xticklabels(specs, rotation=15, fontsize=7)
    ax.set_ylabel("theorems proved (hatched: >= 2 steps)")
    ax.legend(title="budget per theorem")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
